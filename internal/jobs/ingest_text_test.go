package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// badText is one way a CRM's text breaks Postgres: a NUL (sent as \u0000,
// refused in text with 22021 and in jsonb with 22P05) or a byte that is
// not UTF-8 (the fakes send a raw 0xFF for fake.InvalidUTF8).
type badText struct{ name, bytes string }

var badTexts = []badText{{"NUL", "\x00"}, {"InvalidUTF8", fake.InvalidUTF8}}

// spoil puts bad in the middle of an ASCII value.
func spoil(value string, bad badText) string {
	mid := len(value) / 2
	return value[:mid] + bad.bytes + value[mid:]
}

// textLead is one planted lead of the table: which field holds bad text,
// where its customer should be reached, and what must be recorded.
type textLead struct {
	name       string
	externalID string
	// kind is the record's kind for a webhook ("order", "repair-order").
	kind, recordID string
	phone          lead.PhoneNumber
	email          lead.Email
	texted, mailed bool
	// problem is what contact_problem must name ("" for an id, which is
	// kept exactly, escaped, rather than cleaned).
	problem string
	// webhookRefused: a ShopMonkey webhook naming an id with a NUL is
	// answered 400 by the route (it refuses control characters in ids
	// before any job); the poll is that lead's way in.
	webhookRefused bool
}

// contactFor gives the i-th lead of a table its own phone and email, so
// every text and email at the fakes is matched to its lead.
func contactFor(i int) (phone string, e164 lead.PhoneNumber, email string) {
	return fmt.Sprintf("(312) 301-%04d", i), lead.PhoneNumber(fmt.Sprintf("+1312301%04d", i)), fmt.Sprintf("lead-%d@example.com", i)
}

// smField is one free-text field of a ShopMonkey lead, set through the
// fake's LeadSpec.
type smField struct {
	problem string
	set     func(spec *fakeshopmonkey.LeadSpec, bad badText)
}

var smFields = []smField{
	{"customer.firstName", func(s *fakeshopmonkey.LeadSpec, b badText) { s.FirstName = spoil("Maria", b) }},
	{"customer.lastName", func(s *fakeshopmonkey.LeadSpec, b badText) { s.LastName = spoil("Garcia", b) }},
	{"customer.companyName", func(s *fakeshopmonkey.LeadSpec, b badText) { s.CompanyName = spoil("Garcia Fleet", b) }},
	{"customer.phoneNumbers[0].number", func(s *fakeshopmonkey.LeadSpec, b badText) { s.Phone = spoil(s.Phone, b) }},
	{"customer.emails[0].email", func(s *fakeshopmonkey.LeadSpec, b badText) { s.Email = spoil(s.Email, b) }},
	{"vehicle.make", func(s *fakeshopmonkey.LeadSpec, b badText) { s.Make, s.Model = spoil("Honda", b), "Civic" }},
	{"vehicle.model", func(s *fakeshopmonkey.LeadSpec, b badText) { s.Make, s.Model = "Honda", spoil("Civic", b) }},
	{"vehicle.submodel", func(s *fakeshopmonkey.LeadSpec, b badText) { s.Submodel = spoil("EX-L", b) }},
	{"vehicle.vin", func(s *fakeshopmonkey.LeadSpec, b badText) { s.VIN = spoil("1HGCM82633A004352", b) }},
	{"vehicle.licensePlate", func(s *fakeshopmonkey.LeadSpec, b badText) { s.LicensePlate = spoil("7ABC123", b) }},
	{"order.complaint", func(s *fakeshopmonkey.LeadSpec, b badText) { s.Complaint = spoil("Brakes squeal when stopping", b) }},
	{"appointment.name", func(s *fakeshopmonkey.LeadSpec, b badText) {
		s.Kind, s.Complaint = "appointment", spoil("Oil change and inspection", b)
	}},
}

// plantShopMonkeyTextLeads plants one lead per free-text field and bad
// text, and one per id (order, customer, vehicle) with a NUL in it.
func plantShopMonkeyTextLeads(t *testing.T, sb *sandbox.Server, loc string) []textLead {
	t.Helper()
	var out []textLead
	for _, f := range smFields {
		for _, bad := range badTexts {
			phone, e164, email := contactFor(len(out))
			spec := fakeshopmonkey.LeadSpec{Phone: phone, Email: email}
			f.set(&spec, bad)
			ref, err := sb.ShopMonkey.AddLead(loc, spec)
			require.NoError(t, err)
			tl := textLead{name: f.problem + "/" + bad.name, externalID: ref.ExternalID, kind: ref.Kind, recordID: ref.ID,
				phone: e164, email: lead.Email(email), texted: true, mailed: true, problem: f.problem}
			// A NUL is dropped, so the number and address still work; an
			// unreadable byte leaves them unusable, and the other channel
			// reaches the customer.
			if bad.name == "InvalidUTF8" {
				switch f.problem {
				case "customer.phoneNumbers[0].number":
					tl.texted = false
				case "customer.emails[0].email":
					tl.mailed = false
				}
			}
			out = append(out, tl)
		}
	}
	// Ids: only a NUL. A byte that is not UTF-8 in an id is turned into
	// U+FFFD by encoding/json before any code of ours sees it, so the
	// CRM's id is gone (crm/shopmonkey then names the id instead of
	// fetching a record that does not exist); a NUL is kept, escaped.
	for _, which := range []string{"id", "customerId", "vehicleId"} {
		phone, e164, email := contactFor(len(out))
		n := strconv.Itoa(len(out))
		ids := map[string]string{"id": "ord-" + n, "customerId": "cus-" + n, "vehicleId": "veh-" + n}
		ids[which] = spoil(ids[which], badTexts[0])
		plantRawShopMonkeyLead(t, sb, loc, ids, phone, email)
		out = append(out, textLead{name: "order." + which + "/NUL", externalID: "order:" + crm.EscapeID(ids["id"]),
			kind: "order", recordID: ids["id"], phone: e164, email: lead.Email(email), texted: true, mailed: true,
			webhookRefused: which == "id"})
	}
	return out
}

// plantRawShopMonkeyLead plants an estimate with its customer, phone,
// email and vehicle under the ids given, as a real account could hold them.
func plantRawShopMonkeyLead(t *testing.T, sb *sandbox.Server, loc string, ids map[string]string, phone, email string) {
	t.Helper()
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	for _, r := range []struct {
		table fakeshopmonkey.Table
		data  map[string]any
	}{
		{fakeshopmonkey.Customer, map[string]any{"id": ids["customerId"], "firstName": "Omar", "lastName": "Haddad",
			"marketingOptIn": true, "locationIds": []string{loc}, "createdDate": now, "updatedDate": now}},
		{fakeshopmonkey.PhoneNumber, map[string]any{"id": "ph-" + ids["id"], "customerId": ids["customerId"], "number": phone,
			"type": "Mobile", "primary": true, "optIn": true}},
		{fakeshopmonkey.Email, map[string]any{"id": "em-" + ids["id"], "customerId": ids["customerId"], "email": email,
			"primary": true, "subscribed": true}},
		{fakeshopmonkey.Vehicle, map[string]any{"id": ids["vehicleId"], "customerId": ids["customerId"], "year": 2017,
			"make": "Toyota", "model": "Camry"}},
		{fakeshopmonkey.Order, map[string]any{"id": ids["id"], "status": "Estimate", "locationId": loc,
			"customerId": ids["customerId"], "vehicleId": ids["vehicleId"], "complaint": "Check engine light",
			"createdDate": now, "updatedDate": now, "meta": map[string]any{"version": 1}}},
	} {
		raw, err := json.Marshal(r.data)
		require.NoError(t, err)
		_, err = sb.ShopMonkey.AddRaw(loc, r.table, raw)
		require.NoError(t, err)
	}
}

// tmField is one free-text field of a Tekmetric lead. Tekmetric's ids are
// integers: text in one is a type error the decoder names, not text to
// clean (TestMalformedRecord's kind of record).
type tmField struct {
	problem string
	set     func(spec *faketekmetric.LeadSpec, bad badText)
	// business makes the customer a business, whose contact person has
	// name fields of its own.
	business func(bad badText) map[string]any
}

var tmFields = []tmField{
	{problem: "customer.firstName", set: func(s *faketekmetric.LeadSpec, b badText) { s.FirstName = spoil("Leila", b) }},
	{problem: "customer.lastName", set: func(s *faketekmetric.LeadSpec, b badText) { s.LastName = spoil("Silva", b) }},
	{problem: "customer.contactFirstName", business: func(b badText) map[string]any {
		return map[string]any{"customerType": map[string]any{"id": 2}, "contactFirstName": spoil("Kenji", b), "contactLastName": "Tran"}
	}},
	{problem: "customer.phone[0].number", set: func(s *faketekmetric.LeadSpec, b badText) { s.Phone = spoil(s.Phone, b) }},
	{problem: "customer.email", set: func(s *faketekmetric.LeadSpec, b badText) { s.Email = spoil(s.Email, b) }},
	{problem: "vehicle.make", set: func(s *faketekmetric.LeadSpec, b badText) { s.Make, s.Model = spoil("Mazda", b), "CX-5" }},
	{problem: "vehicle.model", set: func(s *faketekmetric.LeadSpec, b badText) { s.Make, s.Model = "Mazda", spoil("CX-5 Touring", b) }},
	{problem: "vehicle.subModel", set: func(s *faketekmetric.LeadSpec, b badText) { s.SubModel = spoil("Touring", b) }},
	{problem: "vehicle.vin", set: func(s *faketekmetric.LeadSpec, b badText) { s.VIN = spoil("JM3KFBCM1J0123456", b) }},
	{problem: "vehicle.licensePlate", set: func(s *faketekmetric.LeadSpec, b badText) { s.LicensePlate = spoil("TX12345", b) }},
	{problem: "repair_order.customerConcerns[0].concern", set: func(s *faketekmetric.LeadSpec, b badText) {
		s.Concern = spoil("Grinding noise from the front", b)
	}},
	{problem: "appointment.title", set: func(s *faketekmetric.LeadSpec, b badText) {
		s.Kind, s.Title = "appointment", spoil("Online Appointment", b)
	}},
	{problem: "appointment.description", set: func(s *faketekmetric.LeadSpec, b badText) {
		s.Kind, s.Concern = "appointment", spoil("Tire rotation", b)
	}},
}

func plantTekmetricTextLeads(t *testing.T, sb *sandbox.Server, shopID int64) []textLead {
	t.Helper()
	var out []textLead
	for _, f := range tmFields {
		for _, bad := range badTexts {
			phone, e164, email := contactFor(len(out))
			spec := faketekmetric.LeadSpec{Phone: strings.NewReplacer("(", "", ") ", "-").Replace(phone), Email: email}
			if f.set != nil {
				f.set(&spec, bad)
			}
			ref, err := sb.Tekmetric.AddLead(shopID, spec)
			require.NoError(t, err)
			if f.business != nil {
				custID, err := strconv.ParseInt(ref.CustomerID, 10, 64)
				require.NoError(t, err)
				require.NoError(t, sb.Tekmetric.Mutate(shopID, faketekmetric.Customers, custID, func(r map[string]any) {
					for k, v := range f.business(bad) {
						r[k] = v
					}
				}))
			}
			tl := textLead{name: f.problem + "/" + bad.name, externalID: ref.ExternalID, kind: ref.Kind, recordID: ref.ID,
				phone: e164, email: lead.Email(email), texted: true, mailed: true, problem: f.problem}
			if bad.name == "InvalidUTF8" {
				switch f.problem {
				case "customer.phone[0].number":
					tl.texted = false
				case "customer.email":
					tl.mailed = false
				}
			}
			out = append(out, tl)
		}
	}
	return out
}

// TestIngestBadText: a NUL or a byte that is not UTF-8 in any free-text
// field of either CRM (names, complaint or summary, vehicle, phone, email,
// ShopMonkey's text ids) no longer loses the lead. Found by a poll or
// named by a webhook, each lead is stored once, every ingest completes
// (none cancelled, retried or discarded), the customer is texted (emailed
// only when the bad byte made the phone number unusable) and the cleaned
// field is recorded in contact_problem. On the old code every one of these
// ingests failed with SQLSTATE 22021 or 22P05 and was discarded after ten
// attempts, and a NUL in a ShopMonkey id failed the whole poll's job
// insert, every other lead of the window with it.
func TestIngestBadText(t *testing.T) {
	t.Parallel()
	for _, crmKind := range []string{"shopmonkey", "tekmetric"} {
		for _, route := range []string{"poll", "webhook"} {
			t.Run(crmKind+"/"+route, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				b := setupWebhooks(t)
				var (
					shop  lead.Tenant
					leads []textLead
				)
				if crmKind == "shopmonkey" {
					shop = b.addShop(t, "textsm")
					leads = plantShopMonkeyTextLeads(t, b.sandbox, shop.CRMLocationID)
				} else {
					shop = b.addTekmetricShop(t, "texttm", 77, nil)
					leads = plantTekmetricTextLeads(t, b.sandbox, 77)
				}
				b.withWebhookCredentials(t, shop)

				poll := func() {
					_, err := b.client.Insert(ctx, jobs.PollCRMArgs{TenantID: shop.ID, Live: true, SendMessages: true,
						Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}, nil)
					require.NoError(t, err)
				}
				var refused []textLead
				if route == "poll" {
					poll()
				} else {
					for i, tl := range leads {
						if !b.announce(t, shop, crmKind, tl, i) {
							require.True(t, tl.webhookRefused, "%s: webhook refused", tl.name)
							refused = append(refused, tl)
						}
					}
				}
				texts, mails := 0, 0
				for _, tl := range leads {
					if tl.texted {
						texts++
					}
					if tl.mailed {
						mails++
					}
				}
				wait := func(n int) {
					require.Eventually(t, func() bool {
						return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND finalized_at IS NOT NULL`) >= n
					}, 60*time.Second, 50*time.Millisecond, "%d ingests finished", n)
				}
				wait(len(leads) - len(refused))
				if len(refused) > 0 {
					// The poll, the webhooks' safety net, brings in what a
					// webhook could not name.
					poll()
					wait(len(leads))
				}
				require.Eventually(t, func() bool {
					st := b.sandbox.Stats()
					return st.SMS >= texts && st.Emails >= mails
				}, 30*time.Second, 50*time.Millisecond, "%d texts and %d emails", texts, mails)

				require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND state <> 'completed'`),
					"every ingest completed: none cancelled, retried or discarded")
				require.Equal(t, len(leads), b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
				sms, mail := map[string]int{}, map[string]int{}
				for _, m := range b.sandbox.Twilio.Messages() {
					sms[m.To]++
				}
				for _, e := range b.sandbox.SendGrid.Emails() {
					mail[e.To]++
				}
				for _, tl := range leads {
					var problem, phone, email string
					require.NoError(t, b.pool.QueryRow(ctx, `SELECT contact_problem, phone, email FROM leads WHERE tenant_id = $1 AND external_id = $2`,
						shop.ID, tl.externalID).Scan(&problem, &phone, &email), tl.name)
					require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND external_id = $2`, shop.ID, tl.externalID), tl.name)
					if tl.problem != "" {
						require.Contains(t, problem, "invalid "+tl.problem+": held a NUL byte or text that is not UTF-8", tl.name)
					}
					if tl.texted {
						require.Equal(t, string(tl.phone), phone, tl.name)
						require.Equal(t, 1, sms[string(tl.phone)], "%s: one text", tl.name)
					} else {
						require.Empty(t, phone, tl.name)
						require.Contains(t, problem, "invalid customer.phone:", tl.name)
						require.Zero(t, sms[string(tl.phone)], tl.name)
					}
					if tl.mailed {
						require.Equal(t, string(tl.email), email, tl.name)
						require.Equal(t, 1, mail[string(tl.email)], "%s: one email", tl.name)
					} else {
						require.Empty(t, email, tl.name)
						require.Contains(t, problem, "invalid customer.email:", tl.name)
					}
				}
				require.Eventually(t, func() bool { return b.unrecordedRuns(t) == 0 }, 10*time.Second, 50*time.Millisecond)
			})
		}
	}
}

// announce sends the CRM's webhook for one planted lead, as the CRM would:
// ShopMonkey's signed, with the record, Tekmetric's with its id. It
// reports whether the route took it.
func (b *webhookBundle) announce(t *testing.T, shop lead.Tenant, crmKind string, tl textLead, n int) bool {
	t.Helper()
	ctx := context.Background()
	if crmKind == "tekmetric" {
		event := "Repair Order Created"
		if tl.kind == "appointment" {
			event = "Appointment Created"
		}
		err := faketekmetric.PostWebhook(ctx, http.DefaultClient, b.server.URL+"/webhooks/tekmetric/"+shop.ID.String()+"/"+tekmetricWebhookToken,
			event, map[string]any{"id": json.Number(tl.recordID)})
		require.NoError(t, err, tl.name)
		return true
	}
	record, ok := b.sandbox.ShopMonkey.Record(shop.CRMLocationID, fakeshopmonkey.Table(tl.kind), tl.recordID)
	require.True(t, ok, tl.name)
	body, err := json.Marshal(map[string]any{"apiVersion": "v3", "operation": "INSERT", "table": tl.kind, "data": record})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.server.URL+"/webhooks/shopmonkey/"+shop.ID.String(), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = fakeshopmonkey.SignWebhook(shopMonkeyWebhookSecret, "msg_text_"+strconv.Itoa(n), time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusBadRequest {
		var answer map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		require.Contains(t, answer["error"], "data.id", "%s: the refusal names the field", tl.name)
		return false
	}
	require.Equal(t, http.StatusOK, resp.StatusCode, tl.name)
	return true
}
