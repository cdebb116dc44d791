package fakeshopmonkey_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// shopMonkeyBundle is what every ShopMonkey fake test gets. (Named for the
// fake because the Twilio and SendGrid tests share this package.)
type shopMonkeyBundle struct {
	fake   *fakeshopmonkey.API
	server *httptest.Server
	key    string
	loc    string
	base   time.Time
}

func setupShopMonkey(t *testing.T) *shopMonkeyBundle {
	t.Helper()
	fake := fakeshopmonkey.New()
	fake.AddLocation("key-a", "loc-a")
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &shopMonkeyBundle{
		fake:   fake,
		server: server,
		key:    "key-a",
		loc:    "loc-a",
		base:   time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC),
	}
}

// smAnswer is a decoded ShopMonkey envelope, kept loose so tests see exactly
// which keys the fake sent.
type smAnswer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (a smAnswer) rows(t *testing.T) []map[string]any {
	t.Helper()
	return faketest.Objects(t, a.body, "data")
}

func (a smAnswer) ids(t *testing.T) []string {
	t.Helper()
	return faketest.IDs(t, a.rows(t), func(id any) (string, bool) { s, ok := id.(string); return s, ok })
}

func (a smAnswer) meta(t *testing.T) (hasMore bool, total int) {
	t.Helper()
	m, ok := a.body["meta"].(map[string]any)
	require.True(t, ok, "no meta: %s", a.raw)
	return m["hasMore"].(bool), int(m["total"].(float64))
}

func (b *shopMonkeyBundle) do(t *testing.T, method, key, path string, query url.Values, body string) smAnswer {
	t.Helper()
	req := faketest.BearerRequest(t, method, b.server.URL+path, query, body, key)
	resp, err := b.server.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := smAnswer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &a.body), "body: %s", raw)
	}
	return a
}

func (b *shopMonkeyBundle) get(t *testing.T, path string, query url.Values) smAnswer {
	t.Helper()
	return b.do(t, http.MethodGet, b.key, path, query, "")
}

func (b *shopMonkeyBundle) addLead(t *testing.T, spec fakeshopmonkey.LeadSpec) fake.LeadRef {
	t.Helper()
	ref, err := b.fake.AddLead(b.loc, spec)
	require.NoError(t, err)
	return ref
}

// book seeds a lead and posts a booking of it: a valid appointment with
// extra applied (see faketest.JSONWith).
func (b *shopMonkeyBundle) book(t *testing.T, extra map[string]any) (fake.LeadRef, smAnswer) {
	t.Helper()
	ref := b.addLead(t, fakeshopmonkey.LeadSpec{})
	body := faketest.JSONWith(map[string]any{
		"customerId": ref.CustomerID, "vehicleId": ref.VehicleID, "name": "Brake job",
		"startDate": "2025-03-12T15:00:00Z", "endDate": "2025-03-12T16:00:00Z", "color": "blue", "locationId": "loc-a",
	}, extra)
	return ref, b.do(t, http.MethodPost, b.key, "/v3/appointment", nil, body)
}

func requireSMError(t *testing.T, a smAnswer, status int, code string) {
	t.Helper()
	require.Equal(t, status, a.status, "body: %s", a.raw)
	require.Equal(t, false, a.body["success"])
	require.Equal(t, code, a.body["code"])
	require.NotEmpty(t, a.body["message"])
	require.True(t, strings.HasPrefix(a.body["documentation_url"].(string), "https://shopmonkey.dev/"))
	require.Len(t, a.body, 4, "error envelope has exactly success, code, message, documentation_url")
}

func TestShopMonkeyAuth(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "MissingKey", func(t *testing.T) {
		b := setupShopMonkey(t)
		requireSMError(t, b.do(t, http.MethodGet, "", "/v3/order", nil, ""), http.StatusUnauthorized, "UNAUTHORIZED")
	})
	faketest.Run(t, "UnknownKey", func(t *testing.T) {
		b := setupShopMonkey(t)
		requireSMError(t, b.do(t, http.MethodGet, "nope", "/v3/order", nil, ""), http.StatusUnauthorized, "UNAUTHORIZED")
	})
	faketest.Run(t, "ForbiddenKey", func(t *testing.T) {
		b := setupShopMonkey(t)
		b.fake.Forbid(b.key)
		requireSMError(t, b.get(t, "/v3/order", nil), http.StatusForbidden, "FORBIDDEN")
	})
	faketest.Run(t, "UnknownIDIs404", func(t *testing.T) {
		b := setupShopMonkey(t)
		for _, p := range []string{"/v3/order/x", "/v3/appointment/x", "/v3/customer/x", "/v3/vehicle/x", "/v3/customer/x/phone_number", "/v3/nothing"} {
			requireSMError(t, b.get(t, p, nil), http.StatusNotFound, "NOT_FOUND")
		}
	})
}

func TestShopMonkeyListEnvelope(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "LimitSilentlyCappedAt100", func(t *testing.T) {
		b := setupShopMonkey(t)
		for range 150 {
			b.addLead(t, fakeshopmonkey.LeadSpec{})
		}
		a := b.get(t, "/v3/order", url.Values{"limit": {"500"}})
		require.Equal(t, http.StatusOK, a.status)
		require.Equal(t, true, a.body["success"])
		require.Len(t, a.rows(t), 100)
		hasMore, total := a.meta(t)
		require.True(t, hasMore)
		require.Equal(t, 150, total)

		a = b.get(t, "/v3/order", nil)
		require.Len(t, a.rows(t), 100, "default limit is 100")

		a = b.get(t, "/v3/order", url.Values{"limit": {"100"}, "skip": {"100"}})
		require.Len(t, a.rows(t), 50)
		hasMore, _ = a.meta(t)
		require.False(t, hasMore)
	})
	faketest.Run(t, "BadLimitIs400", func(t *testing.T) {
		b := setupShopMonkey(t)
		requireSMError(t, b.get(t, "/v3/order", url.Values{"limit": {"ten"}}), http.StatusBadRequest, "BAD_REQUEST")
		requireSMError(t, b.get(t, "/v3/order", url.Values{"skip": {"-1"}}), http.StatusBadRequest, "BAD_REQUEST")
	})
	faketest.Run(t, "EmptyListIsAnArray", func(t *testing.T) {
		b := setupShopMonkey(t)
		a := b.get(t, "/v3/appointment", nil)
		require.Equal(t, http.StatusOK, a.status)
		require.Empty(t, a.rows(t))
		_, total := a.meta(t)
		require.Zero(t, total)
	})
}

func TestShopMonkeyWhere(t *testing.T) {
	t.Parallel()

	// seed puts one order per hour from b.base-2h to b.base+2h.
	seed := func(t *testing.T, b *shopMonkeyBundle) map[string]time.Time {
		t.Helper()
		at := map[string]time.Time{}
		for h := -2; h <= 2; h++ {
			ts := b.base.Add(time.Duration(h) * time.Hour)
			ref := b.addLead(t, fakeshopmonkey.LeadSpec{CreatedAt: ts})
			at[ref.ID] = ts
		}
		return at
	}
	where := func(v any) url.Values {
		raw, _ := json.Marshal(v)
		return url.Values{"where": {string(raw)}}
	}

	faketest.Run(t, "BareOperators", func(t *testing.T) {
		b := setupShopMonkey(t)
		at := seed(t, b)
		a := b.get(t, "/v3/order", where(map[string]any{"updatedDate": map[string]string{
			"gte": b.base.Add(-time.Hour).Format(time.RFC3339), "lt": b.base.Add(time.Hour).Format(time.RFC3339),
		}}))
		require.Len(t, a.ids(t), 2)
		for _, id := range a.ids(t) {
			require.True(t, !at[id].Before(b.base.Add(-time.Hour)) && at[id].Before(b.base.Add(time.Hour)))
		}
		a = b.get(t, "/v3/order", where(map[string]any{"updatedDate": map[string]string{
			"gt": b.base.Add(-time.Hour).Format(time.RFC3339), "lte": b.base.Add(time.Hour).Format(time.RFC3339),
		}}))
		require.Len(t, a.ids(t), 2)
		a = b.get(t, "/v3/order", where(map[string]any{"updatedDate": map[string]string{"eq": b.base.Format(time.RFC3339)}}))
		require.Len(t, a.ids(t), 1)
	})
	faketest.Run(t, "MongoOperatorsSilentlyIgnored", func(t *testing.T) {
		b := setupShopMonkey(t)
		seed(t, b)
		a := b.get(t, "/v3/order", where(map[string]any{"updatedDate": map[string]string{"$gte": b.base.Format(time.RFC3339)}}))
		require.Equal(t, http.StatusOK, a.status)
		require.Len(t, a.ids(t), 5, "the $gte condition is dropped, so rows before it come back")
	})
	faketest.Run(t, "EqualityAndIn", func(t *testing.T) {
		b := setupShopMonkey(t)
		b.addLead(t, fakeshopmonkey.LeadSpec{})
		b.addLead(t, fakeshopmonkey.LeadSpec{Status: "Invoice"})
		b.addLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", AttributionSource: "WorkRequestForm"})
		b.addLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", AttributionSource: "AppointmentScheduler"})
		b.addLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", AttributionSource: "Manual"})

		a := b.get(t, "/v3/order", where(map[string]any{"status": "Estimate"}))
		require.Len(t, a.rows(t), 1)
		require.Equal(t, "Estimate", a.rows(t)[0]["status"])

		a = b.get(t, "/v3/appointment", where(map[string]any{"attributionSource": map[string]any{"in": []string{"WorkRequestForm", "AppointmentScheduler"}}}))
		require.Len(t, a.rows(t), 2)
		for _, r := range a.rows(t) {
			require.NotEqual(t, "Manual", r["attributionSource"])
		}
	})
	faketest.Run(t, "BadWhereIs400", func(t *testing.T) {
		b := setupShopMonkey(t)
		requireSMError(t, b.get(t, "/v3/order", url.Values{"where": {"{not json"}}), http.StatusBadRequest, "BAD_REQUEST")
		requireSMError(t, b.get(t, "/v3/order", where(map[string]any{"updatedDate": map[string]string{"after": "x"}})), http.StatusBadRequest, "BAD_REQUEST")
	})
}

func TestShopMonkeyOrderBy(t *testing.T) {
	t.Parallel()

	seed := func(t *testing.T, b *shopMonkeyBundle) []string {
		t.Helper()
		var ids []string
		for i := range 20 {
			ids = append(ids, b.addLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.base.Add(time.Duration(i) * time.Minute)}).ID)
		}
		return ids
	}

	faketest.Run(t, "LowercaseOrderbyIs400", func(t *testing.T) {
		b := setupShopMonkey(t)
		requireSMError(t, b.get(t, "/v3/order", url.Values{"orderby": {"id"}}), http.StatusBadRequest, "BAD_REQUEST")
	})
	faketest.Run(t, "DateOrderIgnored", func(t *testing.T) {
		b := setupShopMonkey(t)
		byTime := seed(t, b)
		byID := slices.Sorted(slices.Values(byTime))
		require.NotEqual(t, byTime, byID, "random ids make id order differ from time order")
		for _, ob := range []string{"updatedDate", "-createdDate", `{"updatedDate":"asc"}`} {
			require.Equal(t, byID, b.get(t, "/v3/order", url.Values{"orderBy": {ob}}).ids(t), ob)
		}
	})
	faketest.Run(t, "IDOrder", func(t *testing.T) {
		b := setupShopMonkey(t)
		byID := slices.Sorted(slices.Values(seed(t, b)))
		require.Equal(t, byID, b.get(t, "/v3/order", url.Values{"orderBy": {"id"}}).ids(t))
		desc := slices.Clone(byID)
		slices.Reverse(desc)
		require.Equal(t, desc, b.get(t, "/v3/order", url.Values{"orderBy": {"-id"}}).ids(t))
		require.Equal(t, desc, b.get(t, "/v3/order", url.Values{"orderBy": {`{"id":"desc"}`}}).ids(t))
	})
}

func TestShopMonkeyUnstableSkip(t *testing.T) {
	t.Parallel()

	// pageThrough pages all orders with skip and reports the distinct ids
	// and how many rows came back in all.
	pageThrough := func(t *testing.T, b *shopMonkeyBundle) (distinct, rows int) {
		t.Helper()
		seen := map[string]bool{}
		for skip := 0; skip < 250; skip += 100 {
			for _, id := range b.get(t, "/v3/order", url.Values{"orderBy": {"id"}, "skip": {strconv.Itoa(skip)}}).ids(t) {
				seen[id] = true
				rows++
			}
		}
		return len(seen), rows
	}

	faketest.Run(t, "StableByDefault", func(t *testing.T) {
		b := setupShopMonkey(t)
		for range 250 {
			b.addLead(t, fakeshopmonkey.LeadSpec{})
		}
		distinct, rows := pageThrough(t, b)
		require.Equal(t, 250, distinct)
		require.Equal(t, 250, rows)
	})
	faketest.Run(t, "ShiftsPages", func(t *testing.T) {
		b := setupShopMonkey(t)
		for range 250 {
			b.addLead(t, fakeshopmonkey.LeadSpec{})
		}
		b.fake.SetUnstableSkip(true)
		broken := 0
		for range 10 {
			if distinct, rows := pageThrough(t, b); distinct != 250 || rows != 250 {
				broken++
			}
		}
		require.Positive(t, broken, "skip paging must lose or repeat rows at least once in 10 tries")
		require.Len(t, b.get(t, "/v3/order", nil).ids(t), 100, "the first page does not move")
	})
}

func TestShopMonkeyLocationIsolation(t *testing.T) {
	t.Parallel()
	b := setupShopMonkey(t)
	b.fake.AddLocation("key-b", "loc-b")
	mine := b.addLead(t, fakeshopmonkey.LeadSpec{})
	theirs, err := b.fake.AddLead("loc-b", fakeshopmonkey.LeadSpec{})
	require.NoError(t, err)

	require.Equal(t, []string{mine.ID}, b.get(t, "/v3/order", nil).ids(t))
	for _, p := range []string{"/v3/order/" + theirs.ID, "/v3/customer/" + theirs.CustomerID, "/v3/vehicle/" + theirs.VehicleID, "/v3/customer/" + theirs.CustomerID + "/email"} {
		requireSMError(t, b.get(t, p, nil), http.StatusNotFound, "NOT_FOUND")
	}
	other := b.do(t, http.MethodGet, "key-b", "/v3/order/"+theirs.ID, nil, "")
	require.Equal(t, http.StatusOK, other.status)
	require.Equal(t, []fake.LeadRef{theirs}, b.fake.Leads("loc-b"))
	require.Equal(t, fakeshopmonkey.Counts{Orders: 1, Customers: 1, Vehicles: 1}, b.fake.Counts("loc-a"))
}

func TestShopMonkeyRecords(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "Order", func(t *testing.T) {
		b := setupShopMonkey(t)
		ref := b.addLead(t, fakeshopmonkey.LeadSpec{FirstName: "Ann", LastName: "Lee", Year: 2019, Make: "Honda", Model: "Civic", Complaint: "Brakes", CreatedAt: b.base})
		require.Equal(t, "order:"+ref.ID, ref.ExternalID)
		a := b.get(t, "/v3/order/"+ref.ID, nil)
		require.Equal(t, http.StatusOK, a.status)
		require.Equal(t, true, a.body["success"])
		o := a.body["data"].(map[string]any)
		for _, f := range []string{"id", "number", "status", "locationId", "customerId", "vehicleId", "generatedCustomerName", "generatedVehicleName", "complaint", "totalCostCents", "authorized", "archived", "deleted", "createdDate", "updatedDate", "phoneNumberId", "emailId", "meta"} {
			require.Contains(t, o, f)
		}
		require.Equal(t, "Estimate", o["status"])
		require.Equal(t, "loc-a", o["locationId"])
		require.Equal(t, ref.CustomerID, o["customerId"])
		require.Equal(t, "Ann Lee", o["generatedCustomerName"])
		require.Equal(t, "2019 Honda Civic", o["generatedVehicleName"])
		require.Equal(t, "2025-03-10T12:00:00.000Z", o["createdDate"])
		require.Equal(t, o["createdDate"], o["updatedDate"])
		require.Equal(t, float64(1), o["meta"].(map[string]any)["version"])
		require.IsType(t, float64(0), o["number"])
	})
	faketest.Run(t, "Appointment", func(t *testing.T) {
		b := setupShopMonkey(t)
		ref := b.addLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", Complaint: "Oil change"})
		require.Equal(t, "appointment:"+ref.ID, ref.ExternalID)
		ap := b.get(t, "/v3/appointment/"+ref.ID, nil).body["data"].(map[string]any)
		for _, f := range []string{"id", "locationId", "customerId", "vehicleId", "name", "startDate", "endDate", "color", "attributionSource", "confirmed", "createdDate", "updatedDate", "meta"} {
			require.Contains(t, ap, f)
		}
		require.Equal(t, "WorkRequestForm", ap["attributionSource"])
		require.Equal(t, "Oil change", ap["name"])
	})
	faketest.Run(t, "CustomerEmbedsContacts", func(t *testing.T) {
		b := setupShopMonkey(t)
		ref := b.addLead(t, fakeshopmonkey.LeadSpec{OptIn: new(false)})
		c := b.get(t, "/v3/customer/"+ref.CustomerID, nil).body["data"].(map[string]any)
		for _, f := range []string{"id", "firstName", "lastName", "companyName", "marketingOptIn", "preferredContactMethod", "locationIds", "phoneNumbers", "emails"} {
			require.Contains(t, c, f)
		}
		phones := c["phoneNumbers"].([]any)
		require.Len(t, phones, 1)
		p := phones[0].(map[string]any)
		require.Regexp(t, regexp.MustCompile(`^\(312\) \d{3}-\d{4}$`), p["number"])
		require.Equal(t, false, p["optIn"])
		require.Equal(t, true, p["primary"])
		require.Len(t, c["emails"].([]any), 1)
		require.Equal(t, true, c["emails"].([]any)[0].(map[string]any)["subscribed"])
	})
	faketest.Run(t, "CustomerWithoutEmbeddedContacts", func(t *testing.T) {
		b := setupShopMonkey(t)
		b.fake.SetEmbedContacts(false)
		ref := b.addLead(t, fakeshopmonkey.LeadSpec{Phone: "555.201.3344", Email: "ann@example.com"})
		c := b.get(t, "/v3/customer/"+ref.CustomerID, nil).body["data"].(map[string]any)
		require.NotContains(t, c, "phoneNumbers")
		require.NotContains(t, c, "emails")
		phones := b.get(t, "/v3/customer/"+ref.CustomerID+"/phone_number", nil).rows(t)
		require.Len(t, phones, 1)
		require.Equal(t, "555.201.3344", phones[0]["number"])
		emails := b.get(t, "/v3/customer/"+ref.CustomerID+"/email", nil).rows(t)
		require.Len(t, emails, 1)
		require.Equal(t, "ann@example.com", emails[0]["email"])
	})
	faketest.Run(t, "Vehicle", func(t *testing.T) {
		b := setupShopMonkey(t)
		ref := b.addLead(t, fakeshopmonkey.LeadSpec{})
		v := b.get(t, "/v3/vehicle/"+ref.VehicleID, nil).body["data"].(map[string]any)
		for _, f := range []string{"id", "year", "make", "model", "submodel", "vin", "licensePlate"} {
			require.Contains(t, v, f)
		}
		require.Len(t, v["vin"], 17)
	})
	faketest.Run(t, "ReturningCustomer", func(t *testing.T) {
		b := setupShopMonkey(t)
		first := b.addLead(t, fakeshopmonkey.LeadSpec{})
		second := b.addLead(t, fakeshopmonkey.LeadSpec{CustomerID: first.CustomerID, VehicleID: first.VehicleID})
		require.Equal(t, first.CustomerID, second.CustomerID)
		require.Equal(t, 1, b.fake.Counts(b.loc).Customers)
		_, err := b.fake.AddLead(b.loc, fakeshopmonkey.LeadSpec{CustomerID: "nobody"})
		require.Error(t, err)
		_, err = b.fake.AddLead(b.loc, fakeshopmonkey.LeadSpec{Kind: "invoice"})
		require.Error(t, err)
	})
	faketest.Run(t, "SeedIsDeterministic", func(t *testing.T) {
		x, y := fakeshopmonkey.New(), fakeshopmonkey.New()
		rx, err := x.AddLead("l", fakeshopmonkey.LeadSpec{})
		require.NoError(t, err)
		ry, err := y.AddLead("l", fakeshopmonkey.LeadSpec{})
		require.NoError(t, err)
		require.Equal(t, rx, ry)
		y.Seed(42)
		rz, err := y.AddLead("l", fakeshopmonkey.LeadSpec{})
		require.NoError(t, err)
		require.NotEqual(t, rx.ID, rz.ID)
	})
}

func TestShopMonkeySeedingControls(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "TouchAndSetOrderStatus", func(t *testing.T) {
		b := setupShopMonkey(t)
		now := b.base
		b.fake.SetClock(func() time.Time { return now })
		ref := b.addLead(t, fakeshopmonkey.LeadSpec{})
		require.NoError(t, b.fake.Touch(b.loc, ref.ID))
		o := b.get(t, "/v3/order/"+ref.ID, nil).body["data"].(map[string]any)
		require.Equal(t, float64(2), o["meta"].(map[string]any)["version"])
		require.Equal(t, "2025-03-10T12:00:00.001Z", o["updatedDate"], "a touch always moves updatedDate forward")

		require.NoError(t, b.fake.SetOrderStatus(b.loc, ref.ID, "RepairOrder"))
		o = b.get(t, "/v3/order/"+ref.ID, nil).body["data"].(map[string]any)
		require.Equal(t, "RepairOrder", o["status"])
		require.Equal(t, float64(3), o["meta"].(map[string]any)["version"])
		require.Error(t, b.fake.Touch(b.loc, "nope"))
	})
	faketest.Run(t, "AddRawAndMutate", func(t *testing.T) {
		b := setupShopMonkey(t)
		id, err := b.fake.AddRaw(b.loc, fakeshopmonkey.Order, json.RawMessage(`{"id":"raw-1","status":"Estimate","number":"A-17","updatedDate":"last tuesday"}`))
		require.NoError(t, err)
		require.Equal(t, "raw-1", id)
		o := b.get(t, "/v3/order/raw-1", nil).body["data"].(map[string]any)
		require.Equal(t, "last tuesday", o["updatedDate"])
		require.Equal(t, "A-17", o["number"])
		require.Equal(t, []fake.LeadRef{{Kind: "order", ID: "raw-1", ExternalID: "order:raw-1", LocationID: b.loc}}, b.fake.Leads(b.loc))

		require.NoError(t, b.fake.Mutate(b.loc, fakeshopmonkey.Order, id, func(r map[string]any) { delete(r, "number"); r["archived"] = true }))
		raw, ok := b.fake.Record(b.loc, fakeshopmonkey.Order, id)
		require.True(t, ok)
		require.JSONEq(t, `{"id":"raw-1","status":"Estimate","updatedDate":"last tuesday","archived":true}`, string(raw))

		key, err := b.fake.AddRaw(b.loc, fakeshopmonkey.Order, json.RawMessage(`{"status":"Estimate"}`))
		require.NoError(t, err)
		rows := b.get(t, "/v3/order", nil).rows(t)
		require.Len(t, rows, 2)
		raw, ok = b.fake.Record(b.loc, fakeshopmonkey.Order, key)
		require.True(t, ok)
		require.JSONEq(t, `{"status":"Estimate"}`, string(raw), "a planted row without id stays without one")

		_, err = b.fake.AddRaw(b.loc, fakeshopmonkey.Order, json.RawMessage(`[1]`))
		require.Error(t, err)
		_, err = b.fake.AddRaw(b.loc, "invoice", json.RawMessage(`{}`))
		require.Error(t, err)
	})
	faketest.Run(t, "Requests", func(t *testing.T) {
		b := setupShopMonkey(t)
		b.get(t, "/v3/order", url.Values{"limit": {"5"}})
		b.do(t, http.MethodGet, "", "/v3/vehicle/x", nil, "")
		reqs := b.fake.Requests()
		require.Equal(t, []fakeshopmonkey.Request{
			{Method: "GET", Path: "/v3/order", RawQuery: "limit=5"},
			{Method: "GET", Path: "/v3/vehicle/x"},
		}, reqs)
	})
}

func TestShopMonkeyCreateAppointment(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "Created", func(t *testing.T) {
		b := setupShopMonkey(t)
		ref, a := b.book(t, nil)
		require.Equal(t, http.StatusOK, a.status, "body: %s", a.raw)
		id := a.body["data"].(map[string]any)["id"].(string)
		raw, ok := b.fake.Record(b.loc, fakeshopmonkey.Appointment, id)
		require.True(t, ok)
		var ap map[string]any
		require.NoError(t, json.Unmarshal(raw, &ap))
		require.Equal(t, "Manual", ap["attributionSource"], "API bookings are not customer leads")
		require.Equal(t, "2025-03-12T15:00:00.000Z", ap["startDate"])
		require.Equal(t, ref.CustomerID, ap["customerId"])
		require.Equal(t, 1, b.fake.Counts(b.loc).Appointments)
	})
	for name, extra := range map[string]map[string]any{
		"UnknownColor":    {"color": "teal"},
		"NoCustomer":      {"customerId": nil},
		"UnknownCustomer": {"customerId": "nobody"},
		"EndBeforeStart":  {"endDate": "2025-03-12T14:00:00Z"},
		"StartNotISO":     {"startDate": "tomorrow"},
		"UnknownVehicle":  {"vehicleId": "nothing"},
		"EmptyName":       {"name": ""},
	} {
		faketest.Run(t, name, func(t *testing.T) {
			b := setupShopMonkey(t)
			_, a := b.book(t, extra)
			requireSMError(t, a, http.StatusBadRequest, "VALIDATION_ERROR")
			require.Zero(t, b.fake.Counts(b.loc).Appointments)
		})
	}
	faketest.Run(t, "OtherLocation", func(t *testing.T) {
		b := setupShopMonkey(t)
		_, a := b.book(t, map[string]any{"locationId": "loc-b"})
		requireSMError(t, a, http.StatusForbidden, "FORBIDDEN")
		require.Zero(t, b.fake.Counts(b.loc).Appointments)
	})
}

func TestShopMonkeyFaults(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "RateLimit", func(t *testing.T) {
		b := setupShopMonkey(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second, Count: 1})
		a := b.get(t, "/v3/order", nil)
		requireSMError(t, a, http.StatusTooManyRequests, "RATE_LIMIT")
		require.Equal(t, "7", a.header.Get("Retry-After"))
		require.Equal(t, http.StatusOK, b.get(t, "/v3/order", nil).status, "Count 1 clears after one request")
	})
	faketest.Run(t, "EmptyBodyBeforeAuth", func(t *testing.T) {
		b := setupShopMonkey(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusServiceUnavailable, EmptyBody: true})
		a := b.do(t, http.MethodGet, "", "/v3/order", nil, "")
		require.Equal(t, http.StatusServiceUnavailable, a.status)
		require.Empty(t, a.raw)
		require.Empty(t, a.header.Get("Retry-After"))
		require.Equal(t, http.StatusServiceUnavailable, b.get(t, "/v3/order", nil).status, "Count 0 lasts until ClearFaults")
		b.fake.ClearFaults()
		require.Equal(t, http.StatusOK, b.get(t, "/v3/order", nil).status)
	})
	faketest.Run(t, "ServerError", func(t *testing.T) {
		b := setupShopMonkey(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 1})
		requireSMError(t, b.get(t, "/v3/order", nil), http.StatusInternalServerError, "INTERNAL_ERROR")
	})
}

func TestShopMonkeyConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setupShopMonkey(t)
	add := func() (fake.LeadRef, error) { return b.fake.AddLead(b.loc, fakeshopmonkey.LeadSpec{}) }
	n := faketest.SeedConcurrently(t, 8, 10, add, func(ref fake.LeadRef) {
		if err := b.fake.Touch(b.loc, ref.ID); err != nil {
			t.Error(err)
		}
		resp, err := http.Get(b.server.URL + "/v3/order/" + ref.ID)
		if err == nil {
			resp.Body.Close()
		}
		_ = b.fake.Requests()
	})
	require.Len(t, b.fake.Leads(b.loc), n)
	require.Len(t, b.get(t, "/v3/order", url.Values{"limit": {"100"}}).ids(t), n)
}

func TestShopMonkeyListQuirks(t *testing.T) {
	t.Parallel()

	// seed adds n orders and returns their ids.
	seed := func(t *testing.T, b *shopMonkeyBundle, n int) []string {
		t.Helper()
		var ids []string
		for range n {
			ids = append(ids, b.addLead(t, fakeshopmonkey.LeadSpec{}).ID)
		}
		return ids
	}
	// counts returns how often each id came back.
	counts := func(ids []string) map[string]int {
		m := map[string]int{}
		for _, id := range ids {
			m[id]++
		}
		return m
	}

	faketest.Run(t, "DuplicatePage", func(t *testing.T) {
		b := setupShopMonkey(t)
		ids := seed(t, b, 5)
		b.fake.SetDuplicatePageRate(1)

		a := b.get(t, "/v3/order", nil)
		got := a.ids(t)
		require.Greater(t, len(got), 5, "rows repeat within data")
		seen := counts(got)
		require.ElementsMatch(t, ids, slices.Collect(maps.Keys(seen)))
		require.Contains(t, slices.Collect(maps.Values(seen)), 2, "some id comes back twice")
		hasMore, total := a.meta(t)
		require.False(t, hasMore)
		require.Equal(t, 5, total, "meta counts each record once")
	})
	faketest.Run(t, "DuplicatePageRate", func(t *testing.T) {
		b := setupShopMonkey(t)
		seed(t, b, 3)
		b.fake.SetDuplicatePageRate(0.3)
		duplicated := 0
		for range 100 {
			if len(b.get(t, "/v3/order", nil).ids(t)) > 3 {
				duplicated++
			}
		}
		require.GreaterOrEqual(t, duplicated, 15)
		require.LessOrEqual(t, duplicated, 45)
	})
	faketest.Run(t, "DropRecord", func(t *testing.T) {
		b := setupShopMonkey(t)
		ids := seed(t, b, 5)
		b.fake.SetDropRecordRate(1)

		union := map[string]bool{}
		var previous string
		for call := range 5 {
			a := b.get(t, "/v3/order", nil)
			got := a.ids(t)
			require.Len(t, got, 4, "one row is left out")
			_, total := a.meta(t)
			require.Equal(t, 5, total, "meta.total still counts it")
			var missing string
			for _, id := range ids {
				if !slices.Contains(got, id) {
					missing = id
				}
			}
			if call > 0 {
				require.Contains(t, got, previous, "a row left out is back on the next call")
			}
			_, ok := b.fake.Record(b.loc, fakeshopmonkey.Order, missing)
			require.True(t, ok, "a row left out is not deleted")
			previous = missing
			for _, id := range got {
				union[id] = true
			}
		}
		require.Len(t, union, 5)
	})
	faketest.Run(t, "DropRecordRate", func(t *testing.T) {
		b := setupShopMonkey(t)
		seed(t, b, 3)
		b.fake.SetDropRecordRate(0.2)
		dropped := 0
		for range 100 {
			if len(b.get(t, "/v3/order", nil).ids(t)) < 3 {
				dropped++
			}
		}
		require.GreaterOrEqual(t, dropped, 8)
		require.LessOrEqual(t, dropped, 35)
	})
	faketest.Run(t, "Appointments", func(t *testing.T) {
		b := setupShopMonkey(t)
		for range 4 {
			b.addLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment"})
		}
		b.fake.SetDropRecordRate(1)
		require.Len(t, b.get(t, "/v3/appointment", nil).ids(t), 3)
	})
	faketest.Run(t, "ContactListsSpared", func(t *testing.T) {
		b := setupShopMonkey(t)
		ref := b.addLead(t, fakeshopmonkey.LeadSpec{Phone: "(555) 201-3344"})
		b.fake.SetDropRecordRate(1)
		b.fake.SetDuplicatePageRate(1)
		require.Len(t, b.get(t, "/v3/customer/"+ref.CustomerID+"/phone_number", nil).rows(t), 1)
	})
	faketest.Run(t, "Quirks", func(t *testing.T) {
		b := setupShopMonkey(t)
		require.Equal(t, fakeshopmonkey.Quirks{}, b.fake.Quirks())
		b.fake.SetUnstableSkip(true)
		b.fake.SetDuplicatePageRate(0.2)
		b.fake.SetDropRecordRate(0.1)
		require.Equal(t, fakeshopmonkey.Quirks{UnstableSkip: true, DuplicatePageRate: 0.2, DropRecordRate: 0.1}, b.fake.Quirks())
	})
	faketest.Run(t, "SeededDraws", func(t *testing.T) {
		lengths := func() []int {
			b := setupShopMonkey(t)
			seed(t, b, 4)
			b.fake.SeedFaults(99)
			b.fake.SetDropRecordRate(0.5)
			b.fake.SetDuplicatePageRate(0.5)
			var out []int
			for range 20 {
				out = append(out, len(b.get(t, "/v3/order", nil).ids(t)))
			}
			return out
		}
		require.Equal(t, lengths(), lengths())
	})
}
