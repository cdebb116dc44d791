package faketekmetric_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// tekmetricBundle is what every Tekmetric fake test gets: shop 3 in
// Chicago, granted to application "app-a", and a token of that application.
type tekmetricBundle struct {
	fake   *faketekmetric.API
	server *httptest.Server
	shop   int64
	token  string
	// base is a Wednesday afternoon in November: Chicago is on CST (UTC-6).
	base    time.Time
	chicago *time.Location
}

const (
	tmClient = "app-a"
	tmSecret = "secret-a"
)

func setupTekmetric(t *testing.T) *tekmetricBundle {
	t.Helper()
	fake := faketekmetric.New()
	require.NoError(t, fake.AddShop(3, "America/Chicago", tmClient, tmSecret))
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	b := &tekmetricBundle{fake: fake, server: server, shop: 3, base: time.Date(2026, 11, 25, 15, 30, 0, 0, time.UTC), chicago: chicago}
	b.token = b.fetchToken(t, tmClient, tmSecret)
	return b
}

// tmAnswer is a decoded Tekmetric answer, kept loose so tests see exactly
// which keys the fake sent; body is nil when the answer had none.
type tmAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func (b *tekmetricBundle) send(t *testing.T, req *http.Request) tmAnswer {
	t.Helper()
	resp, body := faketest.Do(t, req)
	return tmAnswer{status: resp.StatusCode, header: resp.Header, body: body}
}

// tokenRequest posts form to the token endpoint with id and secret as HTTP
// Basic auth (none when id is empty).
func (b *tekmetricBundle) tokenRequest(t *testing.T, id, secret, form string) tmAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.server.URL+"/api/v1/oauth/token", strings.NewReader(form))
	require.NoError(t, err)
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(t, req)
}

func (b *tekmetricBundle) fetchToken(t *testing.T, id, secret string) string {
	t.Helper()
	a := b.tokenRequest(t, id, secret, "grant_type=client_credentials")
	require.Equal(t, http.StatusOK, a.status, "body: %v", a.body)
	return a.body["access_token"].(string)
}

func (b *tekmetricBundle) do(t *testing.T, method, token, path string, query url.Values, body string) tmAnswer {
	t.Helper()
	req := faketest.BearerRequest(t, method, b.server.URL+path, query, body, token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return b.send(t, req)
}

func (b *tekmetricBundle) get(t *testing.T, path string, query url.Values) tmAnswer {
	t.Helper()
	return b.do(t, http.MethodGet, b.token, path, query, "")
}

// book posts a booking of the seeded lead ref: a valid appointment with
// change applied (see faketest.JSONWith).
func (b *tekmetricBundle) book(t *testing.T, ref fake.LeadRef, change map[string]any) tmAnswer {
	t.Helper()
	body := faketest.JSONWith(map[string]any{
		"shopId": 3, "customerId": json.Number(ref.CustomerID), "vehicleId": json.Number(ref.VehicleID), "title": "Brake job",
		"startTime": "2026-11-27T14:00:00Z", "endTime": "2026-11-27T15:00:00Z",
	}, change)
	return b.do(t, http.MethodPost, b.token, "/api/v1/appointments", nil, body)
}

// list gets a list of shop 3 with extra query parameters.
func (b *tekmetricBundle) list(t *testing.T, path string, extra url.Values) tmAnswer {
	t.Helper()
	q := url.Values{"shop": {strconv.FormatInt(b.shop, 10)}}
	for k, v := range extra {
		q[k] = v
	}
	a := b.get(t, path, q)
	require.Equal(t, http.StatusOK, a.status, "body: %v", a.body)
	return a
}

func (b *tekmetricBundle) addLead(t *testing.T, spec faketekmetric.LeadSpec) fake.LeadRef {
	t.Helper()
	ref, err := b.fake.AddLead(b.shop, spec)
	require.NoError(t, err)
	return ref
}

func (a tmAnswer) content(t *testing.T) []map[string]any {
	t.Helper()
	return faketest.Objects(t, a.body, "content")
}

// ids returns the content's ids, which must be JSON integers.
func (a tmAnswer) ids(t *testing.T) []string {
	t.Helper()
	return faketest.IDs(t, a.content(t), func(id any) (string, bool) {
		n, ok := id.(float64)
		return strconv.FormatInt(int64(n), 10), ok
	})
}

func refIDsOf(refs ...fake.LeadRef) []string {
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		ids = append(ids, r.ID)
	}
	return ids
}

func requireEmpty401(t *testing.T, a tmAnswer) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, a.status)
	require.Nil(t, a.body, "a bearer 401 has no body")
}

func TestTekmetricToken(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "Issued", func(t *testing.T) {
		b := setupTekmetric(t)
		a := b.tokenRequest(t, tmClient, tmSecret, "grant_type=client_credentials")
		require.Equal(t, http.StatusOK, a.status)
		require.Equal(t, map[string]any{"access_token": b.token, "token_type": "bearer", "scope": "3"}, a.body, "the live token again")
		require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, b.token)
	})
	faketest.Run(t, "ScopeListsEveryGrantedShop", func(t *testing.T) {
		b := setupTekmetric(t)
		require.NoError(t, b.fake.AddShop(12, "UTC", tmClient, tmSecret))
		require.NoError(t, b.fake.AddShop(7, "", "app-b", "secret-b"))
		a := b.tokenRequest(t, tmClient, tmSecret, "grant_type=client_credentials")
		require.Equal(t, "3 12", a.body["scope"])
		require.Equal(t, b.token, a.body["access_token"])
		require.Equal(t, http.StatusOK, b.list(t, "/api/v1/repair-orders", url.Values{"shop": {"12"}}).status, "the token covers a shop granted after it was issued")
	})
	faketest.Run(t, "BadCredentials", func(t *testing.T) {
		b := setupTekmetric(t)
		for _, c := range [][2]string{{tmClient, "wrong"}, {"nobody", tmSecret}, {"", ""}} {
			a := b.tokenRequest(t, c[0], c[1], "grant_type=client_credentials")
			require.Equal(t, http.StatusUnauthorized, a.status, c)
			require.Equal(t, "invalid_client", a.body["error"])
		}
	})
	faketest.Run(t, "WrongGrant", func(t *testing.T) {
		b := setupTekmetric(t)
		a := b.tokenRequest(t, tmClient, tmSecret, "grant_type=password")
		require.Equal(t, http.StatusBadRequest, a.status)
		require.Equal(t, "unsupported_grant_type", a.body["error"])
	})
	faketest.Run(t, "RotateSecret", func(t *testing.T) {
		b := setupTekmetric(t)
		require.NoError(t, b.fake.RotateSecret(tmClient, "secret-a2"))
		require.Equal(t, http.StatusUnauthorized, b.tokenRequest(t, tmClient, tmSecret, "grant_type=client_credentials").status)
		require.Equal(t, b.token, b.fetchToken(t, tmClient, "secret-a2"), "a token lasts until revoked")
		require.Error(t, b.fake.AddShop(4, "UTC", tmClient, tmSecret), "the old secret no longer names the client")
	})
}

func TestTekmetricBearer(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "MissingOrUnknownToken", func(t *testing.T) {
		b := setupTekmetric(t)
		requireEmpty401(t, b.do(t, http.MethodGet, "", "/api/v1/repair-orders", nil, ""))
		requireEmpty401(t, b.do(t, http.MethodGet, "not-a-token", "/api/v1/customers/1", nil, ""))
		requireEmpty401(t, b.do(t, http.MethodGet, "", "/api/v1/nothing", nil, ""))
	})
	faketest.Run(t, "RevokedThenRefetched", func(t *testing.T) {
		b := setupTekmetric(t)
		require.Equal(t, http.StatusOK, b.get(t, "/api/v1/appointments", nil).status)
		require.Equal(t, 1, b.fake.RevokeTokens(tmClient))
		require.Zero(t, b.fake.RevokeTokens(tmClient), "nothing left to revoke")
		requireEmpty401(t, b.get(t, "/api/v1/appointments", nil))

		fresh := b.fetchToken(t, tmClient, tmSecret)
		require.NotEqual(t, b.token, fresh)
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, fresh, "/api/v1/appointments", nil, "").status)
	})
	faketest.Run(t, "ShopOutsideScopeIs403", func(t *testing.T) {
		b := setupTekmetric(t)
		require.NoError(t, b.fake.AddShop(7, "UTC", "app-b", "secret-b"))
		mine := b.addLead(t, faketekmetric.LeadSpec{})
		theirs, err := b.fake.AddLead(7, faketekmetric.LeadSpec{})
		require.NoError(t, err)

		for _, a := range []tmAnswer{
			b.get(t, "/api/v1/repair-orders", url.Values{"shop": {"7"}}),
			b.get(t, "/api/v1/repair-orders/"+theirs.ID, nil),
			b.get(t, "/api/v1/customers/"+theirs.CustomerID, nil),
			b.get(t, "/api/v1/vehicles/"+theirs.VehicleID, nil),
			b.do(t, http.MethodPost, b.token, "/api/v1/appointments", nil, `{"shopId": 7, "title": "x", "startTime": "2026-11-27T14:00:00Z", "endTime": "2026-11-27T15:00:00Z"}`),
		} {
			require.Equal(t, http.StatusForbidden, a.status, "body: %v", a.body)
			require.Equal(t, "insufficient_scope", a.body["error"])
			require.Equal(t, "3", a.body["scope"])
		}
		require.Equal(t, refIDsOf(mine), b.list(t, "/api/v1/repair-orders", nil).ids(t), "shop 7's rows never show in shop 3")
		require.Equal(t, refIDsOf(mine), b.get(t, "/api/v1/repair-orders", nil).ids(t), "without shop, the rows of the scope's shops")
	})
	faketest.Run(t, "UnknownIDIs404", func(t *testing.T) {
		b := setupTekmetric(t)
		for _, p := range []string{"/api/v1/repair-orders/99", "/api/v1/appointments/99", "/api/v1/customers/99", "/api/v1/vehicles/99", "/api/v1/nothing"} {
			a := b.get(t, p, nil)
			require.Equal(t, http.StatusNotFound, a.status, p)
			require.Equal(t, "ERROR", a.body["type"])
			require.NotEmpty(t, a.body["message"])
		}
		a := b.get(t, "/api/v1/customers/abc", nil)
		require.Equal(t, http.StatusBadRequest, a.status)
	})
}

func TestTekmetricPages(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "SizeSilentlyCappedAt100", func(t *testing.T) {
		b := setupTekmetric(t)
		var want []string
		for range 150 {
			want = append(want, b.addLead(t, faketekmetric.LeadSpec{}).ID)
		}
		a := b.list(t, "/api/v1/repair-orders", url.Values{"size": {"500"}})
		require.Len(t, a.content(t), 100)
		for k, v := range map[string]any{"size": 100.0, "number": 0.0, "totalElements": 150.0, "totalPages": 2.0, "last": false, "first": true, "numberOfElements": 100.0, "empty": false} {
			require.Equal(t, v, a.body[k], k)
		}
		require.Contains(t, a.body, "pageable")
		require.Contains(t, a.body, "sort")

		next := b.list(t, "/api/v1/repair-orders", url.Values{"size": {"500"}, "page": {"1"}})
		require.Len(t, next.content(t), 50)
		require.Equal(t, true, next.body["last"])
		require.Equal(t, want, append(a.ids(t), next.ids(t)...), "pages are in id order and cover everything once")

		beyond := b.list(t, "/api/v1/repair-orders", url.Values{"size": {"100"}, "page": {"7"}})
		require.Empty(t, beyond.content(t))
		require.Equal(t, true, beyond.body["last"])

		require.Len(t, b.list(t, "/api/v1/repair-orders", nil).content(t), 10, "the default size is 10")
	})
	faketest.Run(t, "BadParametersAre400", func(t *testing.T) {
		b := setupTekmetric(t)
		for _, q := range []url.Values{
			{"page": {"-1"}}, {"size": {"ten"}}, {"shop": {"three"}}, {"updatedDateStart": {"yesterday"}},
			{"repairOrderStatusId": {"estimate"}}, {"customerId": {"x"}},
		} {
			a := b.get(t, "/api/v1/repair-orders", q)
			require.Equal(t, http.StatusBadRequest, a.status, "%v: %v", q, a.body)
			require.Equal(t, "ERROR", a.body["type"])
		}
		a := b.get(t, "/api/v1/appointments", url.Values{"includeDeleted": {"maybe"}})
		require.Equal(t, http.StatusBadRequest, a.status)
	})
}

func TestTekmetricFilters(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "UpdatedDateBothEndsInclusive", func(t *testing.T) {
		b := setupTekmetric(t)
		var refs []fake.LeadRef
		for h := -2; h <= 2; h++ {
			refs = append(refs, b.addLead(t, faketekmetric.LeadSpec{CreatedAt: b.base.Add(time.Duration(h) * time.Hour)}))
		}
		a := b.list(t, "/api/v1/repair-orders", url.Values{
			"updatedDateStart": {b.base.Add(-time.Hour).Format(time.RFC3339)},
			"updatedDateEnd":   {b.base.Add(time.Hour).Format(time.RFC3339)},
		})
		require.Equal(t, refIDsOf(refs[1:4]...), a.ids(t))

		// A date-time without an offset is read in the shop's zone.
		a = b.list(t, "/api/v1/repair-orders", url.Values{"updatedDateStart": {b.base.In(b.chicago).Format("2006-01-02T15:04:05")}})
		require.Equal(t, refIDsOf(refs[2:]...), a.ids(t))
	})
	faketest.Run(t, "RepairOrderStatus", func(t *testing.T) {
		b := setupTekmetric(t)
		estimate := b.addLead(t, faketekmetric.LeadSpec{})
		wip := b.addLead(t, faketekmetric.LeadSpec{StatusID: 2})
		saved := b.addLead(t, faketekmetric.LeadSpec{StatusID: 4})
		require.Equal(t, refIDsOf(estimate), b.list(t, "/api/v1/repair-orders", url.Values{"repairOrderStatusId": {"1"}}).ids(t))
		require.Equal(t, refIDsOf(estimate, saved), b.list(t, "/api/v1/repair-orders", url.Values{"repairOrderStatusId": {"1,4"}}).ids(t))
		require.Equal(t, refIDsOf(wip, saved), b.list(t, "/api/v1/repair-orders", url.Values{"repairOrderStatusId": {"2", "4"}}).ids(t))
		desc := b.list(t, "/api/v1/repair-orders", url.Values{"sortDirection": {"DESC"}}).ids(t)
		require.Equal(t, refIDsOf(saved, wip, estimate), desc)
	})
	faketest.Run(t, "DeletedFiltersReturnOnlyDeletedRecords", func(t *testing.T) {
		b := setupTekmetric(t)
		active := b.addLead(t, faketekmetric.LeadSpec{CreatedAt: b.base})
		deleted := b.addLead(t, faketekmetric.LeadSpec{CreatedAt: b.base, DeletedAt: b.base.Add(time.Minute)})
		updated := url.Values{
			"updatedDateStart": {b.base.Add(-time.Hour).Format(time.RFC3339)},
			"updatedDateEnd":   {b.base.Add(time.Hour).Format(time.RFC3339)},
		}
		require.Equal(t, refIDsOf(active), b.list(t, "/api/v1/repair-orders", updated).ids(t), "updated filters alone: active records only")

		both := url.Values{"deletedDateStart": {b.base.Format(time.RFC3339)}, "deletedDateEnd": {b.base.Add(time.Hour).Format(time.RFC3339)}}
		for k, v := range updated {
			both[k] = v
		}
		a := b.list(t, "/api/v1/repair-orders", both)
		require.Equal(t, refIDsOf(deleted), a.ids(t), "with deleted filters too, only the deleted one comes back")
		row := a.content(t)[0]
		require.Equal(t, 7.0, row["repairOrderStatus"].(map[string]any)["id"])
		require.NotNil(t, row["deletedDate"])
	})
	faketest.Run(t, "AppointmentsIncludeDeletedByDefault", func(t *testing.T) {
		b := setupTekmetric(t)
		kept := b.addLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment})
		gone := b.addLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, DeletedAt: b.base})
		require.Equal(t, refIDsOf(kept, gone), b.list(t, "/api/v1/appointments", nil).ids(t))
		require.Equal(t, refIDsOf(kept), b.list(t, "/api/v1/appointments", url.Values{"includeDeleted": {"false"}}).ids(t))
	})
	faketest.Run(t, "ZonelessTimesInTheShopZone", func(t *testing.T) {
		b := setupTekmetric(t)
		start := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
		appt := b.addLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, CreatedAt: b.base, StartAt: start})
		ro := b.addLead(t, faketekmetric.LeadSpec{CreatedAt: b.base, Authorized: true})

		got := b.get(t, "/api/v1/appointments/"+appt.ID, nil).body
		require.Equal(t, "2026-11-25T09:30:00", got["updatedDate"], "15:30Z is 09:30 in Chicago, written without an offset")
		require.Equal(t, "2026-11-25T09:30:00", got["createdDate"])
		require.Equal(t, "2026-11-27T08:00:00", got["startTime"])
		require.Equal(t, "2026-11-27T09:00:00", got["endTime"])

		order := b.get(t, "/api/v1/repair-orders/"+ro.ID, nil).body
		require.Equal(t, "2026-11-25T15:30:00Z", order["updatedDate"], "repair orders write UTC")
		job := order["jobs"].([]any)[0].(map[string]any)
		require.Equal(t, "2026-11-25T09:30:00", job["authorizedDate"], "but a job's authorizedDate has no offset")

		// The filter compares instants: 15:30:00Z finds the appointment
		// written as 09:30:00, 15:30:01Z does not.
		at := func(ts time.Time) []string {
			return b.list(t, "/api/v1/appointments", url.Values{"updatedDateStart": {ts.Format(time.RFC3339)}}).ids(t)
		}
		require.Equal(t, refIDsOf(appt), at(b.base))
		require.Empty(t, at(b.base.Add(time.Second)))
	})
}

func TestTekmetricRateLimit(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "EmptyBody429PerApplication", func(t *testing.T) {
		b := setupTekmetric(t)
		require.Equal(t, faketekmetric.DefaultRateLimit, b.fake.RateLimit())
		now := b.base
		var mu sync.Mutex
		b.fake.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		b.fake.SetRateLimit(3)
		require.NoError(t, b.fake.AddShop(7, "UTC", "app-b", "secret-b"))
		other := b.fetchToken(t, "app-b", "secret-b")

		for range 3 {
			require.Equal(t, http.StatusOK, b.get(t, "/api/v1/appointments", nil).status)
		}
		a := b.get(t, "/api/v1/appointments", nil)
		require.Equal(t, http.StatusTooManyRequests, a.status)
		require.Nil(t, a.body, "Tekmetric's 429 has an empty body")
		require.Empty(t, a.header.Get("Retry-After"), "and no Retry-After")
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, other, "/api/v1/appointments", nil, "").status, "the limit is per application")
		require.Equal(t, http.StatusOK, b.tokenRequest(t, tmClient, tmSecret, "grant_type=client_credentials").status, "the token endpoint is not limited")

		mu.Lock()
		now = now.Add(time.Minute)
		mu.Unlock()
		require.Equal(t, http.StatusOK, b.get(t, "/api/v1/appointments", nil).status, "a minute later the window has room")

		b.fake.SetRateLimit(0)
		for range 5 {
			require.Equal(t, http.StatusOK, b.get(t, "/api/v1/appointments", nil).status)
		}
	})
}

func TestTekmetricFaults(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "RateLimitFaultHasEmptyBody", func(t *testing.T) {
		b := setupTekmetric(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusTooManyRequests, Count: 1})
		a := b.get(t, "/api/v1/appointments", nil)
		require.Equal(t, http.StatusTooManyRequests, a.status)
		require.Nil(t, a.body)
		require.Empty(t, a.header.Get("Retry-After"))
		require.Equal(t, http.StatusOK, b.get(t, "/api/v1/appointments", nil).status, "Count 1 clears after one request")

		b.fake.AddFault(fake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second, Count: 1})
		require.Equal(t, "7", b.get(t, "/api/v1/appointments", nil).header.Get("Retry-After"), "only when the fault sets one")
	})
	faketest.Run(t, "ServerErrorShape", func(t *testing.T) {
		b := setupTekmetric(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 1})
		a := b.get(t, "/api/v1/appointments", nil)
		require.Equal(t, http.StatusInternalServerError, a.status)
		require.Equal(t, "ERROR", a.body["type"])
		require.Equal(t, fake.FaultTally{Requests: 2, FaultedBefore: 1}, b.fake.FaultTally(), "the token request and the faulted one")
	})
	faketest.Run(t, "AfterBooksThenFails", func(t *testing.T) {
		b := setupTekmetric(t)
		ref := b.addLead(t, faketekmetric.LeadSpec{})
		b.fake.AddFault(fake.Fault{Status: http.StatusBadGateway, EmptyBody: true, After: true, Method: http.MethodPost, Paths: []string{"/api/v1/appointments"}, Count: 1})
		a := b.do(t, http.MethodPost, b.token, "/api/v1/appointments", nil,
			`{"shopId": 3, "customerId": `+ref.CustomerID+`, "title": "Brakes", "startTime": "2026-11-27T14:00:00Z", "endTime": "2026-11-27T15:00:00Z"}`)
		require.Equal(t, http.StatusBadGateway, a.status)
		require.Equal(t, 1, b.fake.Counts(b.shop).Appointments, "Tekmetric has it although the client saw a 502")
	})
}

func TestTekmetricCreateAppointment(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "Created", func(t *testing.T) {
		b := setupTekmetric(t)
		ref := b.addLead(t, faketekmetric.LeadSpec{})
		a := b.book(t, ref, nil)
		require.Equal(t, http.StatusOK, a.status, "body: %v", a.body)
		require.Equal(t, "SUCCESS", a.body["type"])
		id, ok := a.body["data"].(float64)
		require.True(t, ok, "data is the new id: %v", a.body)

		raw, ok := b.fake.Record(b.shop, faketekmetric.Appointments, int64(id))
		require.True(t, ok)
		var got map[string]any
		require.NoError(t, json.Unmarshal(raw, &got))
		require.Nil(t, got["leadSource"], "API bookings are not customer leads")
		require.Equal(t, "2026-11-27T08:00:00", got["startTime"], "stored as the shop's wall-clock time")
		require.Equal(t, "Brake job", got["title"])
		require.Equal(t, "navy", got["color"])
		require.Equal(t, 3.0, got["shopId"])

		// A time without an offset is taken in the shop's zone.
		a = b.book(t, ref, map[string]any{"startTime": "2026-11-27T10:00:00", "endTime": "2026-11-27T11:00:00"})
		require.Equal(t, http.StatusOK, a.status, "body: %v", a.body)
		raw, _ = b.fake.Record(b.shop, faketekmetric.Appointments, int64(a.body["data"].(float64)))
		require.Contains(t, string(raw), `"startTime":"2026-11-27T10:00:00"`)
	})
	for name, change := range map[string]map[string]any{
		"NoTitle":              {"title": nil},
		"NoShop":               {"shopId": nil},
		"EndBeforeStart":       {"endTime": "2026-11-27T13:00:00Z"},
		"StartNotTime":         {"startTime": "tomorrow"},
		"UnknownColor":         {"color": "teal"},
		"UnknownCustomer":      {"customerId": 424242},
		"VehicleNoCustomer":    {"customerId": nil},
		"VehicleOfSomeoneElse": {"vehicleId": 1},
	} {
		faketest.Run(t, name, func(t *testing.T) {
			b := setupTekmetric(t)
			ref := b.addLead(t, faketekmetric.LeadSpec{})
			a := b.book(t, ref, change)
			require.Equal(t, http.StatusBadRequest, a.status, "body: %v", a.body)
			require.Equal(t, "ERROR", a.body["type"])
			require.Zero(t, b.fake.Counts(b.shop).Appointments)
		})
	}
}

func TestTekmetricRecords(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "RepairOrder", func(t *testing.T) {
		b := setupTekmetric(t)
		ref := b.addLead(t, faketekmetric.LeadSpec{Concern: "Brakes squeal", CreatedAt: b.base})
		require.Equal(t, "repair-order:"+ref.ID, ref.ExternalID)
		require.Equal(t, "3", ref.LocationID)
		o := b.get(t, "/api/v1/repair-orders/"+ref.ID, nil).body
		for _, f := range []string{"id", "repairOrderNumber", "shopId", "repairOrderStatus", "customerId", "vehicleId", "laborSales", "partsSales", "totalSales", "jobs", "customerConcerns", "createdDate", "updatedDate", "deletedDate"} {
			require.Contains(t, o, f)
		}
		require.Equal(t, map[string]any{"id": 1.0, "code": "ESTIMATE", "name": "Estimate"}, o["repairOrderStatus"])
		require.Equal(t, "Brakes squeal", o["customerConcerns"].([]any)[0].(map[string]any)["concern"])
		require.Equal(t, 1.0, o["repairOrderNumber"])
		require.IsType(t, 0.0, o["customerId"])
		require.Nil(t, o["jobs"].([]any)[0].(map[string]any)["authorized"], "not yet approved")
	})
	faketest.Run(t, "Appointment", func(t *testing.T) {
		b := setupTekmetric(t)
		ref := b.addLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, Concern: "Oil change"})
		require.Equal(t, "appointment:"+ref.ID, ref.ExternalID)
		ap := b.get(t, "/api/v1/appointments/"+ref.ID, nil).body
		for _, f := range []string{"id", "shopId", "customerId", "vehicleId", "startTime", "endTime", "title", "description", "arrived", "appointmentStatus", "createdDate", "updatedDate", "deletedDate", "leadSource"} {
			require.Contains(t, ap, f)
		}
		require.Equal(t, "Website", ap["leadSource"])
		require.Equal(t, "Oil change", ap["description"])
		require.Equal(t, "NONE", ap["appointmentStatus"])

		staff := b.addLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, NoLeadSource: true})
		require.Nil(t, b.get(t, "/api/v1/appointments/"+staff.ID, nil).body["leadSource"])
	})
	faketest.Run(t, "Customer", func(t *testing.T) {
		b := setupTekmetric(t)
		ref := b.addLead(t, faketekmetric.LeadSpec{OKForMarketing: new(false)})
		c := b.get(t, "/api/v1/customers/"+ref.CustomerID, nil).body
		for _, f := range []string{"id", "firstName", "lastName", "email", "phone", "customerType", "shopId", "okForMarketing", "createdDate", "updatedDate", "deletedDate"} {
			require.Contains(t, c, f)
		}
		require.IsType(t, "", c["email"], "email is a string on read")
		phones := c["phone"].([]any)
		require.Len(t, phones, 1)
		require.Regexp(t, regexp.MustCompile(`^312-\d{3}-\d{4}$`), phones[0].(map[string]any)["number"])
		require.Equal(t, false, c["okForMarketing"])
		require.Equal(t, 3.0, c["shopId"])
	})
	faketest.Run(t, "Vehicle", func(t *testing.T) {
		b := setupTekmetric(t)
		ref := b.addLead(t, faketekmetric.LeadSpec{Year: 2019, Make: "Honda", Model: "Civic", SubModel: "EX"})
		v := b.get(t, "/api/v1/vehicles/"+ref.VehicleID, nil).body
		for _, f := range []string{"id", "customerId", "year", "make", "model", "subModel", "vin", "licensePlate"} {
			require.Contains(t, v, f)
		}
		require.NotContains(t, v, "shopId", "Tekmetric vehicles carry no shop")
		require.Equal(t, 2019.0, v["year"])
		require.Equal(t, "EX", v["subModel"])
		require.Len(t, v["vin"], 17)
	})
	faketest.Run(t, "ReturningCustomerAndErrors", func(t *testing.T) {
		b := setupTekmetric(t)
		first := b.addLead(t, faketekmetric.LeadSpec{})
		cust, _ := strconv.ParseInt(first.CustomerID, 10, 64)
		veh, _ := strconv.ParseInt(first.VehicleID, 10, 64)
		second := b.addLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment, CustomerID: cust, VehicleID: veh})
		require.Equal(t, first.CustomerID, second.CustomerID)
		require.Equal(t, faketekmetric.Counts{RepairOrders: 1, Appointments: 1, Customers: 1, Vehicles: 1}, b.fake.Counts(b.shop))
		require.Equal(t, []fake.LeadRef{first, second}, b.fake.Leads(b.shop))

		for _, spec := range []faketekmetric.LeadSpec{{CustomerID: 999999}, {VehicleID: 999999}, {Kind: "invoice"}, {StatusID: 9}} {
			_, err := b.fake.AddLead(b.shop, spec)
			require.Error(t, err, "%+v", spec)
		}
		_, err := b.fake.AddLead(99, faketekmetric.LeadSpec{})
		require.ErrorContains(t, err, "no shop 99")
		require.Error(t, b.fake.AddShop(3, "Europe/Paris", tmClient, tmSecret), "a shop keeps its zone")
		require.Error(t, b.fake.AddShop(4, "Mars/Olympus", tmClient, tmSecret))
	})
	faketest.Run(t, "SeedIsDeterministic", func(t *testing.T) {
		x, y := faketekmetric.New(), faketekmetric.New()
		for _, f := range []*faketekmetric.API{x, y} {
			require.NoError(t, f.AddShop(1, "UTC", "c", "s"))
		}
		created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		rx, err := x.AddLead(1, faketekmetric.LeadSpec{CreatedAt: created})
		require.NoError(t, err)
		ry, err := y.AddLead(1, faketekmetric.LeadSpec{CreatedAt: created})
		require.NoError(t, err)
		require.Equal(t, rx, ry)
		id, err := strconv.ParseInt(rx.CustomerID, 10, 64)
		require.NoError(t, err)
		cx, ok := x.Record(1, faketekmetric.Customers, id)
		require.True(t, ok)
		cy, _ := y.Record(1, faketekmetric.Customers, id)
		require.JSONEq(t, string(cx), string(cy))
	})
}

func TestTekmetricSeedingControls(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "TouchAndSetStatus", func(t *testing.T) {
		b := setupTekmetric(t)
		b.fake.SetClock(func() time.Time { return b.base })
		ro := b.addLead(t, faketekmetric.LeadSpec{})
		appt := b.addLead(t, faketekmetric.LeadSpec{Kind: faketekmetric.Appointment})
		roID, _ := strconv.ParseInt(ro.ID, 10, 64)
		apptID, _ := strconv.ParseInt(appt.ID, 10, 64)

		require.NoError(t, b.fake.Touch(b.shop, faketekmetric.RepairOrders, roID))
		require.Equal(t, "2026-11-25T15:30:00.001Z", b.get(t, "/api/v1/repair-orders/"+ro.ID, nil).body["updatedDate"], "a touch always moves updatedDate forward")
		require.NoError(t, b.fake.Touch(b.shop, faketekmetric.Appointments, apptID))
		require.Equal(t, "2026-11-25T09:30:00.001", b.get(t, "/api/v1/appointments/"+appt.ID, nil).body["updatedDate"])

		require.NoError(t, b.fake.SetRepairOrderStatus(b.shop, roID, 2))
		o := b.get(t, "/api/v1/repair-orders/"+ro.ID, nil).body
		require.Equal(t, "WORKINPROGRESS", o["repairOrderStatus"].(map[string]any)["code"])
		require.Equal(t, "2026-11-25T15:30:00.002Z", o["updatedDate"])
		require.Error(t, b.fake.SetRepairOrderStatus(b.shop, roID, 8))
		require.Error(t, b.fake.Touch(b.shop, faketekmetric.RepairOrders, apptID), "tables are apart")
	})
	faketest.Run(t, "AddRawAndMutate", func(t *testing.T) {
		b := setupTekmetric(t)
		id, err := b.fake.AddRaw(b.shop, faketekmetric.RepairOrders, json.RawMessage(`{"id": 77, "shopId": 3, "repairOrderStatus": {"id": 1}, "updatedDate": "last tuesday"}`))
		require.NoError(t, err)
		require.Equal(t, int64(77), id)
		require.Equal(t, "last tuesday", b.get(t, "/api/v1/repair-orders/77", nil).body["updatedDate"])
		require.Equal(t, []fake.LeadRef{{Kind: "repair-order", ID: "77", ExternalID: "repair-order:77", LocationID: "3"}}, b.fake.Leads(b.shop))

		require.NoError(t, b.fake.Mutate(b.shop, faketekmetric.RepairOrders, 77, func(r map[string]any) { r["customerId"] = "twelve" }))
		raw, ok := b.fake.Record(b.shop, faketekmetric.RepairOrders, 77)
		require.True(t, ok)
		require.JSONEq(t, `{"id": 77, "shopId": 3, "repairOrderStatus": {"id": 1}, "updatedDate": "last tuesday", "customerId": "twelve"}`, string(raw))

		key, err := b.fake.AddRaw(b.shop, faketekmetric.Appointments, json.RawMessage(`{"id": "abc", "leadSource": "Website"}`))
		require.NoError(t, err)
		raw, ok = b.fake.Record(b.shop, faketekmetric.Appointments, key)
		require.True(t, ok)
		require.JSONEq(t, `{"id": "abc", "leadSource": "Website"}`, string(raw), "a planted id that is not an integer stays as it is")
		require.Len(t, b.list(t, "/api/v1/appointments", nil).content(t), 1)

		_, err = b.fake.AddRaw(b.shop, faketekmetric.RepairOrders, json.RawMessage(`{"id": 77}`))
		require.Error(t, err, "ids are unique")
		_, err = b.fake.AddRaw(b.shop, "invoices", json.RawMessage(`{}`))
		require.Error(t, err)
		_, err = b.fake.AddRaw(b.shop, faketekmetric.Customers, json.RawMessage(`[1]`))
		require.Error(t, err)
	})
	faketest.Run(t, "RequestsHoldNoCredentials", func(t *testing.T) {
		b := setupTekmetric(t)
		b.get(t, "/api/v1/repair-orders", url.Values{"size": {"5"}})
		reqs := b.fake.Requests()
		for i := range reqs {
			require.WithinDuration(t, time.Now(), reqs[i].At, time.Minute, "stamped when it arrived")
			reqs[i].At = time.Time{}
		}
		require.Equal(t, []faketekmetric.Request{
			{Method: "POST", Path: "/api/v1/oauth/token", Body: "grant_type=client_credentials"},
			{Method: "GET", Path: "/api/v1/repair-orders", RawQuery: "size=5"},
		}, reqs)
		raw, err := json.Marshal(reqs)
		require.NoError(t, err)
		require.NotContains(t, string(raw), tmSecret)
		require.NotContains(t, string(raw), b.token)
	})
}

func TestTekmetricConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setupTekmetric(t)
	n := faketest.SeedConcurrently(t, 8, 10, func() (fake.LeadRef, error) { return b.fake.AddLead(b.shop, faketekmetric.LeadSpec{}) }, func(ref fake.LeadRef) {
		req, _ := http.NewRequest(http.MethodGet, b.server.URL+"/api/v1/repair-orders/"+ref.ID, nil)
		req.Header.Set("Authorization", "Bearer "+b.token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		_ = b.fake.Requests()
	})
	require.Len(t, b.fake.Leads(b.shop), n)
	require.Equal(t, float64(n), b.list(t, "/api/v1/repair-orders", nil).body["totalElements"])
}
