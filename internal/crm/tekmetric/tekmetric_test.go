package tekmetric_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

const (
	testShop     = 3
	testClient   = "app-a"
	testSecret   = "tm-secret-a-SECRET"
	testTimeZone = "America/Chicago"
)

type testBundle struct {
	crmtest.Shop[faketekmetric.Table, int64, int64, faketekmetric.LeadSpec]
	fake *faketekmetric.API
	// baseURL is the fake mounted under /tekmetric, as cmd/sandbox serves
	// it, which proves the adapter keeps a BaseURL's path.
	baseURL string
	tokens  *tekmetric.TokenCache
	adapter *tekmetric.Client
	chicago *time.Location
	// since is a Wednesday afternoon in November: Chicago is on CST
	// (UTC-6), so a zone mix-up moves a time by six hours.
	since time.Time
	until time.Time
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := faketekmetric.New()
	require.NoError(t, fake.AddShop(testShop, testTimeZone, testClient, testSecret))
	b := &testBundle{Shop: crmtest.Shop[faketekmetric.Table, int64, int64, faketekmetric.LeadSpec]{Fake: fake, Location: testShop}, fake: fake, tokens: tekmetric.NewTokenCache(), since: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)}
	b.baseURL = b.serve(t, fake) + "/tekmetric"
	b.until = b.since.Add(time.Hour)
	var err error
	b.chicago, err = time.LoadLocation(testTimeZone)
	require.NoError(t, err)
	b.adapter = b.newAdapter(t, nil)
	return b
}

// serve mounts h under /tekmetric on a new test server.
func (b *testBundle) serve(t *testing.T, h http.Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/tekmetric/", http.StripPrefix("/tekmetric", h))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	return server.URL
}

// newAdapter returns an adapter of the test shop sharing the bundle's token
// cache; change, when set, adjusts its options.
func (b *testBundle) newAdapter(t *testing.T, change func(*tekmetric.Opts)) *tekmetric.Client {
	t.Helper()
	opts := tekmetric.Opts{
		BaseURL: b.baseURL, ClientID: testClient, ClientSecret: testSecret, ShopID: testShop,
		Location: b.chicago, Timeout: 10 * time.Second, Tokens: b.tokens,
	}
	if change != nil {
		change(&opts)
	}
	a, err := tekmetric.New(opts)
	require.NoError(t, err)
	return a
}

// adapterThrough returns an adapter whose requests pass through wrap before
// reaching the fake, to play an API misbehaving in one precise way.
func (b *testBundle) adapterThrough(t *testing.T, wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)) *tekmetric.Client {
	t.Helper()
	base := b.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wrap(w, r, b.fake) }))
	return b.newAdapter(t, func(o *tekmetric.Opts) { o.BaseURL = base + "/tekmetric"; o.Tokens = nil })
}

// at is a time inside the test window.
func (b *testBundle) at(d time.Duration) time.Time { return b.since.Add(d) }

// requests returns the requests the fake got for path, and tokenRequests
// how many tokens were asked for.
func (b *testBundle) requests(path string) []faketekmetric.Request {
	var out []faketekmetric.Request
	for _, r := range b.fake.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (b *testBundle) tokenRequests() int { return len(b.requests("/api/v1/oauth/token")) }

// queries returns the parsed query of every request the fake got for path.
func (b *testBundle) queries(t *testing.T, path string) []url.Values {
	t.Helper()
	return crmtest.Queries(t, b.fake.Requests(), path, func(r faketekmetric.Request) (string, string) { return r.Path, r.RawQuery })
}

func numericID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("NamesEveryInvalidField", func(t *testing.T) {
		t.Parallel()
		_, err := tekmetric.New(tekmetric.Opts{BaseURL: "ftp://x", Timeout: -time.Second})
		crmtest.RequireNamesFields(t, err, "BaseURL", "ClientID", "ClientSecret", "ShopID", "Timeout")
		_, err = tekmetric.New(tekmetric.Opts{ClientID: "a:b", ClientSecret: "s", ShopID: 1})
		require.ErrorContains(t, err, "ClientID must not contain a colon")
	})
	t.Run("DefaultBaseURL", func(t *testing.T) {
		t.Parallel()
		// The transport records what it saw; the token is fetched on a
		// goroutine of its own, where require cannot stop the test.
		var mu sync.Mutex
		var got []string
		client := &http.Client{Transport: crmtest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			body := `{"id": 5, "year": 2019}`
			seen := r.Method + " " + r.URL.String() + " " + r.Header.Get("Authorization")
			if r.URL.Path == "/api/v1/oauth/token" {
				raw, _ := io.ReadAll(r.Body)
				seen += " " + string(raw)
				body = `{"access_token": "tok", "token_type": "bearer", "scope": "1"}`
			}
			mu.Lock()
			got = append(got, seen)
			mu.Unlock()
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}, nil
		})}
		for _, base := range []string{"", "https://shop.tekmetric.com/api/v1/"} {
			a, err := tekmetric.New(tekmetric.Opts{BaseURL: base, ClientID: "k", ClientSecret: "s", ShopID: 1, HTTPClient: client})
			require.NoError(t, err)
			v, err := a.GetVehicle(t.Context(), "5")
			require.NoError(t, err)
			require.Equal(t, 2019, v.Year)
		}
		token := "POST https://shop.tekmetric.com/api/v1/oauth/token Basic azpz grant_type=client_credentials" // base64("k:s")
		vehicle := "GET https://shop.tekmetric.com/api/v1/vehicles/5 Bearer tok"
		require.Equal(t, []string{token, vehicle, token, vehicle}, got, "each adapter without a shared cache fetches its own token")
	})
}

func TestToken(t *testing.T) {
	t.Parallel()

	t.Run("CachedAcrossCallsAndAdapters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ref := b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(time.Minute)})
		other := b.newAdapter(t, nil)
		var wg sync.WaitGroup
		for i := range 16 {
			a := b.adapter
			if i%2 == 1 {
				a = other
			}
			wg.Go(func() {
				_, err1 := a.FetchNewLeads(t.Context(), b.since, b.until)
				_, err2 := a.GetCustomer(t.Context(), ref.CustomerID)
				_, err3 := a.GetVehicle(t.Context(), ref.VehicleID)
				if err := errors.Join(err1, err2, err3); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, b.tokenRequests(), "one token for 16 concurrent callers of two adapters")
		require.Len(t, b.requests("/api/v1/repair-orders"), 16)
	})
	t.Run("RefetchedAfterRevocation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ref := b.AddLead(t, faketekmetric.LeadSpec{})
		_, err := b.adapter.GetVehicle(t.Context(), ref.VehicleID)
		require.NoError(t, err)
		require.Equal(t, 1, b.fake.RevokeTokens(testClient))

		c, err := b.adapter.GetCustomer(t.Context(), ref.CustomerID)
		require.NoError(t, err, "a 401 drops the token, fetches another and retries once")
		require.Equal(t, ref.CustomerID, c.ExternalID)
		require.Equal(t, 2, b.tokenRequests())
		require.Len(t, b.requests("/api/v1/customers/"+ref.CustomerID), 2, "the refused call and its retry")

		_, err = b.newAdapter(t, nil).GetVehicle(t.Context(), ref.VehicleID)
		require.NoError(t, err)
		require.Equal(t, 2, b.tokenRequests(), "the new token is shared too")
	})
	t.Run("StillRefusedAfterRefetch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusUnauthorized, EmptyBody: true, Paths: []string{"/api/v1/vehicles/"}, Count: 2})
		_, err := b.adapter.GetVehicle(t.Context(), "1")
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.ErrorContains(t, err, "freshly fetched token")
		require.ErrorContains(t, err, "error fetching vehicle 1 for shop 3")
		require.Equal(t, 2, b.tokenRequests(), "exactly one retry")
	})
	t.Run("RotatedSecretGetsItsOwnToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ref := b.AddLead(t, faketekmetric.LeadSpec{})
		_, err := b.adapter.GetVehicle(t.Context(), ref.VehicleID)
		require.NoError(t, err)

		require.NoError(t, b.fake.RotateSecret(testClient, "tm-secret-a2-SECRET"))
		rotated := b.newAdapter(t, func(o *tekmetric.Opts) { o.ClientSecret = "tm-secret-a2-SECRET" })
		_, err = rotated.GetVehicle(t.Context(), ref.VehicleID)
		require.NoError(t, err)
		require.Equal(t, 2, b.tokenRequests(), "a new secret is a new cache key")

		_, err = b.adapter.GetVehicle(t.Context(), ref.VehicleID)
		require.NoError(t, err, "the old secret's token lives until revoked")
		require.Equal(t, 2, b.tokenRequests())
	})
	t.Run("WrongSecret", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		wrong := b.newAdapter(t, func(o *tekmetric.Opts) { o.ClientSecret = "wrong-SECRET" })
		_, err := wrong.FetchNewLeads(t.Context(), b.since, b.until)
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.ErrorContains(t, err, "error listing repair orders for shop 3")
		require.ErrorContains(t, err, "client credentials of application app-a")
		require.NotContains(t, err.Error(), "SECRET")

		_, err = wrong.GetLead(t.Context(), "repair-order:1")
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.Equal(t, 2, b.tokenRequests(), "a refused fetch is not cached")
	})
	t.Run("ScopeWithoutTheShop", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.fake.AddShop(4, "UTC", testClient, testSecret))
		require.NoError(t, b.fake.AddShop(9, "UTC", "app-b", "secret-b"))
		elsewhere := b.newAdapter(t, func(o *tekmetric.Opts) { o.ShopID = 9 })

		_, err := elsewhere.FetchNewLeads(t.Context(), b.since, b.until)
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.ErrorContains(t, err, "error listing repair orders for shop 9: the token's scope (shops 3 4) does not include shop 9: grant this application access to the shop in Tekmetric")
		require.Empty(t, b.requests("/api/v1/repair-orders"), "no API call for a shop outside the scope")

		// Once the shop grants access, the same token covers it: the
		// adapter asks for the token again rather than trusting the scope
		// it cached.
		require.NoError(t, b.fake.AddShop(9, "UTC", testClient, testSecret))
		_, err = elsewhere.FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
	})
	t.Run("SecretAndTokenNeverInErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A gateway that echoes the request's credentials in its error page.
		echo := b.adapterThrough(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if strings.HasPrefix(r.URL.Path, "/api/v1/vehicles/") {
				http.Error(w, "upstream refused "+r.Header.Get("Authorization")+" for "+testSecret, http.StatusBadGateway)
				return
			}
			next.ServeHTTP(w, r)
		})
		_, err := echo.GetVehicle(t.Context(), "1")
		var status *crm.StatusError
		require.ErrorAs(t, err, &status)
		require.Equal(t, http.StatusBadGateway, status.StatusCode)
		require.Contains(t, err.Error(), "upstream refused Bearer [redacted]")

		for _, tok := range []string{testSecret, "SECRET", tokenOf(t, b)} {
			require.NotContains(t, err.Error(), tok)
		}
	})
}

// tokenOf returns the live token of the test application, as the fake
// hands it out.
func tokenOf(t *testing.T, b *testBundle) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.baseURL+"/api/v1/oauth/token", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	req.SetBasicAuth(testClient, testSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.NotEmpty(t, body.AccessToken)
	return body.AccessToken
}

func TestFetchNewLeads(t *testing.T) {
	t.Parallel()

	t.Run("SmallerPagesThanAskedAreFollowed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var want []string
		for i := range 35 {
			want = append(want, b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(time.Duration(i) * time.Minute)}).ExternalID)
		}
		// An API capping size lower than documented: 10 a page.
		a := b.adapterThrough(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			q := r.URL.Query()
			if q.Has("size") {
				q.Set("size", "10")
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
		got, err := a.FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
		require.Equal(t, want, crmtest.ExternalIDs(got))
		require.Len(t, b.requests("/api/v1/repair-orders"), 4)
	})
	t.Run("ListChangingWhilePagedIsPagedAgain", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetClock(func() time.Time { return b.until.Add(time.Hour) })
		var refs []fake.LeadRef
		for i := range 150 {
			refs = append(refs, b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(time.Duration(i) * 20 * time.Second)}))
		}
		// Staff edit the first estimate while page 1 is being asked for: it
		// leaves the window and every row after it moves up a page, so row
		// 100 is now on page 0, which was already read.
		first := numericID(t, refs[0].ID)
		var edited atomic.Bool
		a := b.adapterThrough(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if r.URL.Path == "/api/v1/repair-orders" && r.URL.Query().Get("page") == "1" && edited.CompareAndSwap(false, true) {
				if err := b.fake.Touch(testShop, faketekmetric.RepairOrders, first); err != nil {
					t.Error(err)
				}
			}
			next.ServeHTTP(w, r)
		})
		got, err := a.FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
		require.Equal(t, crmtest.RefIDs(refs...), crmtest.ExternalIDs(got), "nothing lost, the edited row from before its edit")
		require.Len(t, b.requests("/api/v1/repair-orders"), 4, "page 0 and 1, then a second pass of pages 0 and 1")
	})
	t.Run("OnlyEstimatesAndCustomerBookings", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		estimate := b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(1 * time.Minute), Concern: "Brakes squeal", Authorized: true})
		b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(2 * time.Minute), StatusID: 2})
		b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(3 * time.Minute), StatusID: 4})
		b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(4 * time.Minute), DeletedAt: b.at(5 * time.Minute)})
		web := b.AddLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, CreatedAt: b.at(6 * time.Minute), Concern: "Oil change"})
		arrived := b.AddLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, CreatedAt: b.at(7 * time.Minute), LeadSource: "Google", Arrived: true, AppointmentStatus: "ARRIVED"})
		b.AddLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, CreatedAt: b.at(8 * time.Minute), NoLeadSource: true})
		b.AddLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, CreatedAt: b.at(9 * time.Minute), DeletedAt: b.at(10 * time.Minute)})

		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, crmtest.RefIDs(estimate, web, arrived), crmtest.ExternalIDs(got))
		want := crmtest.InquiryOf(estimate, lead.SourceEstimate)
		want.Summary, want.CreatedAt, want.UpdatedAt = "Brakes squeal", b.at(time.Minute), b.at(time.Minute)
		want.Version, want.Booked = b.at(time.Minute).UnixMilli(), true
		require.Equal(t, want, got[0], "an authorized job is a commitment")
		require.Equal(t, lead.SourceAppointment, got[1].Source)
		require.Equal(t, "Oil change", got[1].Summary, "the description, not the title")
		require.False(t, got[1].Booked, "a booking request is not yet a commitment")
		require.True(t, got[2].Booked, "a customer who arrived is")
	})
	t.Run("ZonelessTimesAreReadInTheShopZone", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		appt := b.AddLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, CreatedAt: b.at(30 * time.Minute)})
		planted := b.AddRaw(t, faketekmetric.Appointments,
			`{"id": 555, "shopId": 3, "customerId": 1, "leadSource": "Yelp", "createdDate": null, "updatedDate": "2026-11-25T09:45:00"}`)
		require.Equal(t, int64(555), planted)
		// Offsets are taken as written, Java's "-0600" included.
		b.AddRaw(t, faketekmetric.Appointments,
			`{"id": 556, "shopId": 3, "customerId": 1, "leadSource": "Yelp", "createdDate": "2026-11-25T09:50:00.000-0600", "updatedDate": "2026-11-25T09:50:00.000-0600"}`)
		b.AddRaw(t, faketekmetric.Appointments,
			`{"id": 557, "shopId": 3, "customerId": 1, "leadSource": "Yelp", "updatedDate": "2026-11-25T15:55:00+00:00"}`)

		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, []string{appt.ExternalID, "appointment:555", "appointment:556", "appointment:557"}, crmtest.ExternalIDs(got))
		require.Equal(t, time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC), got[0].UpdatedAt, "09:30 in Chicago is 15:30 UTC")
		require.Equal(t, time.Date(2026, 11, 25, 15, 45, 0, 0, time.UTC), got[1].UpdatedAt)
		require.True(t, got[1].CreatedAt.IsZero(), "createdDate may be null")
		require.Equal(t, time.Date(2026, 11, 25, 15, 50, 0, 0, time.UTC), got[2].UpdatedAt)
		require.Equal(t, time.Date(2026, 11, 25, 15, 55, 0, 0, time.UTC), got[3].UpdatedAt)

		// Read in the wrong zone the same rows fall outside the window.
		utc := b.newAdapter(t, func(o *tekmetric.Opts) { o.Location = nil })
		got = crmtest.Poll(t, utc, b.since, b.until)
		require.Equal(t, []string{"appointment:556", "appointment:557"}, crmtest.ExternalIDs(got), "only the times with an offset")
	})
	t.Run("WindowIsHalfOpen", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.since.Add(-time.Millisecond)})
		first := b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.since})
		last := b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.until.Add(-time.Millisecond)})
		b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.until})
		// The API's updatedDateEnd is inclusive, and the adapter asks in
		// whole seconds: the API sends back more than the window.
		var served atomic.Int64
		a := b.adapterThrough(t, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			if r.URL.Path == "/api/v1/repair-orders" {
				var p struct{ TotalElements int64 }
				_ = json.Unmarshal(rec.Body.Bytes(), &p)
				served.Store(p.TotalElements)
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
		got, err := a.FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
		require.Equal(t, int64(3), served.Load(), "the API includes the row at until")
		require.Equal(t, crmtest.RefIDs(first, last), crmtest.ExternalIDs(got))

		// A window inside one second is asked for as that whole second.
		_, err = b.adapter.FetchNewLeads(t.Context(), b.since.Add(300*time.Millisecond), b.since.Add(600*time.Millisecond))
		require.NoError(t, err)
		q := b.queries(t, "/api/v1/repair-orders")
		require.Equal(t, "2026-11-25T15:00:00Z", q[len(q)-1].Get("updatedDateStart"))
		require.Equal(t, "2026-11-25T15:00:01Z", q[len(q)-1].Get("updatedDateEnd"))
	})
	t.Run("ShopIsolation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.fake.AddShop(4, "UTC", testClient, testSecret))
		mine := b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(time.Minute)})
		theirs, err := b.fake.AddLead(4, faketekmetric.LeadSpec{CreatedAt: b.at(time.Minute)})
		require.NoError(t, err)

		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, crmtest.RefIDs(mine), crmtest.ExternalIDs(got))

		// The token reads shop 4 too, so the adapter checks every record
		// (the contract's OnlyTheWindowAndTheShop), and says why.
		_, err = b.adapter.GetCustomer(t.Context(), theirs.CustomerID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.ErrorContains(t, err, "it is a customer of shop 4")
	})
}

func TestInvalidRecords(t *testing.T) {
	t.Parallel()

	// order is a valid raw repair order inside the window with fields
	// replaced or removed (a nil value removes the field).
	order := func(b *testBundle, id any, change map[string]any) string {
		m := map[string]any{
			"id": id, "shopId": testShop, "repairOrderStatus": map[string]any{"id": 1, "code": "ESTIMATE", "name": "Estimate"},
			"customerId": 11, "vehicleId": 12, "customerConcerns": []any{map[string]any{"concern": "Noise"}},
			"createdDate": b.at(time.Minute).Format(time.RFC3339), "updatedDate": b.at(time.Minute).Format(time.RFC3339),
		}
		return faketest.JSONWith(m, change)
	}

	for name, tc := range map[string]struct {
		id     any
		change map[string]any
		record string
		field  string
	}{
		"IDNotAnInteger":        {"ro-1", nil, "repair order", "id"},
		"MissingID":             {nil, nil, "repair order", "id"},
		"MissingCustomerID":     {71, map[string]any{"customerId": nil}, "repair order 71", "customerId"},
		"CustomerIDAsString":    {71, map[string]any{"customerId": "11"}, "repair order 71", "customerId"},
		"CreatedDateNotTime":    {71, map[string]any{"createdDate": "25/11/2026"}, "repair order 71", "createdDate"},
		"ConcernNotString":      {71, map[string]any{"customerConcerns": []any{map[string]any{"concern": 5}}}, "repair order 71", "customerConcerns.concern"},
		"VehicleIDNotAnInteger": {71, map[string]any{"vehicleId": "v12"}, "repair order 71", "vehicleId"},
		"JobAuthorizedNotABool": {71, map[string]any{"jobs": []any{map[string]any{"authorized": "yes"}}}, "repair order 71", "jobs.authorized"},
	} {
		t.Run("FetchNewLeads"+name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			good := b.AddLead(t, faketekmetric.LeadSpec{CreatedAt: b.at(2 * time.Minute)})
			if tc.id == nil {
				b.AddRaw(t, faketekmetric.RepairOrders, order(b, 0, map[string]any{"id": nil}))
			} else {
				b.AddRaw(t, faketekmetric.RepairOrders, order(b, tc.id, tc.change))
			}
			// One bad record must not hold up the window: the good lead
			// comes back, and so does the bad one, carrying its problem.
			got := crmtest.Poll(t, b.adapter, b.since, b.until)
			require.Len(t, got, 2)
			bad, ok := crmtest.SplitProblems(got)
			require.Equal(t, []string{good.ExternalID}, crmtest.ExternalIDs(ok))
			require.Len(t, bad, 1)
			crmtest.RequireInvalidRecord(t, bad[0].Problem, tc.record, tc.field)
			if tc.record == "repair order" {
				require.Empty(t, bad[0].ExternalID, "no readable id, nothing to ingest")
			} else {
				require.Equal(t, "repair-order:71", bad[0].ExternalID)
			}
		})
	}
	t.Run("AppointmentWithoutCustomer", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, faketekmetric.Appointments, `{"id": 81, "shopId": 3, "leadSource": "Website", "updatedDate": "2026-11-25T09:10:00"}`)
		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Len(t, got, 1)
		require.Equal(t, "appointment:81", got[0].ExternalID)
		crmtest.RequireInvalidRecord(t, got[0].Problem, "appointment 81", "customerId")

		_, err := b.adapter.GetLead(t.Context(), "appointment:81")
		crmtest.RequireInvalidRecord(t, err, "appointment 81", "customerId")
	})
	t.Run("MalformedButNotALeadIsSkipped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, faketekmetric.Appointments, `{"id": 82, "shopId": 3, "leadSource": null, "updatedDate": "2026-11-25T09:10:00"}`)
		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Empty(t, got, "a staff-made appointment is no lead, however malformed")
	})
	t.Run("GetLeadUpdatedDateNotTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, faketekmetric.RepairOrders, order(b, 71, map[string]any{"updatedDate": "last tuesday"}))
		_, err := b.adapter.GetLead(t.Context(), "repair-order:71")
		crmtest.RequireInvalidRecord(t, err, "repair order 71", "updatedDate")
		require.ErrorContains(t, err, `"last tuesday"`)
		require.False(t, errors.Is(err, crm.ErrNotFound) || errors.Is(err, crm.ErrUnauthorized), "not retryable, not missing: bad data")
	})
}

func TestGetLead(t *testing.T) {
	t.Parallel()

	t.Run("WorkStartedIsBooked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ref := b.AddLead(t, faketekmetric.LeadSpec{})
		require.NoError(t, b.fake.SetRepairOrderStatus(testShop, numericID(t, ref.ID), 2))
		got, err := b.adapter.GetLead(t.Context(), ref.ExternalID)
		require.NoError(t, err)
		require.True(t, got.Booked)

		saved := b.AddLead(t, faketekmetric.LeadSpec{StatusID: 4})
		got, err = b.adapter.GetLead(t.Context(), saved.ExternalID)
		require.NoError(t, err)
		require.False(t, got.Booked, "saved for later is not a yes")
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		deleted := b.AddLead(t, faketekmetric.LeadSpec{DeletedAt: time.Now()})
		deletedAppt := b.AddLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, DeletedAt: time.Now()})
		crmtest.RequireLeadsNotFound(t, b.adapter, "repair-order:999999", "appointment:abc", "appointment:-4", "invoice:1", "repair-order:", "123", deleted.ExternalID, deletedAppt.ExternalID)
	})
}

func TestGetCustomer(t *testing.T) {
	t.Parallel()

	crmtest.EachBool(t, "OKForMarketing", func(t *testing.T, ok bool) {
		b := setup(t)
		ref := b.AddLead(t, faketekmetric.LeadSpec{FirstName: "Ann", LastName: "Lee", Phone: "312-201-3344", Email: "Ann@Example.com", OKForMarketing: new(ok)})
		c := crmtest.Customer(t, b.adapter, ref.CustomerID)
		// The one flag is every channel's evidence.
		evidence := lead.ConsentEvidence{Field: "customer.okForMarketing", Value: strconv.FormatBool(ok)}
		want := crmtest.AnnLee(ref.CustomerID,
			lead.CustomerPhone{Number: "312-201-3344", Type: "Cell", Primary: true, OptIn: ok, OptInEvidence: evidence},
			lead.CustomerEmail{Address: "Ann@Example.com", Primary: true, Subscribed: ok, SubscribedEvidence: evidence})
		want.MarketingOptIn = ok
		require.Equal(t, want, c, "okForMarketing is the consent of every channel")
		crmtest.RequireLead(t, b.adapter, tekmetric.Kind, ref, c, "+13122013344", lead.Consent{SMS: ok, Email: ok, Marketing: ok})
	})
	t.Run("OtherShapes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A business, with the written shapes: emails as an array, phones
		// under "phones".
		id := b.AddRaw(t, faketekmetric.Customers, `{"id": 61, "shopId": 3, "firstName": "Acme", "lastName": "Fleet",
			"contactFirstName": "Bo", "contactLastName": "Diaz", "customerType": {"id": 2, "code": "BUSINESS"},
			"email": ["", "fleet@acme.test", "bo@acme.test"], "phones": [{"number": "312-201-0000", "type": "Work", "primary": false}]}`)
		c, err := b.adapter.GetCustomer(t.Context(), strconv.FormatInt(id, 10))
		require.NoError(t, err)
		absent := lead.ConsentEvidence{Field: "customer.okForMarketing", Value: lead.ConsentValueAbsent}
		require.Equal(t, lead.Customer{
			ExternalID:  "61",
			FirstName:   "Bo",
			LastName:    "Diaz",
			CompanyName: "Acme Fleet",
			Phones:      []lead.CustomerPhone{{Number: "312-201-0000", Type: "Work", OptInEvidence: absent}},
			Emails: []lead.CustomerEmail{{Address: "fleet@acme.test", Primary: true, SubscribedEvidence: absent},
				{Address: "bo@acme.test", SubscribedEvidence: absent}},
		}, c, "no okForMarketing: no consent")
	})
	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, faketekmetric.Customers, `{"id": 62, "shopId": 3, "email": {"address": "x"}}`)
		_, err := b.adapter.GetCustomer(t.Context(), "62")
		crmtest.RequireInvalidRecord(t, err, "customer 62", "email")
		b.AddRaw(t, faketekmetric.Customers, `{"id": 63, "shopId": 3, "phone": [{"number": 3122013344}]}`)
		_, err = b.adapter.GetCustomer(t.Context(), "63")
		crmtest.RequireInvalidRecord(t, err, "customer 63", "phone.number")
		// An address of the wrong shape names the field and costs only
		// the address: the customer (and the lead) is kept.
		for id, want := range map[string]lead.ValidationError{
			`{"id": 65, "shopId": 3, "firstName": "Ann", "address": {"state": 48}}`:           {Field: "customer.address.state", Reason: "is not a string: 48"},
			`{"id": 66, "shopId": 3, "firstName": "Ann", "address": "1 Main St, Austin, TX"}`: {Field: "customer.address", Reason: `is not an object: "1 Main St, Austin, TX"`},
		} {
			b.AddRaw(t, faketekmetric.Customers, id)
			ref := id[7:9]
			c, err := b.adapter.GetCustomer(t.Context(), ref)
			require.NoError(t, err, id)
			require.Equal(t, "Ann", c.FirstName)
			require.NotNil(t, c.Address.Problem, id)
			require.Equal(t, want, *c.Address.Problem, id)
		}
	})
	t.Run("Address", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Only the state is read, cleaned as every text is; a null
		// address or one without a state is no state.
		b.AddRaw(t, faketekmetric.Customers, `{"id": 67, "shopId": 3, "address": {"id": 5, "address1": "1 Main St", "address2": null,
			"city": "Austin", "state": " T\u0000X ", "zip": "78701", "streetAddress": "1 Main St", "fullAddress": "1 Main St, Austin, TX 78701"}}`)
		c, err := b.adapter.GetCustomer(t.Context(), "67")
		require.NoError(t, err)
		require.Equal(t, lead.CustomerAddress{State: "TX"}, c.Address, "Tekmetric has no country")
		require.Equal(t, []string{"customer.address.state"}, c.Cleaned)
		for id, raw := range map[string]string{"68": `null`, "69": `{"id": 6, "city": "Austin", "state": null}`} {
			b.AddRaw(t, faketekmetric.Customers, `{"id": `+id+`, "shopId": 3, "address": `+raw+`}`)
			c, err := b.adapter.GetCustomer(t.Context(), id)
			require.NoError(t, err, raw)
			require.Equal(t, lead.CustomerAddress{}, c.Address, raw)
			require.Empty(t, c.Cleaned, raw)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, faketekmetric.Customers, `{"id": 64, "shopId": 3, "deletedDate": "2026-11-01T00:00:00Z"}`)
		for _, id := range []string{"999999", "nobody", "64"} {
			_, err := b.adapter.GetCustomer(t.Context(), id)
			require.ErrorIs(t, err, crm.ErrNotFound, id)
		}
	})
}

func TestGetVehicle(t *testing.T) {
	t.Parallel()

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.adapter.GetVehicle(t.Context(), "999999")
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.ErrorContains(t, err, "error fetching vehicle 999999 for shop 3")
	})
}

func TestCreateAppointment(t *testing.T) {
	t.Parallel()

	t.Run("InvalidIsRefusedBeforeAnyCall", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start := b.at(0)
		for field, appt := range map[string]crm.Appointment{
			"appointment.customer_id": {CustomerID: "c-1", Title: "x", Start: start, End: start.Add(time.Hour)},
			"appointment.vehicle_id":  {CustomerID: "1", VehicleID: "v", Title: "x", Start: start, End: start.Add(time.Hour)},
			"appointment.title":       {CustomerID: "1", Start: start, End: start.Add(time.Hour)},
			"appointment.start":       {CustomerID: "1", Title: "x", End: start},
			"appointment.end":         {CustomerID: "1", Title: "x", Start: start, End: start},
		} {
			_, err := b.adapter.CreateAppointment(t.Context(), appt)
			var invalid *lead.ValidationError
			require.ErrorAs(t, err, &invalid)
			require.Equal(t, field, invalid.Field)
		}
		require.Empty(t, b.fake.Requests(), "not even a token request")
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()

	t.Run("RateLimitOfTheApplication", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetRateLimit(2)
		ref := b.AddLead(t, faketekmetric.LeadSpec{})
		for range 2 {
			_, err := b.adapter.GetVehicle(t.Context(), ref.VehicleID)
			require.NoError(t, err)
		}
		_, err := b.newAdapter(t, nil).GetCustomer(t.Context(), ref.CustomerID)
		var limited *crm.RateLimitedError
		require.ErrorAs(t, err, &limited, "the limit is the application's, whichever adapter calls")
		require.Zero(t, limited.RetryAfter)
	})
	t.Run("TokenEndpointRateLimited", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusTooManyRequests, Paths: []string{"/oauth/token"}, Count: 1})
		_, err := b.adapter.GetVehicle(t.Context(), "1")
		var limited *crm.RateLimitedError
		require.ErrorAs(t, err, &limited)
		_, err = b.adapter.GetVehicle(t.Context(), "1")
		require.ErrorIs(t, err, crm.ErrNotFound, "a failed token fetch is not cached")
	})
	t.Run("ServerError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, Paths: []string{"/api/v1/repair-orders"}, Count: 1})
		b.fake.AddFault(fake.Fault{Status: http.StatusServiceUnavailable, EmptyBody: true, Paths: []string{"/api/v1/repair-orders"}, Count: 1})
		_, err := b.adapter.GetLead(t.Context(), "repair-order:1")
		require.ErrorContains(t, err, "error fetching repair order 1 for shop 3")
		status := crmtest.RequireStatus(t, err, http.StatusInternalServerError)
		require.Equal(t, "Internal Server Error", status.Message)
		require.True(t, status.Temporary())

		_, err = b.adapter.FetchNewLeads(t.Context(), b.since, b.until)
		crmtest.RequireStatus(t, err, http.StatusServiceUnavailable)
		require.ErrorContains(t, err, "error listing repair orders for shop 3")
	})
	t.Run("ForbiddenShop", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.NoError(t, b.fake.AddShop(9, "UTC", "app-b", "secret-b"))
		theirs, err := b.fake.AddLead(9, faketekmetric.LeadSpec{})
		require.NoError(t, err)
		_, err = b.adapter.GetCustomer(t.Context(), theirs.CustomerID)
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.ErrorContains(t, err, "HTTP 403 (insufficient_scope)")
	})
	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddFault(fake.Fault{Hang: 5 * time.Second, Paths: []string{"/api/v1/vehicles/"}, Count: 1})
		a := b.newAdapter(t, func(o *tekmetric.Opts) { o.Timeout = 200 * time.Millisecond })
		_, err := a.GetVehicle(t.Context(), "1")
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("CallerGivingUpLeavesTheTokenFetch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddFault(fake.Fault{Latency: 300 * time.Millisecond, Paths: []string{"/oauth/token"}, Count: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := b.adapter.GetVehicle(ctx, "1")
		require.ErrorIs(t, err, context.DeadlineExceeded)

		// The fetch went on without the caller; the next call waits for it
		// instead of asking again.
		_, err = b.adapter.GetVehicle(t.Context(), "1")
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.Equal(t, 1, b.tokenRequests())
	})
}

// ExampleClient_FetchNewLeads polls the Tekmetric fake for the estimates
// and booking requests of one hour.
func ExampleClient_FetchNewLeads() {
	fake := faketekmetric.New()
	_ = fake.AddShop(3, "America/Chicago", "example-app", "example-secret")
	since := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	_, _ = fake.AddLead(3, faketekmetric.LeadSpec{Concern: "Brakes squeal when stopping", CreatedAt: since.Add(5 * time.Minute)})
	_, _ = fake.AddLead(3, faketekmetric.LeadSpec{Kind: "appointment", Concern: "Oil change", CreatedAt: since.Add(20 * time.Minute)})
	server := httptest.NewServer(fake)
	defer server.Close()

	chicago, _ := time.LoadLocation("America/Chicago")
	client, err := tekmetric.New(tekmetric.Opts{
		BaseURL: server.URL, ClientID: "example-app", ClientSecret: "example-secret", ShopID: 3,
		Location: chicago, Tokens: tekmetric.NewTokenCache(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	crmtest.PrintPolled(chicago)(client.FetchNewLeads(context.Background(), since, since.Add(time.Hour)))
	// Output:
	// estimate 9:05AM Brakes squeal when stopping
	// appointment 9:20AM Oil change
}

// TestBadTextInRecords: the adapter cleans every text it reads (a NUL
// dropped, a byte that is not UTF-8 made U+FFFD) and names the fields it
// cleaned, for the lead's problems.
func TestBadTextInRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	a := b.newAdapter(t, nil)
	ref := b.AddLead(t, faketekmetric.LeadSpec{FirstName: "Lei\x00la", Concern: "Grinding " + fake.InvalidUTF8 + " noise",
		Model: "CX-5\x00", Make: "Mazda", Phone: "312-201-3344", Email: "leila" + fake.InvalidUTF8 + "@example.com"})

	in, err := a.GetLead(ctx, ref.ExternalID)
	require.NoError(t, err)
	require.Equal(t, "Grinding \uFFFD noise", in.Summary)
	require.Equal(t, []string{"repair_order.customerConcerns[0].concern", "repair_order.jobs[0].name"}, in.Cleaned)
	c, err := a.GetCustomer(ctx, in.CustomerID)
	require.NoError(t, err)
	require.Equal(t, "Leila", c.FirstName)
	require.Equal(t, "leila\uFFFD@example.com", c.Emails[0].Address)
	require.Equal(t, []string{"customer.firstName", "customer.email"}, c.Cleaned)
	v, err := a.GetVehicle(ctx, in.VehicleID)
	require.NoError(t, err)
	require.Equal(t, "CX-5", v.Model)
	require.Equal(t, []string{"vehicle.model"}, v.Cleaned)
}
