package sandbox_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

func TestFaultJSON(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		in := `{"status": 500, "code": 20500, "retry_after": "5s", "empty_body": true, "count": 3,
			"after": true, "latency": "200ms", "rate": 0.2,
			"path": "/Messages.json", "paths": ["/v3/order"], "method": "POST"}`
		var f sandbox.Fault
		require.NoError(t, json.Unmarshal([]byte(in), &f))
		require.Equal(t, sandbox.Fault{
			Status: 500, Code: 20500, RetryAfter: 5 * time.Second, EmptyBody: true, Count: 3,
			After: true, Latency: 200 * time.Millisecond, Rate: 0.2,
			Paths: []string{"/Messages.json", "/v3/order"}, Method: "POST",
		}, f)

		out, err := json.Marshal(f)
		require.NoError(t, err)
		var again sandbox.Fault
		require.NoError(t, json.Unmarshal(out, &again))
		require.Equal(t, f, again)
	})
	t.Run("HangAndReset", func(t *testing.T) {
		t.Parallel()
		var f sandbox.Fault
		require.NoError(t, json.Unmarshal([]byte(`{"hang": "30s", "reset": true}`), &f))
		require.Equal(t, sandbox.Fault{Hang: 30 * time.Second, Reset: true}, f)
		out, err := json.Marshal(f)
		require.NoError(t, err)
		require.JSONEq(t, `{"status":0,"code":0,"empty_body":false,"count":0,"hang":"30s","reset":true}`, string(out))
	})
	t.Run("OldShapeUnchanged", func(t *testing.T) {
		t.Parallel()
		out, err := json.Marshal(sandbox.Fault{Status: 429, RetryAfter: time.Second, Count: 1})
		require.NoError(t, err)
		require.JSONEq(t, `{"status":429,"code":0,"retry_after":"1s","empty_body":false,"count":1}`, string(out))
	})
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		var f sandbox.Fault
		require.ErrorContains(t, json.Unmarshal([]byte(`{"status": 500, "retryAfter": "5s"}`), &f), "retryAfter")
		require.ErrorContains(t, json.Unmarshal([]byte(`{"hang": "forever"}`), &f), "hang")
		require.ErrorContains(t, json.Unmarshal([]byte(`{"latency": 200}`), &f), "latency")
	})
}

func TestFaultValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		fault sandbox.Fault
		err   string
	}{
		{"Status", sandbox.Fault{Status: 503}, ""},
		{"PureLatency", sandbox.Fault{Latency: time.Second}, ""},
		{"Reset", sandbox.Fault{Reset: true, After: true}, ""},
		{"Hang", sandbox.Fault{Hang: time.Second, Paths: []string{"/v3/order"}, Method: "get"}, ""},
		{"Nothing", sandbox.Fault{}, "needs status >= 400, latency, reset or hang"},
		{"LowStatus", sandbox.Fault{Status: 200}, "status must be 0 or 400-599"},
		{"AfterAlone", sandbox.Fault{After: true, Latency: time.Second}, "after needs status, reset or hang"},
		{"ResetWithStatus", sandbox.Fault{Reset: true, Status: 500}, "reset and hang answer nothing"},
		{"Rate", sandbox.Fault{Status: 500, Rate: 1.5}, "rate must be in [0, 1]"},
		{"Count", sandbox.Fault{Status: 500, Count: -1}, "count must be >= 0"},
		{"EmptyPath", sandbox.Fault{Status: 500, Paths: []string{""}}, "paths must not hold an empty string"},
		{"Method", sandbox.Fault{Status: 500, Method: "/POST"}, "method must be an HTTP method"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.fault.Validate()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

// chaosBundle is a Server with a ShopMonkey location and lead, served over
// real HTTP, as the chaos harness uses it.
type chaosBundle struct {
	sandbox *sandbox.Server
	server  *httptest.Server
	urls    sandbox.BaseURLs
	lead    sandbox.LeadRef
}

const (
	chaosKey      = "key-chaos"
	chaosLocation = "loc-chaos"
)

func setupChaos(t *testing.T) *chaosBundle {
	t.Helper()
	srv := sandbox.NewServer(sandbox.ServerOpts{})
	srv.ShopMonkey.AddLocation(chaosKey, chaosLocation)
	lead, err := srv.ShopMonkey.AddLead(chaosLocation, sandbox.LeadSpec{})
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
		return b.urls.Twilio + "/2010-04-01/Accounts/" + sandbox.DefaultTwilioAccountSID + "/Messages.json"
	}
	twilioRequest := func(t *testing.T, b *chaosBundle, method, body string) *http.Request {
		req := newRequest(t, method, twilioMessages(b), body)
		req.SetBasicAuth(sandbox.DefaultTwilioAccountSID, sandbox.DefaultTwilioAuthToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	sendGridRequest := func(t *testing.T, b *chaosBundle, method, body string) *http.Request {
		req := newRequest(t, method, b.urls.SendGrid+"/v3/mail/send", body)
		req.Header.Set("Authorization", "Bearer "+sandbox.DefaultSendGridAPIKey)
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
				return twilioRequest(t, b, http.MethodPost, sms("+15551230001", "+15559870000", "Your quote is ready").Encode())
			},
			ok:         http.StatusCreated,
			other:      func(t *testing.T, b *chaosBundle) *http.Request { return twilioRequest(t, b, http.MethodGet, "") },
			createPath: "/Messages.json",
			stored:     func(b *chaosBundle) int { return len(b.sandbox.Twilio.Messages()) },
		},
		{
			name: sandbox.ProviderSendGrid,
			create: func(t *testing.T, b *chaosBundle) *http.Request {
				return sendGridRequest(t, b, http.MethodPost, validMail)
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

// chaosClient never reuses a connection, so that a dropped one reaches the
// test instead of being retried by the transport.
func chaosClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

// attempt sends req and returns the answer's status, or the error when no
// answer came.
func attempt(t *testing.T, c *http.Client, req *http.Request) (int, error) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// requireDropped checks that the client got no HTTP answer at all, and
// not because it gave up waiting: a reset connection when reset, else one
// closed early.
func requireDropped(t *testing.T, err error, reset bool) {
	t.Helper()
	require.Error(t, err)
	require.False(t, isTimeout(err), "want a dropped connection, got a timeout: %v", err)
	if reset {
		require.ErrorIs(t, err, syscall.ECONNRESET)
		return
	}
	require.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "want a closed connection, got %v", err)
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
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Status: http.StatusInternalServerError, After: true, Count: 1}))

				status, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, http.StatusInternalServerError, status)
				require.Equal(t, 1, p.stored(b), "the provider has it although the client saw a 500")

				status, err = attempt(t, chaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, p.ok, status)
				require.Equal(t, 2, p.stored(b))
				require.Equal(t, sandbox.FaultTally{Requests: 2, FaultedAfter: 1}, tally(b, p.name))
			})

			t.Run("BeforeProcessesNothing", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Status: http.StatusServiceUnavailable}))

				status, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, http.StatusServiceUnavailable, status)
				require.Zero(t, p.stored(b))
				require.Equal(t, sandbox.FaultTally{Requests: 1, FaultedBefore: 1}, tally(b, p.name))
			})

			t.Run("HangAfterTimesOutButProcesses", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Hang: 30 * time.Second, After: true}))

				_, err := attempt(t, chaosClient(500*time.Millisecond), p.create(t, b))
				require.True(t, isTimeout(err), "want a client timeout, got %v", err)
				require.Equal(t, 1, p.stored(b), "processed before the hang")
				requireHangEnds(t, b)
			})

			t.Run("HangBeforeProcessesNothing", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Hang: 30 * time.Second}))

				_, err := attempt(t, chaosClient(300*time.Millisecond), p.create(t, b))
				require.True(t, isTimeout(err), "want a client timeout, got %v", err)
				requireHangEnds(t, b)
				require.Zero(t, p.stored(b))
			})

			t.Run("HangEndsWithoutAnswer", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name,
					sandbox.Fault{Hang: 100 * time.Millisecond, Count: 1},
					sandbox.Fault{Hang: 100 * time.Millisecond, Reset: true, After: true, Count: 1},
				))

				start := time.Now()
				_, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
				requireDropped(t, err, false)
				require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
				require.Zero(t, p.stored(b))

				start = time.Now()
				_, err = attempt(t, chaosClient(5*time.Second), p.create(t, b))
				requireDropped(t, err, true)
				require.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
				require.Equal(t, 1, p.stored(b))
			})

			t.Run("ResetDropsTheConnection", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Reset: true, Count: 1}))

				_, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
				requireDropped(t, err, true)
				require.Zero(t, p.stored(b))

				status, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, p.ok, status, "Count 1 clears after one reset")
			})

			t.Run("ResetAfterProcesses", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Reset: true, After: true}))

				_, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
				requireDropped(t, err, true)
				require.Equal(t, 1, p.stored(b))
			})

			t.Run("LatencyDelaysThenServes", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Latency: 200 * time.Millisecond}))

				start := time.Now()
				status, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
				require.NoError(t, err)
				require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
				require.Equal(t, p.ok, status)
				require.Equal(t, 1, p.stored(b))
				require.Equal(t, sandbox.FaultTally{Requests: 1, Delayed: 1}, tally(b, p.name))
			})

			t.Run("ClientGivingUpDuringLatencyLeavesNothing", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Latency: 30 * time.Second}))

				_, err := attempt(t, chaosClient(300*time.Millisecond), p.create(t, b))
				require.True(t, isTimeout(err), "want a client timeout, got %v", err)
				requireHangEnds(t, b)
				require.Zero(t, p.stored(b))
			})

			t.Run("LatencyStacksUnderErrors", func(t *testing.T) {
				t.Parallel()
				b := setupChaos(t)
				require.NoError(t, b.sandbox.SetFaults(p.name,
					sandbox.Fault{Latency: 150 * time.Millisecond},
					sandbox.Fault{Status: http.StatusBadGateway, EmptyBody: true, Count: 1},
				))

				for _, want := range []int{http.StatusBadGateway, p.ok} {
					start := time.Now()
					status, err := attempt(t, chaosClient(5*time.Second), p.create(t, b))
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
					require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Status: http.StatusInternalServerError, Rate: 0.25}))
					client := &http.Client{Timeout: 5 * time.Second}
					for range n {
						status, err := attempt(t, client, p.create(t, b))
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
				require.NoError(t, b.sandbox.SetFaults(p.name, sandbox.Fault{Status: http.StatusInternalServerError, Rate: 0.5, Count: 3}))
				client := &http.Client{Timeout: 5 * time.Second}
				failed := 0
				for range 40 {
					status, err := attempt(t, client, p.create(t, b))
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
					sandbox.Fault{Status: http.StatusInternalServerError, Paths: []string{"/nowhere"}},
					sandbox.Fault{Status: http.StatusServiceUnavailable, Method: http.MethodPost, Paths: []string{p.createPath}, Count: 1},
				))
				client := &http.Client{Timeout: 5 * time.Second}

				for range 3 {
					status, err := attempt(t, client, p.other(t, b))
					require.NoError(t, err)
					require.Less(t, status, http.StatusInternalServerError, "a filtered fault leaves other requests alone")
				}
				active := b.sandbox.Faults()
				require.Len(t, faultsOf(active, p.name), 2)
				require.Equal(t, 1, faultsOf(active, p.name)[1].Count, "a fault is not spent by requests it does not match")

				status, err := attempt(t, client, p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, http.StatusServiceUnavailable, status)
				status, err = attempt(t, client, p.create(t, b))
				require.NoError(t, err)
				require.Equal(t, p.ok, status)
				require.Len(t, faultsOf(b.sandbox.Faults(), p.name), 1)
			})
		})
	}
}

func tally(b *chaosBundle, provider string) sandbox.FaultTally {
	all := b.sandbox.Faults().Tally
	switch provider {
	case sandbox.ProviderTwilio:
		return all.Twilio
	case sandbox.ProviderSendGrid:
		return all.SendGrid
	}
	return all.ShopMonkey
}

func faultsOf(a sandbox.ActiveFaults, provider string) []sandbox.Fault {
	switch provider {
	case sandbox.ProviderTwilio:
		return a.Twilio
	case sandbox.ProviderSendGrid:
		return a.SendGrid
	}
	return a.ShopMonkey
}

// TestTwilio_AfterFaultWithSDK shows the ambiguous case as the senders meet
// it: twilio-go reports a 500, yet the message exists and the list the
// sender reconciles with shows it.
func TestTwilio_AfterFaultWithSDK(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)
	b.fake.AddFault(sandbox.Fault{Status: http.StatusInternalServerError, After: true, Method: http.MethodPost, Count: 1})
	api := b.sdk(t)

	create := &openapi.CreateMessageParams{}
	create.SetTo("+15551230001").SetFrom("+15559870000").SetBody("Hi Ana")
	_, err := api.CreateMessage(create)
	var restErr *client.TwilioRestError
	require.ErrorAs(t, err, &restErr)
	require.Equal(t, http.StatusInternalServerError, restErr.Status)

	msgs := b.fake.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "Hi Ana", msgs[0].Body)

	listParams := &openapi.ListMessageParams{}
	listParams.SetTo("+15551230001")
	list, err := api.ListMessage(listParams)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, msgs[0].Sid, *list[0].Sid)
}

// TestSendGrid_ResetIsAConnectionError shows a reset as a plain net/http
// client meets it: an error from Do, no response.
func TestSendGrid_ResetIsAConnectionError(t *testing.T) {
	t.Parallel()
	b := setupSendGrid(t)
	b.fake.AddFault(sandbox.Fault{Reset: true, Count: 1})

	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/v3/mail/send", strings.NewReader(validMail))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testSendGridKey)
	_, err = attempt(t, chaosClient(5*time.Second), req)
	requireDropped(t, err, true)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	require.Empty(t, b.fake.Emails())
	require.Equal(t, sandbox.FaultTally{Requests: 1, FaultedBefore: 1}, b.fake.FaultTally())
}
