package shopmonkey

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
)

const fuzzLocation = "loc-fuzz"

var orderSeeds = []string{
	`{"id":"ord_1","status":"Estimate","locationId":"loc-fuzz","customerId":"c1","vehicleId":"v1","complaint":"Brakes","authorized":false,"archived":false,"deleted":false,"createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:30.5Z","meta":{"version":3},"number":"1001"}`,
	`{"id":"ord_2","status":"Estimate","locationId":"loc-fuzz","customerId":"c1","createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:00Z","meta":{"version":"7"},"number":12}`,
	`{"id":"ord_3","status":"Estimate","locationId":"loc-fuzz","customerId":"c1","createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:00Z","meta":5}`,
	`{"id":"ord_4","status":null,"customerId":7,"createdDate":"yesterday","meta":{"version":1e3}}`,
	`{"id":"ord_5","authorized":"yes","archived":1}`,
	`{"id":7}`, `[]`, `null`, `"x"`, `{`, ``,
}

var appointmentSeeds = []string{
	`{"id":"ap_1","locationId":"loc-fuzz","customerId":"c1","vehicleId":"v1","name":"Oil change","attributionSource":"WorkRequestForm","confirmed":false,"createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:10Z","meta":{"version":2}}`,
	`{"id":"ap_2","locationId":"loc-fuzz","customerId":"c1","attributionSource":"AppointmentScheduler","confirmed":true,"createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:10Z"}`,
	`{"id":"ap_3","locationId":"loc-fuzz","customerId":"c1","attributionSource":"Manual","createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:10Z"}`,
	`{"id":"ap_4","confirmed":"no","meta":{"version":"x"}}`,
	`{}`, `1`,
}

// checkDecoded asserts what every decoder promises: an error is a
// *crm.InvalidRecordError naming a field, and a record without one has
// everything FetchNewLeads and GetLead rely on.
func checkDecoded(t *testing.T, err error, id, location, customer string, created, updated time.Time) {
	t.Helper()
	if !crmtest.CheckDecodeError(t, err) {
		return
	}
	if id == "" || location == "" || customer == "" {
		t.Fatalf("decoded without id %q, location %q or customer %q", id, location, customer)
	}
	if created.IsZero() || updated.IsZero() || created.Location() != time.UTC || updated.Location() != time.UTC {
		t.Fatalf("decoded with times %v, %v", created, updated)
	}
}

func FuzzDecodeOrder(f *testing.F) {
	for _, s := range orderSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := decodeOrder(raw)
		checkDecoded(t, err, o.ID, o.LocationID, o.CustomerID, o.Created, o.Updated)
		if err == nil && (o.Status == "" || o.inquiry().ExternalID != "order:"+o.ID) {
			t.Fatalf("decoded order %+v", o)
		}
	})
}

func FuzzDecodeAppointment(f *testing.F) {
	for _, s := range appointmentSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := decodeAppointment(raw)
		checkDecoded(t, err, a.ID, a.LocationID, a.CustomerID, a.Created, a.Updated)
		if err == nil && a.inquiry().ExternalID != "appointment:"+a.ID {
			t.Fatalf("decoded appointment %+v", a)
		}
	})
}

func setupFuzzAdapter(f *testing.F, srv *crmtest.FuzzServer) *Adapter {
	f.Helper()
	ts := httptest.NewServer(srv)
	f.Cleanup(ts.Close)
	a, err := New(Opts{BaseURL: ts.URL, APIKey: "sm_fuzz_key", LocationID: fuzzLocation, HTTPClient: ts.Client(), Timeout: 5 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	return a
}

// polledRules: ShopMonkey's ids are orders and appointments; any
// non-empty customer id is one.
var polledRules = crmtest.PolledRules{
	Prefixes:   []string{"order:", "appointment:"},
	CustomerID: func(id string) bool { return id != "" },
}

// FuzzFetchNewLeads puts one fuzzed row in an otherwise well-formed list
// answer, for orders and appointments alike, and runs the real poll.
func FuzzFetchNewLeads(f *testing.F) {
	srv := &crmtest.FuzzServer{Answer: func(_ *http.Request, row []byte) []byte {
		return []byte(`{"success":true,"data":[` + string(row) + `],"meta":{"hasMore":false,"total":1}}`)
	}}
	crmtest.FuzzPollRow(f, append(append([]string{}, orderSeeds...), appointmentSeeds...), srv, setupFuzzAdapter(f, srv), polledRules)
}

// FuzzListAnswer fuzzes the whole answer of every list call of a poll: the
// envelope, meta and rows. The adapter bounds its own calls (window
// splitting and skip paging), which this also proves.
func FuzzListAnswer(f *testing.F) {
	for _, s := range []string{
		`{"success":true,"data":[` + orderSeeds[0] + `],"meta":{"hasMore":false,"total":1}}`,
		`{"success":true,"data":[],"meta":{"hasMore":true,"total":5}}`,
		`{"success":true,"data":null}`,
		`{"success":true,"data":{"id":"x"}}`,
		`{"success":false,"code":"E","message":"nope"}`,
		`{"success":true,"data":[1,"x",null],"meta":{"total":-1}}`,
		`<html>bad gateway</html>`, ``,
	} {
		f.Add([]byte(s))
	}
	srv := &crmtest.FuzzServer{}
	a := setupFuzzAdapter(f, srv)
	since := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	until := since.Add(2 * time.Second)
	f.Fuzz(func(t *testing.T, body []byte) {
		srv.Set(body)
		leads, err := a.FetchNewLeads(context.Background(), since, until)
		if err == nil {
			crmtest.CheckPolled(t, leads, since, until, polledRules)
		} else if strings.Contains(err.Error(), "sm_fuzz_key") {
			t.Fatalf("error holds the API key: %v", err)
		}
	})
}

// FuzzGetCustomer answers the customer read and its phone and email lists
// with the fuzzed body.
func FuzzGetCustomer(f *testing.F) {
	for _, s := range []string{
		`{"success":true,"data":{"id":"c1","firstName":"Ana","lastName":"Lee","marketingOptIn":true,"preferredContactMethod":"SMS","locationIds":["loc-fuzz"],"phoneNumbers":[{"number":"(555) 201-3344","type":"Mobile","primary":true,"optIn":true}],"emails":[{"email":"ana@example.com","primary":true,"subscribed":true}]}}`,
		`{"success":true,"data":{"id":"c1","locationIds":["elsewhere"]}}`,
		`{"success":true,"data":{"id":"c1","phoneNumbers":[1],"emails":"x"}}`,
		`{"success":true,"data":[{"number":"555","id":"p1"}]}`,
		`{"success":true,"data":{"id":"c1","locationIds":"loc"}}`,
		`{"success":false}`, `{}`, `x`,
	} {
		f.Add([]byte(s))
	}
	srv := &crmtest.FuzzServer{}
	a := setupFuzzAdapter(f, srv)
	f.Fuzz(func(t *testing.T, body []byte) {
		srv.Set(body)
		c, err := a.GetCustomer(context.Background(), "c1")
		if err != nil {
			return
		}
		if c.ExternalID == "" {
			t.Fatalf("customer without an id: %+v", c)
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("customer cannot be encoded: %v", err)
		}
	})
}
