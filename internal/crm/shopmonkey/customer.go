package shopmonkey

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// GetCustomer fetches a customer with every phone and email. ShopMonkey keeps
// phones and emails as separate records, and whether a customer read embeds
// them is unverified: embedded phoneNumbers/emails arrays are used when they
// hold something, otherwise the customer's phone_number and email lists are
// fetched. Phone numbers are returned as ShopMonkey wrote them
// ("(312) 201-3344"); lead.NewLead normalises them.
//
// The customer's state and country are its Address, as written ("TX",
// "Texas"; "US", "USA"); lead.NewLead reads them. The v3 customer keeps
// its address at the top level (address1, address2, city, state,
// postalCode, country, each an optional string); only state and country
// are read. Unverified: the CRM reference we work from (crm.md) does not
// list a customer's address fields.
func (a *Adapter) GetCustomer(ctx context.Context, customerID string) (lead.Customer, error) {
	raw, err := crm.UnescapeID(customerID)
	if err != nil {
		return lead.Customer{}, fmt.Errorf("error fetching customer %s: %w", customerID, crm.ErrNotFound)
	}
	path := "/v3/customer/" + url.PathEscape(raw)
	env, err := a.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return lead.Customer{}, fmt.Errorf("error fetching customer %s: %w", customerID, err)
	}

	d := newRecordDecoder("customer", env.Data)
	c := lead.Customer{
		ExternalID:       d.id("id"),
		FirstName:        d.text("firstName"),
		LastName:         d.text("lastName"),
		CompanyName:      d.text("companyName"),
		MarketingOptIn:   d.boolean("marketingOptIn"),
		PreferredContact: d.text("preferredContactMethod"),
		Address:          d.address(),
	}
	locations := d.textList("locationIds")
	phones, _ := d.objects("phoneNumbers")
	emails, _ := d.objects("emails")
	for i, raw := range phones {
		item := d.object("phoneNumbers["+strconv.Itoa(i)+"]", raw)
		c.Phones = append(c.Phones, decodePhone(item))
		d.merge(item)
	}
	for i, raw := range emails {
		item := d.object("emails["+strconv.Itoa(i)+"]", raw)
		c.Emails = append(c.Emails, decodeEmail(item))
		d.merge(item)
	}
	if err := d.problem(); err != nil {
		return lead.Customer{}, fmt.Errorf("error fetching customer %s: %w", customerID, err)
	}
	c.Cleaned = d.cleaned
	if len(locations) > 0 && !slices.Contains(locations, a.locationID) {
		return lead.Customer{}, fmt.Errorf("error fetching customer %s: not a customer of this location: %w", customerID, crm.ErrNotFound)
	}

	if len(phones) == 0 {
		rows, _, err := a.list(ctx, path+"/phone_number", nil, 0)
		if err != nil {
			return lead.Customer{}, fmt.Errorf("error fetching phone numbers of customer %s: %w", customerID, err)
		}
		for i, raw := range rows {
			pd := newRecordDecoder("phone number", raw)
			pd.path = "customer.phoneNumbers[" + strconv.Itoa(i) + "]."
			p := decodePhone(pd)
			if err := pd.problem(); err != nil {
				return lead.Customer{}, fmt.Errorf("error fetching phone numbers of customer %s: %w", customerID, err)
			}
			c.Phones = append(c.Phones, p)
			c.Cleaned = append(c.Cleaned, pd.cleaned...)
		}
	}
	if len(emails) == 0 {
		rows, _, err := a.list(ctx, path+"/email", nil, 0)
		if err != nil {
			return lead.Customer{}, fmt.Errorf("error fetching emails of customer %s: %w", customerID, err)
		}
		for i, raw := range rows {
			ed := newRecordDecoder("email", raw)
			ed.path = "customer.emails[" + strconv.Itoa(i) + "]."
			e := decodeEmail(ed)
			if err := ed.problem(); err != nil {
				return lead.Customer{}, fmt.Errorf("error fetching emails of customer %s: %w", customerID, err)
			}
			c.Emails = append(c.Emails, e)
			c.Cleaned = append(c.Cleaned, ed.cleaned...)
		}
	}
	return c, nil
}

// decodePhone reads a phone record; d may be nil when the embedded item was
// not an object (its parent decoder has the error).
func decodePhone(d *recordDecoder) lead.CustomerPhone {
	if d == nil {
		return lead.CustomerPhone{}
	}
	return lead.CustomerPhone{
		Number:  d.text("number"),
		Type:    d.text("type"),
		Primary: d.boolean("primary"),
		OptIn:   d.boolean("optIn"),
		// The field's path says which phone record it was.
		OptInEvidence: d.evidence("optIn"),
	}
}

// decodeEmail reads an email record; d may be nil as for decodePhone.
func decodeEmail(d *recordDecoder) lead.CustomerEmail {
	if d == nil {
		return lead.CustomerEmail{}
	}
	return lead.CustomerEmail{
		Address:            d.text("email"),
		Primary:            d.boolean("primary"),
		Subscribed:         d.boolean("subscribed"),
		SubscribedEvidence: d.evidence("subscribed"),
	}
}

// GetVehicle fetches a vehicle. year may come as a number or a numeric
// string; anything else is a *crm.InvalidRecordError on "year".
func (a *Adapter) GetVehicle(ctx context.Context, vehicleID string) (lead.Vehicle, error) {
	raw, err := crm.UnescapeID(vehicleID)
	if err != nil {
		return lead.Vehicle{}, fmt.Errorf("error fetching vehicle %s: %w", vehicleID, crm.ErrNotFound)
	}
	env, err := a.do(ctx, http.MethodGet, "/v3/vehicle/"+url.PathEscape(raw), nil, nil)
	if err != nil {
		return lead.Vehicle{}, fmt.Errorf("error fetching vehicle %s: %w", vehicleID, err)
	}
	d := newRecordDecoder("vehicle", env.Data)
	v := lead.Vehicle{
		ExternalID:   d.id("id"),
		Year:         int(d.integer("year")),
		Make:         d.text("make"),
		Model:        d.text("model"),
		Submodel:     d.text("submodel"),
		VIN:          d.text("vin"),
		LicensePlate: d.text("licensePlate"),
	}
	if err := d.problem(); err != nil {
		return lead.Vehicle{}, fmt.Errorf("error fetching vehicle %s: %w", vehicleID, err)
	}
	v.Cleaned = d.cleaned
	return v, nil
}

// address reads the customer's state and country. Unlike the other text
// fields, one of the wrong type does not make the customer a bad record:
// the address only says where the customer is, and the lead is kept
// without it (lead.CustomerAddress.Problem names the field).
func (d *recordDecoder) address() lead.CustomerAddress {
	var a lead.CustomerAddress
	for _, f := range []struct {
		name string
		to   *string
	}{{"state", &a.State}, {"country", &a.Country}} {
		v := d.value(f.name)
		if v == nil {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return lead.CustomerAddress{Problem: &lead.ValidationError{Field: d.path + f.name, Reason: "is not a string: " + crmhttp.ExcerptJSON(v)}}
		}
		clean, ok := lead.CleanText(s)
		if !ok {
			d.cleaned = append(d.cleaned, d.path+f.name)
		}
		*f.to = clean
	}
	return a
}
