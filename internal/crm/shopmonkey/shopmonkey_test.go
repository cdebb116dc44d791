package shopmonkey_test

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
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

const (
	testKey      = "sm-key-a-SECRET"
	testLocation = "loc-a"
)

type testBundle struct {
	crmtest.Shop[fakeshopmonkey.Table, string, string, fakeshopmonkey.LeadSpec]
	fake    *fakeshopmonkey.API
	adapter *shopmonkey.Adapter
	// baseURL is the fake mounted under /shopmonkey, as cmd/sandbox serves
	// it, which proves the adapter keeps a BaseURL's path.
	baseURL string
	since   time.Time
	until   time.Time
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := fakeshopmonkey.New()
	fake.AddLocation(testKey, testLocation)
	mux := http.NewServeMux()
	mux.Handle("/shopmonkey/", http.StripPrefix("/shopmonkey", fake))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)

	b := &testBundle{
		Shop:    crmtest.Shop[fakeshopmonkey.Table, string, string, fakeshopmonkey.LeadSpec]{Fake: fake, Location: testLocation},
		fake:    fake,
		baseURL: server.URL + "/shopmonkey",
		since:   time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC),
	}
	b.until = b.since.Add(time.Hour)
	b.adapter = b.newAdapter(t, testKey, testLocation)
	return b
}

func (b *testBundle) newAdapter(t *testing.T, key, location string) *shopmonkey.Adapter {
	t.Helper()
	a, err := shopmonkey.New(shopmonkey.Opts{BaseURL: b.baseURL, APIKey: key, LocationID: location, Timeout: 10 * time.Second})
	require.NoError(t, err)
	return a
}

// adapterThrough returns an adapter whose list queries pass through rewrite
// before reaching the fake, to play an API misbehaving in one precise way.
func (b *testBundle) adapterThrough(t *testing.T, rewrite func(q url.Values)) *shopmonkey.Adapter {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rewrite(q)
		r.URL.RawQuery = q.Encode()
		b.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	a, err := shopmonkey.New(shopmonkey.Opts{BaseURL: server.URL, APIKey: testKey, LocationID: testLocation})
	require.NoError(t, err)
	return a
}

// at is a time inside the test window.
func (b *testBundle) at(d time.Duration) time.Time { return b.since.Add(d) }

// queries returns the parsed query of every request the fake got for path.
func (b *testBundle) queries(t *testing.T, path string) []url.Values {
	t.Helper()
	return crmtest.Queries(t, b.fake.Requests(), path, func(r fakeshopmonkey.Request) (string, string) { return r.Path, r.RawQuery })
}

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("NamesEveryInvalidField", func(t *testing.T) {
		t.Parallel()
		_, err := shopmonkey.New(shopmonkey.Opts{BaseURL: "ftp://x", Timeout: -time.Second})
		crmtest.RequireNamesFields(t, err, "BaseURL", "APIKey", "LocationID", "Timeout")
	})
	t.Run("DefaultBaseURL", func(t *testing.T) {
		t.Parallel()
		var got []string
		client := &http.Client{Transport: crmtest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			got = append(got, r.URL.String())
			require.Equal(t, "Bearer k", r.Header.Get("Authorization"))
			return &http.Response{
				StatusCode: http.StatusOK,
				Header:     http.Header{"Content-Type": {"application/json"}},
				Body:       io.NopCloser(strings.NewReader(`{"success":true,"data":{"id":"v1","year":2019}}`)),
			}, nil
		})}
		for _, base := range []string{"", "https://api.shopmonkey.cloud/v3/"} {
			a, err := shopmonkey.New(shopmonkey.Opts{BaseURL: base, APIKey: "k", LocationID: "l", HTTPClient: client})
			require.NoError(t, err)
			v, err := a.GetVehicle(t.Context(), "v1")
			require.NoError(t, err)
			require.Equal(t, 2019, v.Year)
		}
		require.Equal(t, []string{"https://api.shopmonkey.cloud/v3/vehicle/v1", "https://api.shopmonkey.cloud/v3/vehicle/v1"}, got)
	})
}

func TestFetchNewLeads(t *testing.T) {
	t.Parallel()

	t.Run("UnstableSkipLosesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetUnstableSkip(true)
		var want []string
		for i := range 250 {
			want = append(want, b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(time.Duration(i) * 14 * time.Second)}).ExternalID)
		}
		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, want, crmtest.ExternalIDs(got))
	})
	t.Run("SameSecondBurstFallsBackToSkipPaging", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetUnstableSkip(true)
		var want []string
		for range 150 {
			want = append(want, b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(time.Minute)}).ExternalID)
		}
		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.ElementsMatch(t, want, crmtest.ExternalIDs(got))
		require.Len(t, got, 150, "no duplicates")

		skipped := false
		for _, q := range b.queries(t, "/v3/order") {
			skipped = skipped || q.Get("skip") != ""
		}
		require.True(t, skipped, "a window of one second can only be paged")
	})
	// shiftSkip moves the skip of list calls by delta, for the calls that
	// pass onlyWhile, as the live API's unstable paging does at random.
	shiftSkip := func(delta int, onlyWhile func(call int) bool) func(url.Values) {
		var mu sync.Mutex
		calls := 0
		return func(q url.Values) {
			skip, _ := strconv.Atoi(q.Get("skip"))
			if skip == 0 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			calls++
			if onlyWhile(calls) {
				q.Set("skip", strconv.Itoa(skip+delta))
			}
		}
	}
	burst := func(t *testing.T, b *testBundle) []string {
		t.Helper()
		var want []string
		for range 150 {
			want = append(want, b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(time.Minute)}).ExternalID)
		}
		return want
	}
	t.Run("OverlappingSkipPagesAreDeduped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		want := burst(t, b)
		got, err := b.adapterThrough(t, shiftSkip(-10, func(int) bool { return true })).FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
		require.ElementsMatch(t, want, crmtest.ExternalIDs(got))
		require.Len(t, got, 150)
	})
	t.Run("SkippedRowsAreFoundByAnotherPass", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		want := burst(t, b)
		got, err := b.adapterThrough(t, shiftSkip(10, func(call int) bool { return call == 1 })).FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
		require.ElementsMatch(t, want, crmtest.ExternalIDs(got))
	})
	t.Run("RowsSkipPagingNeverReachesAreAnError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		burst(t, b)
		_, err := b.adapterThrough(t, shiftSkip(10, func(int) bool { return true })).FetchNewLeads(t.Context(), b.since, b.until)
		require.ErrorContains(t, err, "140 of 150")
	})
	t.Run("BareOperatorsBecauseMongoOperatorsAreIgnored", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		before := b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.since.Add(-time.Minute)})
		first := b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.since})
		last := b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.until.Add(-time.Millisecond)})
		after := b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.until})

		// The fake, like the live API, drops "$gte" without an error.
		where, err := json.Marshal(map[string]any{"updatedDate": map[string]string{"$gte": b.since.Format(time.RFC3339), "$lt": b.until.Format(time.RFC3339)}})
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.baseURL+"/v3/order?where="+url.QueryEscape(string(where)), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var answer struct {
			Data []struct{ ID string } `json:"data"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
		require.Len(t, answer.Data, 4, "rows outside the $gte/$lt range come back")

		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, crmtest.RefIDs(first, last), crmtest.ExternalIDs(got))
		require.NotContains(t, crmtest.ExternalIDs(got), before.ExternalID)
		require.NotContains(t, crmtest.ExternalIDs(got), after.ExternalID)

		for _, q := range b.queries(t, "/v3/order")[1:] {
			var w map[string]any
			require.NoError(t, json.Unmarshal([]byte(q.Get("where")), &w))
			require.Equal(t, map[string]any{"gte": b.since.Format(time.RFC3339Nano), "lt": b.until.Format(time.RFC3339Nano)}, w["updatedDate"])
			require.Equal(t, testLocation, w["locationId"])
			require.Equal(t, "Estimate", w["status"])
			require.NotContains(t, q.Get("where"), "$")
		}
	})
	t.Run("OnlyEstimatesAndCustomerBookings", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		estimate := b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(1 * time.Minute), Complaint: "Brakes squeal", Authorized: true})
		b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(2 * time.Minute), Status: "RepairOrder"})
		b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(3 * time.Minute), Status: "Invoice"})
		b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(4 * time.Minute), Archived: true})
		b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(5 * time.Minute), Deleted: true})
		form := b.AddLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", CreatedAt: b.at(6 * time.Minute), AttributionSource: "WorkRequestForm", Complaint: "Oil change"})
		booker := b.AddLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", CreatedAt: b.at(7 * time.Minute), AttributionSource: "AppointmentScheduler", Confirmed: true})
		b.AddLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", CreatedAt: b.at(8 * time.Minute), AttributionSource: "Manual"})

		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, crmtest.RefIDs(estimate, form, booker), crmtest.ExternalIDs(got))

		want := crmtest.InquiryOf(estimate, lead.SourceEstimate)
		want.Summary, want.CreatedAt, want.UpdatedAt, want.Version, want.Booked = "Brakes squeal", b.at(time.Minute), b.at(time.Minute), 1, true
		require.Equal(t, want, got[0])
		require.Equal(t, lead.SourceAppointment, got[1].Source)
		require.Equal(t, "Oil change", got[1].Summary)
		require.False(t, got[1].Booked)
		require.True(t, got[2].Booked, "a confirmed appointment is booked")

		var w map[string]any
		appts := b.queries(t, "/v3/appointment")
		require.NotEmpty(t, appts)
		require.NoError(t, json.Unmarshal([]byte(appts[0].Get("where")), &w))
		require.Equal(t, map[string]any{"in": []any{"WorkRequestForm", "AppointmentScheduler"}}, w["attributionSource"])
	})
	t.Run("ChecksEveryFilterItself", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		keep := b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(time.Minute)})
		b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.since.Add(-time.Hour)})
		b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(2 * time.Minute), Status: "Invoice"})
		b.AddLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", CreatedAt: b.at(3 * time.Minute), AttributionSource: "Manual"})
		b.AddRaw(t, fakeshopmonkey.Order, fmt.Sprintf(`{"id":"elsewhere","status":"Estimate","locationId":"loc-z","customerId":"c","createdDate":%q,"updatedDate":%q}`,
			b.at(time.Minute).Format(time.RFC3339), b.at(time.Minute).Format(time.RFC3339)))

		// An API that ignores the whole where filter, as it ignores "$gte".
		a := b.adapterThrough(t, func(q url.Values) { q.Del("where") })
		got, err := a.FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
		require.Equal(t, crmtest.RefIDs(keep), crmtest.ExternalIDs(got))
	})
	t.Run("LocationIsolation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddLocation("sm-key-b", "loc-b")
		mine := b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(time.Minute)})
		theirs, err := b.fake.AddLead("loc-b", fakeshopmonkey.LeadSpec{CreatedAt: b.at(time.Minute)})
		require.NoError(t, err)

		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, crmtest.RefIDs(mine), crmtest.ExternalIDs(got))

		got, err = b.newAdapter(t, "sm-key-b", "loc-b").FetchNewLeads(t.Context(), b.since, b.until)
		require.NoError(t, err)
		require.Equal(t, crmtest.RefIDs(theirs), crmtest.ExternalIDs(got), "and the other location's adapter sees only its own")
		// That neither adapter reads the other's records is the contract's
		// OnlyTheWindowAndTheShop.
	})
}

func TestGetLead(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		refs := []fake.LeadRef{
			b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(time.Minute)}),
			b.AddLead(t, fakeshopmonkey.LeadSpec{Kind: "appointment", CreatedAt: b.at(2 * time.Minute)}),
		}
		polled := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Len(t, polled, 2)

		for i, ref := range refs {
			got, err := b.adapter.GetLead(t.Context(), ref.ExternalID)
			require.NoError(t, err)
			require.Equal(t, polled[i], got)
		}
		require.Equal(t, "/v3/appointment/"+refs[1].ID, b.fake.Requests()[len(b.fake.Requests())-1].Path)
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		archived := b.AddLead(t, fakeshopmonkey.LeadSpec{Archived: true})
		crmtest.RequireLeadsNotFound(t, b.adapter, "order:"+uuid.NewString(), "appointment:nope", "invoice:1", "order:", "12345", archived.ExternalID)
	})
}

func TestGetCustomer(t *testing.T) {
	t.Parallel()

	crmtest.EachBool(t, "EmbeddedContacts", func(t *testing.T, embed bool) {
		b := setup(t)
		b.fake.SetEmbedContacts(embed)
		ref := b.AddLead(t, fakeshopmonkey.LeadSpec{
			FirstName: "Ann", LastName: "Lee", Phone: "(312) 201-3344", Email: "Ann@Example.com",
			OptIn: new(false), Subscribed: new(true), MarketingOptIn: new(false), PreferredContactMethod: "Email",
		})

		c := crmtest.Customer(t, b.adapter, ref.CustomerID)
		want := crmtest.AnnLee(ref.CustomerID,
			lead.CustomerPhone{Number: "(312) 201-3344", Type: "Mobile", Primary: true, OptIn: false,
				OptInEvidence: lead.ConsentEvidence{Field: "customer.phoneNumbers[0].optIn", Value: "false"}},
			lead.CustomerEmail{Address: "Ann@Example.com", Primary: true, Subscribed: true,
				SubscribedEvidence: lead.ConsentEvidence{Field: "customer.emails[0].subscribed", Value: "true"}})
		want.MarketingOptIn, want.PreferredContact = false, "Email"
		require.Equal(t, want, c)

		listed := 0
		for _, r := range b.fake.Requests() {
			if strings.HasSuffix(r.Path, "/phone_number") || strings.HasSuffix(r.Path, "/email") {
				listed++
			}
		}
		if embed {
			require.Zero(t, listed, "embedded contacts need no more calls")
		} else {
			require.Equal(t, 2, listed)
		}

		crmtest.RequireLead(t, b.adapter, shopmonkey.Kind, ref, c, "+13122013344", lead.Consent{SMS: false, Email: true, Marketing: false})
	})
	t.Run("EmptyEmbeddedListsAreFetched", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.AddRaw(t, fakeshopmonkey.Customer, `{"id":"c1","firstName":"Bo","phoneNumbers":[],"emails":null}`)
		b.AddRaw(t, fakeshopmonkey.PhoneNumber, `{"id":"p1","customerId":"c1","number":"312-201-0000","type":"Home","primary":true,"optIn":true}`)
		c, err := b.adapter.GetCustomer(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, []lead.CustomerPhone{{Number: "312-201-0000", Type: "Home", Primary: true, OptIn: true,
			OptInEvidence: lead.ConsentEvidence{Field: "customer.phoneNumbers[0].optIn", Value: "true"}}}, c.Phones)
		require.Empty(t, c.Emails)
	})
	t.Run("AbsentConsentIsEvidenceToo", func(t *testing.T) {
		t.Parallel()
		// A record without the flag reads as no consent, and the evidence
		// says the field was absent rather than false.
		b := setup(t)
		id := b.AddRaw(t, fakeshopmonkey.Customer, `{"id":"c2","firstName":"Cy","phoneNumbers":[{"number":"312-201-0001","primary":true}],`+
			`"emails":[{"email":"cy@example.com","subscribed":null}]}`)
		c, err := b.adapter.GetCustomer(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, lead.ConsentEvidence{Field: "customer.phoneNumbers[0].optIn", Value: lead.ConsentValueAbsent}, c.Phones[0].OptInEvidence)
		require.False(t, c.Phones[0].OptIn)
		require.Equal(t, lead.ConsentEvidence{Field: "customer.emails[0].subscribed", Value: lead.ConsentValueAbsent}, c.Emails[0].SubscribedEvidence)
	})
	t.Run("UnusablePhoneIsKeptForNewLeadToJudge", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The adapter passes the phone on as written; NewLead decides.
		withEmail := b.AddLead(t, fakeshopmonkey.LeadSpec{Phone: "call me maybe"})
		c, err := b.adapter.GetCustomer(t.Context(), withEmail.CustomerID)
		require.NoError(t, err)
		require.Equal(t, "call me maybe", c.Phones[0].Number)
		in, err := b.adapter.GetLead(t.Context(), withEmail.ExternalID)
		require.NoError(t, err)
		l, err := lead.NewLead(uuid.New(), shopmonkey.Kind, in, c, lead.Vehicle{})
		require.NoError(t, err, "the email still reaches the customer")
		require.Contains(t, l.ContactProblem, "customer.phone")

		phoneOnly := b.AddLead(t, fakeshopmonkey.LeadSpec{Phone: "call me maybe", NoEmail: true})
		c, err = b.adapter.GetCustomer(t.Context(), phoneOnly.CustomerID)
		require.NoError(t, err)
		in, err = b.adapter.GetLead(t.Context(), phoneOnly.ExternalID)
		require.NoError(t, err)
		_, err = lead.NewLead(uuid.New(), shopmonkey.Kind, in, c, lead.Vehicle{})
		var invalid *lead.ValidationError
		require.ErrorAs(t, err, &invalid)
		require.Equal(t, "customer.phone", invalid.Field)
	})
	t.Run("MalformedEmbeddedPhone", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.AddRaw(t, fakeshopmonkey.Customer, `{"id":"c2","phoneNumbers":[{"number":3122013344}]}`)
		_, err := b.adapter.GetCustomer(t.Context(), id)
		crmtest.RequireInvalidRecord(t, err, "customer c2", "phoneNumbers[0].number")
	})
	t.Run("Address", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// State and country are read, cleaned as every text is; the
		// other address fields are not.
		id := b.AddRaw(t, fakeshopmonkey.Customer, `{"id":"c3","phoneNumbers":[],"emails":[],"address1":"1 King St W","address2":null,
			"city":"Toronto","state":"O\u0000N","postalCode":"M5H 1A1","country":"Canada"}`)
		c, err := b.adapter.GetCustomer(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, lead.CustomerAddress{State: "ON", Country: "Canada"}, c.Address)
		require.Equal(t, []string{"customer.state"}, c.Cleaned)

		id = b.AddRaw(t, fakeshopmonkey.Customer, `{"id":"c4","phoneNumbers":[],"emails":[],"address1":null,"state":null,"country":null}`)
		c, err = b.adapter.GetCustomer(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, lead.CustomerAddress{}, c.Address)
	})
	t.Run("MalformedAddress", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A state or country that is not a string names the field and
		// costs only the address: the customer (and the lead) is kept.
		for id, want := range map[string]lead.ValidationError{
			`{"id":"c5","firstName":"Ann","state":{"code":"TX"}}`:      {Field: "customer.state", Reason: `is not a string: {"code":"TX"}`},
			`{"id":"c6","firstName":"Ann","state":"TX","country":840}`: {Field: "customer.country", Reason: "is not a string: 840"},
		} {
			ref := b.AddRaw(t, fakeshopmonkey.Customer, id)
			c, err := b.adapter.GetCustomer(t.Context(), ref)
			require.NoError(t, err, id)
			require.Equal(t, "Ann", c.FirstName)
			require.NotNil(t, c.Address.Problem, id)
			require.Equal(t, want, *c.Address.Problem, id)
			require.Empty(t, c.Address.State, id)
		}
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()

	t.Run("Forbidden", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.Forbid(testKey)
		_, err := b.adapter.GetCustomer(t.Context(), "c")
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.Contains(t, err.Error(), "403")
		require.NotContains(t, err.Error(), testKey)
	})
	t.Run("ServerError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 1})
		b.fake.AddFault(fake.Fault{Status: http.StatusServiceUnavailable, EmptyBody: true, Count: 1})
		_, err := b.adapter.GetLead(t.Context(), "order:x")
		status := crmtest.RequireStatus(t, err, http.StatusInternalServerError)
		require.Equal(t, "INTERNAL_ERROR", status.Code)
		require.True(t, status.Temporary())

		_, err = b.adapter.GetLead(t.Context(), "order:x")
		status = crmtest.RequireStatus(t, err, http.StatusServiceUnavailable)
		require.Empty(t, status.Code)
		require.True(t, status.Temporary())
	})
	t.Run("BadRequestFromFake", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The adapter never sends "orderby"; prove the fake would refuse it,
		// so the camelCase spelling the adapter uses is the one that matters.
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.baseURL+"/v3/order?orderby=id", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)

		_ = crmtest.Poll(t, b.adapter, b.since, b.until)
		for _, q := range b.queries(t, "/v3/order")[1:] {
			require.Contains(t, q, "orderBy")
			require.NotContains(t, q, "orderby")
		}
	})
}

func TestInvalidRecords(t *testing.T) {
	t.Parallel()

	// order is a valid raw order inside the window with fields replaced or
	// removed (a nil value removes the field).
	order := func(b *testBundle, id string, change map[string]any) string {
		m := map[string]any{
			"id": id, "number": 1001, "status": "Estimate", "locationId": testLocation, "customerId": "c", "vehicleId": "v",
			"complaint": "Noise", "authorized": false, "archived": false, "deleted": false,
			"createdDate": b.at(time.Minute).Format(time.RFC3339), "updatedDate": b.at(time.Minute).Format(time.RFC3339),
			"meta": map[string]any{"version": 3},
		}
		return faketest.JSONWith(m, change)
	}

	t.Run("NumberAsStringOrInteger", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, fakeshopmonkey.Order, order(b, "o1", map[string]any{"number": "1001"}))
		b.AddRaw(t, fakeshopmonkey.Order, order(b, "o2", map[string]any{"number": 1002}))
		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, []string{"order:o1", "order:o2"}, crmtest.ExternalIDs(got))
		require.Equal(t, int64(3), got[0].Version)
	})
	t.Run("MissingVersionFallsBackToUpdatedDate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, fakeshopmonkey.Order, order(b, "o1", map[string]any{"meta": nil}))
		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Equal(t, b.at(time.Minute).UnixMilli(), got[0].Version)
	})

	for name, tc := range map[string]struct {
		change map[string]any
		record string
		field  string
	}{
		"MissingCustomerID":  {map[string]any{"customerId": nil}, "order o1", "customerId"},
		"EmptyCustomerID":    {map[string]any{"customerId": ""}, "order o1", "customerId"},
		"MissingID":          {map[string]any{"id": nil}, "order", "id"},
		"CreatedDateNotTime": {map[string]any{"createdDate": "03/10/2025"}, "order o1", "createdDate"},
		"AuthorizedNotBool":  {map[string]any{"authorized": "yes"}, "order o1", "authorized"},
		"VersionNotNumber":   {map[string]any{"meta": map[string]any{"version": "v3"}}, "order o1", "meta.version"},
		"ComplaintNotString": {map[string]any{"complaint": []string{"noise"}}, "order o1", "complaint"},
	} {
		t.Run("FetchNewLeads"+name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.AddLead(t, fakeshopmonkey.LeadSpec{CreatedAt: b.at(2 * time.Minute)})
			b.AddRaw(t, fakeshopmonkey.Order, order(b, "o1", tc.change))
			// One bad record must not hold up the window: the good lead
			// comes back, and so does the bad one, carrying its problem.
			got := crmtest.Poll(t, b.adapter, b.since, b.until)
			require.Len(t, got, 2)
			bad, _ := crmtest.SplitProblems(got)
			require.Len(t, bad, 1)
			crmtest.RequireInvalidRecord(t, bad[0].Problem, tc.record, tc.field)
			if tc.field != "id" {
				require.Equal(t, "order:o1", bad[0].ExternalID)
			} else {
				require.Empty(t, bad[0].ExternalID)
			}
		})
	}
	t.Run("GetLeadUpdatedDateNotTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, fakeshopmonkey.Order, order(b, "o1", map[string]any{"updatedDate": "last tuesday"}))
		_, err := b.adapter.GetLead(t.Context(), "order:o1")
		crmtest.RequireInvalidRecord(t, err, "order o1", "updatedDate")
		require.Contains(t, err.Error(), "last tuesday")
	})
	t.Run("GetLeadAppointmentWithoutCustomer", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ts := b.at(time.Minute).Format(time.RFC3339)
		b.AddRaw(t, fakeshopmonkey.Appointment, fmt.Sprintf(`{"id":"a1","locationId":%q,"attributionSource":"WorkRequestForm","createdDate":%q,"updatedDate":%q}`, testLocation, ts, ts))
		_, err := b.adapter.GetLead(t.Context(), "appointment:a1")
		crmtest.RequireInvalidRecord(t, err, "appointment a1", "customerId")
		got := crmtest.Poll(t, b.adapter, b.since, b.until)
		require.Len(t, got, 1)
		require.Equal(t, "appointment:a1", got[0].ExternalID)
		crmtest.RequireInvalidRecord(t, got[0].Problem, "appointment a1", "customerId")
	})
	t.Run("IsNotRetryable", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, fakeshopmonkey.Order, order(b, "o1", map[string]any{"customerId": nil}))
		_, err := b.adapter.GetLead(t.Context(), "order:o1")
		require.Error(t, err)
		require.False(t, errors.Is(err, crm.ErrNotFound) || errors.Is(err, crm.ErrUnauthorized))
		require.Contains(t, err.Error(), "customerId")
	})
}

// ExampleAdapter_FetchNewLeads polls the ShopMonkey fake for the estimates
// and booking requests of one hour.
func ExampleAdapter_FetchNewLeads() {
	fake := fakeshopmonkey.New()
	fake.AddLocation("example-key", "shop-1")
	since := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	_, _ = fake.AddLead("shop-1", fakeshopmonkey.LeadSpec{Complaint: "Brakes squeal when stopping", CreatedAt: since.Add(5 * time.Minute)})
	_, _ = fake.AddLead("shop-1", fakeshopmonkey.LeadSpec{Kind: "appointment", Complaint: "Oil change", CreatedAt: since.Add(20 * time.Minute)})
	server := httptest.NewServer(fake)
	defer server.Close()

	adapter, err := shopmonkey.New(shopmonkey.Opts{BaseURL: server.URL, APIKey: "example-key", LocationID: "shop-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	crmtest.PrintPolled(time.UTC)(adapter.FetchNewLeads(context.Background(), since, since.Add(time.Hour)))
	// Output:
	// estimate 12:05PM Brakes squeal when stopping
	// appointment 12:20PM Oil change
}

// TestBadTextInRecords: the adapter cleans every text it reads and names
// the fields it cleaned; a NUL in an id is kept, escaped, and the record is
// fetched back by it; an id whose byte encoding/json already replaced is
// named instead of fetched as a record that does not exist.
func TestBadTextInRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	ref, err := b.fake.AddLead(testLocation, fakeshopmonkey.LeadSpec{FirstName: "Ma\x00ria", Complaint: "Brakes " + fake.InvalidUTF8 + " squeal",
		Make: "Hon\x00da", Model: "Civic", Phone: "(312) 201-3344\x00", Email: "maria@example.com"})
	require.NoError(t, err)
	in, err := b.adapter.GetLead(ctx, ref.ExternalID)
	require.NoError(t, err)
	require.Equal(t, "Brakes \uFFFD squeal", in.Summary)
	require.Equal(t, []string{"order.complaint"}, in.Cleaned)
	c, err := b.adapter.GetCustomer(ctx, in.CustomerID)
	require.NoError(t, err)
	require.Equal(t, "Maria", c.FirstName)
	require.Equal(t, "(312) 201-3344", c.Phones[0].Number)
	require.Equal(t, []string{"customer.firstName", "customer.phoneNumbers[0].number"}, c.Cleaned)
	v, err := b.adapter.GetVehicle(ctx, in.VehicleID)
	require.NoError(t, err)
	require.Equal(t, "Honda", v.Make)
	require.Equal(t, []string{"vehicle.make"}, v.Cleaned)

	now := time.Now().UTC().Format(time.RFC3339)
	raw, err := json.Marshal(map[string]any{"id": "ord\x00-1", "status": "Estimate", "locationId": testLocation,
		"customerId": "cus\x00-1", "createdDate": now, "updatedDate": now})
	require.NoError(t, err)
	_, err = b.fake.AddRaw(testLocation, fakeshopmonkey.Order, raw)
	require.NoError(t, err)
	in, err = b.adapter.GetLead(ctx, "order:ord%00-1")
	require.NoError(t, err)
	require.Equal(t, "order:ord%00-1", in.ExternalID)
	require.Equal(t, "cus%00-1", in.CustomerID)

	_, err = b.adapter.GetLead(ctx, "order:ord\uFFFD-1")
	var invalid *crm.InvalidRecordError
	require.ErrorAs(t, err, &invalid)
	require.Equal(t, "id", invalid.Field)
}
