package tekmetric

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
)

const fuzzShop = 238

var repairOrderSeeds = []string{
	`{"id":101,"shopId":238,"customerId":7,"vehicleId":8,"repairOrderStatus":{"id":1,"code":"ESTIMATE","name":"Estimate"},"customerConcerns":[{"concern":"Brakes squeal"}],"jobs":[{"name":"Brake pads","authorized":null}],"createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:30.123Z","deletedDate":null}`,
	`{"id":102,"shopId":238,"customerId":7,"repairOrderStatusId":2,"jobs":[{"name":"Oil","authorized":true}],"createdDate":null,"updatedDate":"2025-03-04T08:00:30-0700"}`,
	`{"id":103,"shopId":238,"customerId":7,"repairOrderStatus":{"id":7},"updatedDate":"2025-03-04T15:00:30","deletedDate":"2025-03-04T15:00:31Z"}`,
	`{"id":"104","shopId":238,"customerId":7,"repairOrderStatus":{"id":1},"updatedDate":"2025-03-04T15:00:30Z"}`,
	`{"id":105,"shopId":-1,"customerId":0,"vehicleId":-3,"repairOrderStatus":{"id":1},"updatedDate":"soon"}`,
	`{"id":106,"customerConcerns":"x","jobs":[1]}`,
	`{"id":1e2}`, `{"id":null}`, `[]`, `null`, `{`, ``,
}

var appointmentSeeds = []string{
	`{"id":201,"shopId":238,"customerId":7,"vehicleId":8,"title":"Online booking","description":"Check engine light","leadSource":"Website","appointmentStatus":"NONE","arrived":false,"startTime":"2025-03-05T09:00:00","createdDate":"2025-03-04T15:00:00Z","updatedDate":"2025-03-04T15:00:10Z"}`,
	`{"id":202,"shopId":238,"customerId":7,"leadSource":"","updatedDate":"2025-03-04T15:00:10Z"}`,
	`{"id":203,"shopId":238,"customerId":7,"leadSource":"Google","appointmentStatus":"ARRIVED","arrived":true,"updatedDate":"2025-03-04T15:00:10"}`,
	`{"id":204,"leadSource":5,"arrived":"yes"}`,
	`{}`, `1`,
}

func setupFuzzClient(f *testing.F, srv *crmtest.FuzzServer) *Client {
	f.Helper()
	loc, err := time.LoadLocation("America/Denver")
	if err != nil {
		f.Fatal(err)
	}
	opts := Opts{BaseURL: "http://127.0.0.1:1", ClientID: "fuzz", ClientSecret: "tm_fuzz_secret", ShopID: fuzzShop, Location: loc, Timeout: 5 * time.Second}
	if srv != nil {
		ts := httptest.NewServer(srv)
		f.Cleanup(ts.Close)
		opts.BaseURL, opts.HTTPClient = ts.URL, ts.Client()
	}
	c, err := New(opts)
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// checkRecord asserts what every decoder promises: an error is a
// *crm.InvalidRecordError naming a field, and a record without one has the
// ids and the update time FetchNewLeads and GetLead rely on.
func checkRecord(t *testing.T, err error, r leadRecord) {
	t.Helper()
	if !crmtest.CheckDecodeError(t, err) {
		return
	}
	if r.ID <= 0 || r.ShopID <= 0 || r.CustomerID <= 0 || r.VehicleID < 0 {
		t.Fatalf("decoded with ids %+v", r)
	}
	if r.Updated.IsZero() || r.Updated.Location() != time.UTC {
		t.Fatalf("decoded with updatedDate %v", r.Updated)
	}
}

func FuzzDecodeRepairOrder(f *testing.F) {
	for _, s := range repairOrderSeeds {
		f.Add([]byte(s))
	}
	c := setupFuzzClient(f, nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ro, err := c.decodeRepairOrder(raw)
		checkRecord(t, err, ro.leadRecord)
		if err != nil {
			return
		}
		if ro.StatusID == 0 {
			t.Fatalf("repair order without a status: %+v", ro)
		}
		if in := ro.inquiry(); in.ExternalID != prefixRepairOrder+strconv.FormatInt(ro.ID, 10) || in.CustomerID == "" {
			t.Fatalf("inquiry %+v of %+v", in, ro)
		}
	})
}

func FuzzDecodeAppointment(f *testing.F) {
	for _, s := range appointmentSeeds {
		f.Add([]byte(s))
	}
	c := setupFuzzClient(f, nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ap, err := c.decodeAppointment(raw)
		checkRecord(t, err, ap.leadRecord)
		if err == nil && ap.inquiry().ExternalID != prefixAppointment+strconv.FormatInt(ap.ID, 10) {
			t.Fatalf("inquiry of %+v", ap)
		}
	})
}

// fuzzServer plays Tekmetric for one fuzz input at a time: the token
// endpoint always grants the fuzz shop, and every other request gets what
// answer makes of the input.
func fuzzServer(answer func(r *http.Request, input []byte) []byte) *crmtest.FuzzServer {
	return &crmtest.FuzzServer{Answer: func(r *http.Request, input []byte) []byte {
		if r.URL.Path == tokenPath {
			return []byte(`{"access_token":"tok_fuzz","token_type":"bearer","scope":"` + strconv.Itoa(fuzzShop) + `"}`)
		}
		return answer(r, input)
	}}
}

// polledRules: Tekmetric's ids are repair orders and appointments, its
// customer ids positive integers.
var polledRules = crmtest.PolledRules{
	Prefixes:   []string{prefixRepairOrder, prefixAppointment},
	CustomerID: func(id string) bool { _, err := parseID(id); return err == nil },
}

// FuzzFetchNewLeads puts one fuzzed row in an otherwise well-formed page,
// for repair orders and appointments alike, and runs the real poll.
func FuzzFetchNewLeads(f *testing.F) {
	srv := fuzzServer(func(_ *http.Request, row []byte) []byte {
		return []byte(`{"content":[` + string(row) + `],"totalPages":1,"totalElements":1,"last":true,"number":0,"size":100}`)
	})
	crmtest.FuzzPollRow(f, append(append([]string{}, repairOrderSeeds...), appointmentSeeds...), srv, setupFuzzClient(f, srv), polledRules)
}

// FuzzListPage fuzzes the whole first page of every list of a poll; later
// pages are empty, so that an input claiming more pages ends quickly.
func FuzzListPage(f *testing.F) {
	for _, s := range []string{
		`{"content":[` + repairOrderSeeds[0] + `],"totalPages":1,"totalElements":1,"last":true,"number":0,"size":100}`,
		`{"content":[` + repairOrderSeeds[0] + `],"totalPages":3,"totalElements":250,"number":0}`,
		`{"content":[],"last":false,"totalElements":-1}`,
		`{"content":null}`, `{"content":{}}`, `{"content":[1,"x",null,[]],"last":"yes"}`,
		`[]`, `<html>bad gateway</html>`, ``,
	} {
		f.Add([]byte(s))
	}
	srv := fuzzServer(func(r *http.Request, page []byte) []byte {
		if r.URL.Query().Get("page") != "0" {
			return []byte(`{"content":[],"last":true}`)
		}
		return page
	})
	c := setupFuzzClient(f, srv)
	since := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	until := since.Add(time.Minute)
	f.Fuzz(func(t *testing.T, page []byte) {
		srv.Set(page)
		leads, err := c.FetchNewLeads(context.Background(), since, until)
		if err == nil {
			crmtest.CheckPolled(t, leads, since, until, polledRules)
		} else if strings.Contains(err.Error(), "tm_fuzz_secret") || strings.Contains(err.Error(), "tok_fuzz") {
			t.Fatalf("error holds a credential: %v", err)
		}
	})
}

// FuzzGetCustomer answers the customer read with the fuzzed body.
func FuzzGetCustomer(f *testing.F) {
	for _, s := range []string{
		`{"id":7,"shopId":238,"firstName":"Ana","lastName":"Lee","email":"ana@example.com","phone":[{"number":"555-201-3344","type":"Mobile","primary":true}],"okForMarketing":true,"customerType":{"id":1}}`,
		`{"id":7,"shopId":238,"firstName":"Lee Auto","lastName":"LLC","contactFirstName":"Ana","email":["a@example.com",""],"phones":[{"number":"555"}],"customerType":{"id":2}}`,
		`{"id":7,"shopId":9}`, `{"id":7,"deletedDate":"2025-01-01T00:00:00Z"}`,
		`{"id":7,"email":5,"phone":"x"}`, `{"id":0}`, `{}`, `x`,
	} {
		f.Add([]byte(s))
	}
	srv := fuzzServer(func(_ *http.Request, body []byte) []byte { return body })
	c := setupFuzzClient(f, srv)
	f.Fuzz(func(t *testing.T, body []byte) {
		srv.Set(body)
		cust, err := c.GetCustomer(context.Background(), "7")
		if err != nil {
			if strings.Contains(err.Error(), "tm_fuzz_secret") || strings.Contains(err.Error(), "tok_fuzz") {
				t.Fatalf("error holds a credential: %v", err)
			}
			return
		}
		if _, err := parseID(cust.ExternalID); err != nil {
			t.Fatalf("customer with id %q: %+v", cust.ExternalID, cust)
		}
		for _, e := range cust.Emails {
			if e.Address == "" {
				t.Fatalf("empty email kept: %+v", cust)
			}
		}
		if _, err := json.Marshal(cust); err != nil {
			t.Fatalf("customer cannot be encoded: %v", err)
		}
	})
}
