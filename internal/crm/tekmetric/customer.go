package tekmetric

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// customerTypeBusiness is customerType.id of a business customer, whose
// firstName is the business and whose contact person has fields of its own.
const customerTypeBusiness = 2

// GetCustomer fetches a customer with their phones and email.
//
// okForMarketing is the only consent flag Tekmetric has, so it is the
// customer's MarketingOptIn and also every phone's OptIn and the email's
// Subscribed: a customer the shop did not mark OK for marketing gets no
// automated text or email. Phone numbers are returned as Tekmetric wrote
// them ("111-111-1111"); lead.NewLead normalises them.
//
// The address's state is the customer's Address.State, as written ("TX",
// "Texas"); lead.NewLead reads it. Tekmetric's shops are in the US and
// Canada and its address has no country, so Address.Country stays empty.
func (c *Client) GetCustomer(ctx context.Context, customerID string) (lead.Customer, error) {
	id, err := parseID(customerID)
	if err != nil {
		return lead.Customer{}, fmt.Errorf("error fetching customer %q: %w", customerID, err)
	}
	fail := func(err error) (lead.Customer, error) {
		return lead.Customer{}, fmt.Errorf("error fetching customer %d for shop %d: %w", id, c.shopID, err)
	}
	raw, err := c.do(ctx, http.MethodGet, "/api/v1/customers/"+strconv.FormatInt(id, 10), nil, nil)
	if err != nil {
		return fail(err)
	}
	type phone struct {
		Number  string `json:"number"`
		Type    string `json:"type"`
		Primary bool   `json:"primary"`
	}
	var v struct {
		ID               int64           `json:"id"`
		ShopID           int64           `json:"shopId"`
		FirstName        string          `json:"firstName"`
		LastName         string          `json:"lastName"`
		ContactFirstName string          `json:"contactFirstName"`
		ContactLastName  string          `json:"contactLastName"`
		Email            json.RawMessage `json:"email"`
		Phone            []phone         `json:"phone"`
		// Phones: how a customer is written; a read has "phone". Either goes.
		Phones         []phone `json:"phones"`
		OKForMarketing *bool   `json:"okForMarketing"`
		CustomerType   *struct {
			ID int64 `json:"id"`
		} `json:"customerType"`
		DeletedDate string          `json:"deletedDate"`
		Address     json.RawMessage `json:"address"` // tekmetricAddress
	}
	chk := decodeRecord("customer", raw, &v)
	emails := decodeEmails(chk, v.Email)
	deleted := !chk.time("deletedDate", v.DeletedDate, c.location, false).IsZero()
	if err := chk.problem(); err != nil {
		return fail(err)
	}
	switch {
	case v.ShopID != 0 && v.ShopID != c.shopID:
		return fail(fmt.Errorf("it is a customer of shop %d: %w", v.ShopID, crm.ErrNotFound))
	case deleted:
		return fail(fmt.Errorf("it is deleted: %w", crm.ErrNotFound))
	}

	consent := v.OKForMarketing != nil && *v.OKForMarketing
	// Every channel's evidence is the one flag.
	evidence := lead.ConsentEvidence{Field: "customer.okForMarketing", Value: lead.ConsentValueAbsent}
	if v.OKForMarketing != nil {
		evidence.Value = strconv.FormatBool(*v.OKForMarketing)
	}
	cust := lead.Customer{
		ExternalID:     strconv.FormatInt(v.ID, 10),
		FirstName:      chk.text("firstName", v.FirstName),
		LastName:       chk.text("lastName", v.LastName),
		MarketingOptIn: consent,
	}
	cust.Address = tekmetricAddress(chk, v.Address)
	if v.CustomerType != nil && v.CustomerType.ID == customerTypeBusiness {
		cust.CompanyName = strings.TrimSpace(cust.FirstName + " " + cust.LastName)
		cust.FirstName = chk.text("contactFirstName", v.ContactFirstName)
		cust.LastName = chk.text("contactLastName", v.ContactLastName)
	}
	phones, field := v.Phone, "phone"
	if len(phones) == 0 {
		phones, field = v.Phones, "phones"
	}
	for i, p := range phones {
		at := field + "[" + strconv.Itoa(i) + "]."
		cust.Phones = append(cust.Phones, lead.CustomerPhone{Number: chk.text(at+"number", p.Number), Type: chk.text(at+"type", p.Type), Primary: p.Primary, OptIn: consent, OptInEvidence: evidence})
	}
	for i, e := range emails {
		cust.Emails = append(cust.Emails, lead.CustomerEmail{Address: chk.text("email", e), Primary: i == 0, Subscribed: consent, SubscribedEvidence: evidence})
	}
	cust.Cleaned = chk.cleaned
	return cust, nil
}

// decodeEmails reads a customer's email: a string on read, as documented,
// or an array of strings, as customers are written. Empty entries are
// dropped.
func decodeEmails(chk *recordCheck, raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []string
	if raw[0] == '"' {
		var one string
		if err := json.Unmarshal(raw, &one); err == nil {
			list = []string{one}
		}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		list = nil
	}
	if list == nil {
		chk.fail("email", "is not a string or an array of strings")
		return nil
	}
	var out []string
	for _, e := range list {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// GetVehicle fetches a vehicle. Tekmetric writes year as an integer but
// takes it as a string on update, so a numeric string is accepted too.
func (c *Client) GetVehicle(ctx context.Context, vehicleID string) (lead.Vehicle, error) {
	id, err := parseID(vehicleID)
	if err != nil {
		return lead.Vehicle{}, fmt.Errorf("error fetching vehicle %q: %w", vehicleID, err)
	}
	raw, err := c.do(ctx, http.MethodGet, "/api/v1/vehicles/"+strconv.FormatInt(id, 10), nil, nil)
	if err != nil {
		return lead.Vehicle{}, fmt.Errorf("error fetching vehicle %d for shop %d: %w", id, c.shopID, err)
	}
	var v struct {
		ID           int64           `json:"id"`
		Year         json.RawMessage `json:"year"`
		Make         string          `json:"make"`
		Model        string          `json:"model"`
		SubModel     string          `json:"subModel"`
		VIN          string          `json:"vin"`
		LicensePlate string          `json:"licensePlate"`
	}
	chk := decodeRecord("vehicle", raw, &v)
	year := decodeYear(chk, v.Year)
	if err := chk.problem(); err != nil {
		return lead.Vehicle{}, fmt.Errorf("error fetching vehicle %d for shop %d: %w", id, c.shopID, err)
	}
	veh := lead.Vehicle{
		ExternalID:   strconv.FormatInt(v.ID, 10),
		Year:         year,
		Make:         chk.text("make", v.Make),
		Model:        chk.text("model", v.Model),
		Submodel:     chk.text("subModel", v.SubModel),
		VIN:          chk.text("vin", v.VIN),
		LicensePlate: chk.text("licensePlate", v.LicensePlate),
	}
	veh.Cleaned = chk.cleaned
	return veh, nil
}

// decodeYear reads an optional year written as a number or a numeric
// string.
func decodeYear(chk *recordCheck, raw json.RawMessage) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			text = "?"
		}
		if text = strings.TrimSpace(text); text == "" {
			return 0
		}
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 0 {
		chk.fail("year", "is not a year: "+string(raw))
		return 0
	}
	return n
}

// parseID reads a Tekmetric id as the orchestrator passes it around. Ids
// are positive integers, so anything else cannot name a record.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("not a Tekmetric id: %w", crm.ErrNotFound)
	}
	return id, nil
}

// tekmetricAddress reads the state of a customer's address, the object
// {id, address1, address2, city, state, zip, streetAddress, fullAddress}
// or null for a customer without one (unverified: the CRM reference we
// work from, crm.md, does not list a customer's address, and no real
// account's customer has been seen with one). An
// address of the wrong shape (a string, a state that is a number) does
// not make the customer a bad record: the address only says where the
// customer is, and the lead is kept without it
// (lead.CustomerAddress.Problem names the field).
func tekmetricAddress(chk *recordCheck, raw json.RawMessage) lead.CustomerAddress {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return lead.CustomerAddress{}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return lead.CustomerAddress{Problem: &lead.ValidationError{Field: chk.path + "address", Reason: "is not an object: " + crmhttp.ExcerptJSON(raw)}}
	}
	state := bytes.TrimSpace(obj["state"])
	if len(state) == 0 || string(state) == "null" {
		return lead.CustomerAddress{}
	}
	var s string
	if err := json.Unmarshal(state, &s); err != nil {
		return lead.CustomerAddress{Problem: &lead.ValidationError{Field: chk.path + "address.state", Reason: "is not a string: " + crmhttp.ExcerptJSON(state)}}
	}
	return lead.CustomerAddress{State: chk.text("address.state", s)}
}
