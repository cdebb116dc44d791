package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// chaosBundle is a Server with a ShopMonkey location and lead, served over
// real HTTP, as the chaos harness uses it.
type chaosBundle struct {
	sandbox *sandbox.Server
	server  *httptest.Server
	urls    sandbox.BaseURLs
	lead    fake.LeadRef
}

const (
	chaosKey      = "key-chaos"
	chaosLocation = "loc-chaos"
)

func setupChaos(t *testing.T) *chaosBundle {
	t.Helper()
	srv := sandbox.NewServer(sandbox.ServerOpts{})
	srv.ShopMonkey.AddLocation(chaosKey, chaosLocation)
	lead, err := srv.ShopMonkey.AddLead(chaosLocation, fakeshopmonkey.LeadSpec{})
	require.NoError(t, err)
	server := httptest.NewServer(srv)
	t.Cleanup(server.Close)
	return &chaosBundle{sandbox: srv, server: server, urls: sandbox.URLs(server.URL), lead: lead}
}

// chaosProvider is one fake as the chaos tests drive it.
type chaosProvider struct {
	name string
	// create builds a request the provider processes and records, and ok
	// is its status when nothing interferes.
	create func(t *testing.T, b *chaosBundle) *http.Request
	ok     int
	// other builds a request the create filter (method and paths) spares.
	other      func(t *testing.T, b *chaosBundle) *http.Request
	createPath string
	// stored counts what the provider has recorded.
	stored func(b *chaosBundle) int
}

func chaosProviders() []chaosProvider {
	newRequest := func(t *testing.T, method, url, body string) *http.Request {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		require.NoError(t, err)
		return req
	}
	twilioMessages := func(b *chaosBundle) string {
		return b.urls.Twilio + "/2010-04-01/Accounts/" + faketwilio.DefaultAccountSID + "/Messages.json"
	}
	twilioRequest := func(t *testing.T, b *chaosBundle, method, body string) *http.Request {
		req := newRequest(t, method, twilioMessages(b), body)
		req.SetBasicAuth(faketwilio.DefaultAccountSID, faketwilio.DefaultAuthToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	sendGridRequest := func(t *testing.T, b *chaosBundle, method, body string) *http.Request {
		req := newRequest(t, method, b.urls.SendGrid+"/v3/mail/send", body)
		req.Header.Set("Authorization", "Bearer "+fakesendgrid.DefaultAPIKey)
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	shopMonkeyRequest := func(t *testing.T, b *chaosBundle, method, path, body string) *http.Request {
		req := newRequest(t, method, b.urls.ShopMonkey+path, body)
		req.Header.Set("Authorization", "Bearer "+chaosKey)
		return req
	}
	return []chaosProvider{
		{
			name: sandbox.ProviderTwilio,
			create: func(t *testing.T, b *chaosBundle) *http.Request {
				return twilioRequest(t, b, http.MethodPost, url.Values{"To": {"+15551230001"}, "From": {"+15559870000"}, "Body": {"Your quote is ready"}}.Encode())
			},
			ok:         http.StatusCreated,
			other:      func(t *testing.T, b *chaosBundle) *http.Request { return twilioRequest(t, b, http.MethodGet, "") },
			createPath: "/Messages.json",
			stored:     func(b *chaosBundle) int { return len(b.sandbox.Twilio.Messages()) },
		},
		{
			name: sandbox.ProviderSendGrid,
			create: func(t *testing.T, b *chaosBundle) *http.Request {
				return sendGridRequest(t, b, http.MethodPost, faketest.SendGridMail)
			},
			ok:         http.StatusAccepted,
			other:      func(t *testing.T, b *chaosBundle) *http.Request { return sendGridRequest(t, b, http.MethodGet, "") },
			createPath: "/v3/mail/send",
			stored:     func(b *chaosBundle) int { return len(b.sandbox.SendGrid.Emails()) },
		},
		{
			name: sandbox.ProviderShopMonkey,
			create: func(t *testing.T, b *chaosBundle) *http.Request {
				body, err := json.Marshal(map[string]any{
					"customerId": b.lead.CustomerID, "vehicleId": b.lead.VehicleID, "name": "Brake job",
					"startDate": "2025-03-12T15:00:00Z", "endDate": "2025-03-12T16:00:00Z",
				})
				require.NoError(t, err)
				return shopMonkeyRequest(t, b, http.MethodPost, "/v3/appointment", string(body))
			},
			ok: http.StatusOK,
			other: func(t *testing.T, b *chaosBundle) *http.Request {
				return shopMonkeyRequest(t, b, http.MethodGet, "/v3/order", "")
			},
			createPath: "/v3/appointment",
			stored:     func(b *chaosBundle) int { return b.sandbox.ShopMonkey.Counts(chaosLocation).Appointments },
		},
	}
}

// requireHangEnds checks that a hung handler let go when its client did:
// closing the server waits for every running handler.
func requireHangEnds(t *testing.T, b *chaosBundle) {
	t.Helper()
	start := time.Now()
	b.server.Close()
	require.Less(t, time.Since(start), 5*time.Second, "the hang outlived its client")
}

func TestChaosFaults(t *testing.T) {
	t.Parallel()

	for _, p := range chaosProviders() {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()

			t.Run("AfterAnswersTheFaultButProcesses", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Status: http.StatusInternalServerError, After: true, Count: 1}))

				status, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, http.StatusInternalServerError, status)
				require.Equal(t, 1, p.stored(b), "the provider has it although the client saw a 500")

				status, err = faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, p.ok, status)
				require.Equal(t, 2, p.stored(b))
				require.Equal(t, fake.FaultTally{Requests: 2, FaultedAfter: 1}, tally(b, p.name))
			})

			t.Run("BeforeProcessesNothing", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Status: http.StatusServiceUnavailable}))

				status, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, http.StatusServiceUnavailable, status)
				require.Zero(t, p.stored(b))
				require.Equal(t, fake.FaultTally{Requests: 1, FaultedBefore: 1}, tally(b, p.name))
			})

			t.Run("HangAfterTimesOutButProcesses", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Hang: 30 * time.Second, After: true}))

				_, err := faketest.Attempt(t, faketest.ChaosClient(500*time.Millisecond), p.create(t, b))
				require.True(t, faketest.IsTimeout(err), "want a client timeout, got %v", err)
				require.Equal(t, 1, p.stored(b), "processed before the hang")
				requireHangEnds(t, b)
			})

			t.Run("HangBeforeProcessesNothing", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Hang: 30 * time.Second}))

				_, err := faketest.Attempt(t, faketest.ChaosClient(300*time.Millisecond), p.create(t, b))
				require.True(t, faketest.IsTimeout(err), "want a client timeout, got %v", err)
				requireHangEnds(t, b)
				require.Zero(t, p.stored(b))
			})

			t.Run("HangEndsWithoutAnswer", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name,
					fake.Fault{Hang: 100 * time.Millisecond, Count: 1},
					fake.Fault{Hang: 100 * time.Millisecond, Reset: true, After: true, Count: 1},
				))

				start := time.Now()
				_, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				faketest.RequireDropped(t, err, false)
				require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
				require.Zero(t, p.stored(b))

				start = time.Now()
				_, err = faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				faketest.RequireDropped(t, err, true)
				require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
				require.Equal(t, 1, p.stored(b))
			})

			t.Run("ResetDropsTheConnection", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Reset: true, Count: 1}))

				_, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				faketest.RequireDropped(t, err, true)
				require.Zero(t, p.stored(b))

				status, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, p.ok, status, "Count 1 clears after one reset")
			})

			t.Run("ResetAfterProcesses", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Reset: true, After: true}))

				_, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				faketest.RequireDropped(t, err, true)
				require.Equal(t, 1, p.stored(b))
			})

			t.Run("LatencyDelaysThenServes", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Latency: 200 * time.Millisecond}))

				start := time.Now()
				status, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
				require.Equal(t, p.ok, status)
				require.Equal(t, 1, p.stored(b))
				require.Equal(t, fake.FaultTally{Requests: 1, Delayed: 1}, tally(b, p.name))
			})

			t.Run("ClientGivingUpDuringLatencyLeavesNothing", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Latency: 30 * time.Second}))

				_, err := faketest.Attempt(t, faketest.ChaosClient(300*time.Millisecond), p.create(t, b))
				require.True(t, faketest.IsTimeout(err), "want a client timeout, got %v", err)
				requireHangEnds(t, b)
				require.Zero(t, p.stored(b))
			})

			t.Run("LatencyStacksUnderErrors", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name,
					fake.Fault{Latency: 150 * time.Millisecond},
					fake.Fault{Status: http.StatusBadGateway, EmptyBody: true, Count: 1},
				))

				for _, want := range []int{http.StatusBadGateway, p.ok} {
					start := time.Now()
					status, err := faketest.Attempt(t, faketest.ChaosClient(5*time.Second), p.create(t, b))
					require.NoError(t, err)
					require.Equal(t, want, status)
					require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
				}
			})

			t.Run("RateAppliesToAFraction", func(t *testing.T) {
				t.Parallel()
				const n = 100
				outcomes := func() (pattern []bool, failed int) {
					b := setupChaos(t)
					b.sandbox.SeedFaults(7)
					require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Status: http.StatusInternalServerError, Rate: 0.25}))
					client := &http.Client{Timeout: 5 * time.Second}
					for range n {
						status, err := faketest.Attempt(t, client, p.create(t, b))
						require.NoError(t, err)
						pattern = append(pattern, status == http.StatusInternalServerError)
						if status == http.StatusInternalServerError {
							failed++
						}
					}
					require.Equal(t, n-failed, p.stored(b), "a fault before processing records nothing")
					return pattern, failed
				}
				pattern, failed := outcomes()
				require.GreaterOrEqual(t, failed, 12)
				require.LessOrEqual(t, failed, 40)
				again, _ := outcomes()
				require.Equal(t, pattern, again, "the same seed gives the same faults")
			})

			t.Run("RateWithCountCountsApplications", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, fake.Fault{Status: http.StatusInternalServerError, Rate: 0.5, Count: 3}))
				client := &http.Client{Timeout: 5 * time.Second}
				failed := 0
				for range 40 {
					status, err := faketest.Attempt(t, client, p.create(t, b))
					require.NoError(t, err)
					if status == http.StatusInternalServerError {
						failed++
					}
				}
				require.Equal(t, 3, failed)
				require.Empty(t, faultsOf(b.sandbox.Faults(), p.name))
			})

			t.Run("FiltersSpareOtherRequests", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name,
					fake.Fault{Status: http.StatusInternalServerError, Paths: []string{"/nowhere"}},
					fake.Fault{Status: http.StatusServiceUnavailable, Method: http.MethodPost, Paths: []string{p.createPath}, Count: 1},
				))
				client := &http.Client{Timeout: 5 * time.Second}

				for range 3 {
					status, err := faketest.Attempt(t, client, p.other(t, b))
					require.NoError(t, err)
					require.Less(t, status, http.StatusInternalServerError, "a filtered fault leaves other requests alone")
				}
				active := b.sandbox.Faults()
				require.Len(t, faultsOf(active, p.name), 2)
				require.Equal(t, 1, faultsOf(active, p.name)[1].Count, "a fault is not spent by requests it does not match")

				status, err := faketest.Attempt(t, client, p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, http.StatusServiceUnavailable, status)
				status, err = faketest.Attempt(t, client, p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, p.ok, status)
				require.Len(t, faultsOf(b.sandbox.Faults(), p.name), 1)
			})
		})
	}
}

func tally(b *chaosBundle, provider string) fake.FaultTally {
	all := b.sandbox.Faults().Tally
	switch provider {
	case sandbox.ProviderTwilio:
		return all.Twilio
	case sandbox.ProviderSendGrid:
		return all.SendGrid
	}
	return all.ShopMonkey
}

func faultsOf(a sandbox.ActiveFaults, provider string) []fake.Fault {
	switch provider {
	case sandbox.ProviderTwilio:
		return a.Twilio
	case sandbox.ProviderSendGrid:
		return a.SendGrid
	}
	return a.ShopMonkey
}
