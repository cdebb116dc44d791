package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

type serverBundle struct {
	sandbox *sandbox.Server
	server  *httptest.Server
}

func setupServer(t *testing.T) *serverBundle {
	t.Helper()
	srv := sandbox.NewServer(sandbox.ServerOpts{})
	server := httptest.NewServer(srv)
	t.Cleanup(server.Close)
	return &serverBundle{sandbox: srv, server: server}
}

// control calls the control API and returns the status and raw body.
func (b *serverBundle) control(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.server.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := b.server.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

// active reads GET /_sandbox/faults.
func (b *serverBundle) active(t *testing.T) sandbox.ActiveFaults {
	t.Helper()
	status, raw := b.control(t, http.MethodGet, "/_sandbox/faults", "")
	require.Equal(t, http.StatusOK, status, raw)
	var a sandbox.ActiveFaults
	require.NoError(t, json.Unmarshal([]byte(raw), &a))
	return a
}

// sendSMS posts a text to the mounted Twilio fake.
func (b *serverBundle) sendSMS(t *testing.T) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		sandbox.URLs(b.server.URL).Twilio+"/2010-04-01/Accounts/"+faketwilio.DefaultAccountSID+"/Messages.json",
		strings.NewReader(url.Values{"To": {"+15551230001"}, "From": {"+15559870000"}, "Body": {"hi"}}.Encode()))
	require.NoError(t, err)
	req.SetBasicAuth(faketwilio.DefaultAccountSID, faketwilio.DefaultAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := faketest.Do(t, req)
	return resp.StatusCode
}

func TestServerFaultControl(t *testing.T) {
	t.Parallel()

	t.Run("AddOverHTTP", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		status, raw := b.control(t, http.MethodPost, "/_sandbox/faults/twilio",
			`{"status": 500, "after": true, "path": "/Messages.json", "method": "POST", "count": 1}`)
		require.Equal(t, http.StatusCreated, status, raw)
		require.JSONEq(t, `{"status":500,"code":0,"empty_body":false,"count":1,"after":true,"paths":["/Messages.json"],"method":"POST"}`, raw)

		a := b.active(t)
		require.Equal(t, []fake.Fault{{Status: 500, After: true, Paths: []string{"/Messages.json"}, Method: "POST", Count: 1}}, a.Twilio)
		require.Empty(t, a.SendGrid)
		require.Empty(t, a.ShopMonkey)

		require.Equal(t, http.StatusInternalServerError, b.sendSMS(t))
		require.Equal(t, 1, b.sandbox.Stats().SMS, "an After fault lets the message through")
		require.Equal(t, http.StatusCreated, b.sendSMS(t))

		a = b.active(t)
		require.Empty(t, a.Twilio, "Count 1 is spent")
		require.Equal(t, fake.FaultTally{Requests: 2, FaultedAfter: 1}, a.Tally.Twilio)
	})
	t.Run("PureLatencyAccepted", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		status, raw := b.control(t, http.MethodPost, "/_sandbox/faults/sendgrid", `{"latency": "50ms", "rate": 0.5}`)
		require.Equal(t, http.StatusCreated, status, raw)
		require.Equal(t, []fake.Fault{{Latency: 50 * time.Millisecond, Rate: 0.5}}, b.active(t).SendGrid)
	})
	t.Run("Rejects", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		for _, tt := range []struct {
			path, body string
			status     int
			contains   string
		}{
			{"/_sandbox/faults/twilio", `{"status": 200}`, http.StatusBadRequest, "status must be 0 or 400-599"},
			{"/_sandbox/faults/twilio", `{}`, http.StatusBadRequest, "needs status >= 400, latency, reset or hang"},
			{"/_sandbox/faults/twilio", `{"reset": true, "status": 500}`, http.StatusBadRequest, "reset and hang answer nothing"},
			{"/_sandbox/faults/twilio", `{"status": 500, "retryAfter": "5s"}`, http.StatusBadRequest, "retryAfter"},
			{"/_sandbox/faults/twilio", `{"status": 500, "rate": 2}`, http.StatusBadRequest, "rate must be in [0, 1]"},
			{"/_sandbox/faults/dealerbox", `{"status": 500}`, http.StatusNotFound, "provider must be shopmonkey, tekmetric, twilio or sendgrid"},
		} {
			status, raw := b.control(t, http.MethodPost, tt.path, tt.body)
			require.Equal(t, tt.status, status, "%s %s: %s", tt.path, tt.body, raw)
			require.Contains(t, raw, tt.contains)
		}
		require.Empty(t, b.active(t).Twilio)
	})
	t.Run("PutReplaces", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		require.NoError(t, b.sandbox.AddFault(sandbox.ProviderShopMonkey, fake.Fault{Status: 429}))

		status, raw := b.control(t, http.MethodPut, "/_sandbox/faults/shopmonkey",
			`[{"latency": "10ms"}, {"status": 503, "empty_body": true, "rate": 0.1, "paths": ["/v3/order"]}]`)
		require.Equal(t, http.StatusOK, status, raw)
		require.Equal(t, []fake.Fault{
			{Latency: 10 * time.Millisecond},
			{Status: 503, EmptyBody: true, Rate: 0.1, Paths: []string{"/v3/order"}},
		}, b.active(t).ShopMonkey)

		status, raw = b.control(t, http.MethodPut, "/_sandbox/faults/shopmonkey", `[{"status": 500}, {"hang": "1s", "status": 500}]`)
		require.Equal(t, http.StatusBadRequest, status, raw)
		require.Contains(t, raw, "invalid fault 1 for shopmonkey")
		require.Len(t, b.active(t).ShopMonkey, 2, "a plan with a mistake changes nothing")

		status, raw = b.control(t, http.MethodPut, "/_sandbox/faults/shopmonkey", `[]`)
		require.Equal(t, http.StatusOK, status, raw)
		require.Empty(t, b.active(t).ShopMonkey)
	})
	t.Run("QuirksMerge", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		status, raw := b.control(t, http.MethodPost, "/_sandbox/shopmonkey/quirks", `{"duplicate_page_rate": 0.2, "drop_record_rate": 0.1}`)
		require.Equal(t, http.StatusOK, status, raw)
		require.JSONEq(t, `{"unstable_skip": false, "duplicate_page_rate": 0.2, "drop_record_rate": 0.1}`, raw)

		status, raw = b.control(t, http.MethodPost, "/_sandbox/shopmonkey/quirks", `{"unstable_skip": true}`)
		require.Equal(t, http.StatusOK, status, raw)
		require.Equal(t, fakeshopmonkey.Quirks{UnstableSkip: true, DuplicatePageRate: 0.2, DropRecordRate: 0.1}, b.sandbox.ShopMonkey.Quirks())
		require.Equal(t, b.sandbox.ShopMonkey.Quirks(), b.active(t).ShopMonkeyQuirks)

		for _, body := range []string{`{"drop_record_rate": 1.5}`, `{"drop_rate": 0.1}`, `nope`} {
			status, raw = b.control(t, http.MethodPost, "/_sandbox/shopmonkey/quirks", body)
			require.Equal(t, http.StatusBadRequest, status, "%s: %s", body, raw)
		}
		require.Equal(t, 0.1, b.sandbox.ShopMonkey.Quirks().DropRecordRate)
	})
	t.Run("DeleteClearsEverything", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		for _, p := range []string{sandbox.ProviderShopMonkey, sandbox.ProviderTekmetric, sandbox.ProviderTwilio, sandbox.ProviderSendGrid} {
			require.NoError(t, b.sandbox.SetFaults(p, fake.Fault{Status: 500, Rate: 0.5}, fake.Fault{Reset: true, Method: "POST"}))
		}
		b.sandbox.ShopMonkey.SetUnstableSkip(true)
		b.sandbox.ShopMonkey.SetDuplicatePageRate(0.2)
		b.sandbox.ShopMonkey.SetDropRecordRate(0.1)

		status, raw := b.control(t, http.MethodDelete, "/_sandbox/faults", "")
		require.Equal(t, http.StatusNoContent, status, raw)
		status, raw = b.control(t, http.MethodGet, "/_sandbox/faults", "")
		require.Equal(t, http.StatusOK, status)
		require.JSONEq(t, `{
			"shopmonkey": [], "tekmetric": [], "twilio": [], "sendgrid": [],
			"shopmonkey_quirks": {"unstable_skip": false, "duplicate_page_rate": 0, "drop_record_rate": 0},
			"tally": {
				"shopmonkey": {"requests": 0, "delayed": 0, "faulted_before": 0, "faulted_after": 0},
				"tekmetric": {"requests": 0, "delayed": 0, "faulted_before": 0, "faulted_after": 0},
				"twilio": {"requests": 0, "delayed": 0, "faulted_before": 0, "faulted_after": 0},
				"sendgrid": {"requests": 0, "delayed": 0, "faulted_before": 0, "faulted_after": 0}
			}
		}`, raw)
	})
	t.Run("Seed", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		// pattern sends 30 texts under a 50% fault after seeding and says
		// which failed.
		pattern := func(seed string) []bool {
			status, raw := b.control(t, http.MethodPost, "/_sandbox/faults/seed", `{"seed": `+seed+`}`)
			require.Equal(t, http.StatusNoContent, status, raw)
			require.NoError(t, b.sandbox.SetFaults(sandbox.ProviderTwilio, fake.Fault{Status: 503, Rate: 0.5}))
			var out []bool
			for range 30 {
				out = append(out, b.sendSMS(t) == http.StatusServiceUnavailable)
			}
			return out
		}
		first := pattern("42")
		require.Contains(t, first, true)
		require.Contains(t, first, false)
		require.Equal(t, first, pattern("42"))
		require.NotEqual(t, first, pattern("43"))

		status, raw := b.control(t, http.MethodPost, "/_sandbox/faults/seed", `{}`)
		require.Equal(t, http.StatusBadRequest, status, raw)
	})
	t.Run("InProcess", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		require.ErrorContains(t, b.sandbox.SetFaults("dealerbox", fake.Fault{Status: 500}), "unknown provider")
		require.ErrorContains(t, b.sandbox.AddFault(sandbox.ProviderTwilio, fake.Fault{}), "needs status >= 400")
		require.NoError(t, b.sandbox.SetFaults(sandbox.ProviderTwilio, fake.Fault{Status: 503, Count: 2}))
		require.NoError(t, b.sandbox.AddFault(sandbox.ProviderTwilio, fake.Fault{Status: 429}))
		require.Equal(t, []fake.Fault{{Status: 503, Count: 2}, {Status: 429}}, b.sandbox.Twilio.Faults())

		require.Equal(t, http.StatusServiceUnavailable, b.sendSMS(t))
		require.Equal(t, []fake.Fault{{Status: 503, Count: 1}, {Status: 429}}, b.sandbox.Faults().Twilio, "Count shows the uses left")

		require.NoError(t, b.sandbox.SetFaults(sandbox.ProviderTwilio))
		require.Empty(t, b.sandbox.Twilio.Faults())
		require.Equal(t, http.StatusCreated, b.sendSMS(t))
	})
}

// TestWorkerEnv: the environment the harnesses give workers names real
// keys, and with a River UI password it is a complete worker config.
func TestWorkerEnv(t *testing.T) {
	t.Parallel()
	urls := sandbox.URLs("http://127.0.0.1:9090")
	env := map[string]string{"LEADORCH_RIVERUI_PASSWORD": "a-long-enough-password"}
	for _, kv := range urls.WorkerEnv() {
		k, v, ok := strings.Cut(kv, "=")
		require.True(t, ok, kv)
		env[k] = v
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	require.NoError(t, err)
	require.NoError(t, cfg.ValidateForWorker())
	require.Equal(t, urls.Twilio, cfg.Twilio.BaseURL)
	require.Equal(t, urls.ShopMonkey, cfg.ShopMonkey.BaseURL)
	require.Equal(t, fakesendgrid.WebhookPublicKey, cfg.SendGrid.WebhookPublicKey)
}

// TestServerTekmetric drives the Tekmetric fake through a Server: mounted
// at /tekmetric, seeded and controlled over the control API, faulted as
// provider "tekmetric".
func TestServerTekmetric(t *testing.T) {
	t.Parallel()

	t.Run("ControlAPI", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		status, raw := b.control(t, http.MethodPost, "/_sandbox/tekmetric/shops", `{"shop_id": 3, "time_zone": "America/Chicago", "client_id": "app-a", "client_secret": "secret-a"}`)
		require.Equal(t, http.StatusCreated, status, raw)
		require.NotContains(t, raw, "secret-a")
		status, raw = b.control(t, http.MethodPost, "/_sandbox/tekmetric/shops", `{"shop_id": 0}`)
		require.Equal(t, http.StatusBadRequest, status, raw)

		status, raw = b.control(t, http.MethodPost, "/_sandbox/tekmetric/shops/3/leads?count=3", "")
		require.Equal(t, http.StatusCreated, status, raw)
		var refs []fake.LeadRef
		require.NoError(t, json.Unmarshal([]byte(raw), &refs))
		require.Len(t, refs, 3)
		status, raw = b.control(t, http.MethodPost, "/_sandbox/tekmetric/shops/3/leads", `{"kind": "appointment", "lead_source": "Google", "concern": "Tires"}`)
		require.Equal(t, http.StatusCreated, status, raw)
		require.Contains(t, raw, `"kind":"appointment"`)
		for _, path := range []string{"/_sandbox/tekmetric/shops/9/leads", "/_sandbox/tekmetric/shops/x/leads", "/_sandbox/tekmetric/shops/3/leads?count=0"} {
			status, raw = b.control(t, http.MethodPost, path, "")
			require.Equal(t, http.StatusBadRequest, status, "%s: %s", path, raw)
		}
		require.Equal(t, faketekmetric.Counts{RepairOrders: 3, Appointments: 1, Customers: 4, Vehicles: 4}, b.sandbox.Tekmetric.Counts(3))

		status, raw = b.control(t, http.MethodPost, "/_sandbox/tekmetric/rate-limit", `{"requests_per_minute": 50}`)
		require.Equal(t, http.StatusOK, status, raw)
		require.JSONEq(t, `{"requests_per_minute": 50}`, raw)
		require.Equal(t, 50, b.sandbox.Tekmetric.RateLimit())
		status, _ = b.control(t, http.MethodPost, "/_sandbox/tekmetric/rate-limit", `{"requests_per_minute": -1}`)
		require.Equal(t, http.StatusBadRequest, status)

		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sandbox.URLs(b.server.URL).Tekmetric+"/api/v1/oauth/token", strings.NewReader("grant_type=client_credentials"))
		require.NoError(t, err)
		req.SetBasicAuth("app-a", "secret-a")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := faketest.Do(t, req)
		require.Equal(t, http.StatusOK, resp.StatusCode, "mounted at /tekmetric: %v", body)

		status, raw = b.control(t, http.MethodPost, "/_sandbox/tekmetric/clients/app-a/revoke", "")
		require.Equal(t, http.StatusOK, status, raw)
		require.JSONEq(t, `{"revoked": 1}`, raw)
	})
	t.Run("Faults", func(t *testing.T) {
		t.Parallel()
		b := setupServer(t)
		status, raw := b.control(t, http.MethodPost, "/_sandbox/faults/tekmetric", `{"status": 429, "path": "/api/v1/repair-orders", "count": 2}`)
		require.Equal(t, http.StatusCreated, status, raw)
		a := b.active(t)
		require.Equal(t, []fake.Fault{{Status: 429, Paths: []string{"/api/v1/repair-orders"}, Count: 2}}, a.Tekmetric)
		require.Empty(t, a.ShopMonkey)

		resp, err := http.Get(sandbox.URLs(b.server.URL).Tekmetric + "/api/v1/repair-orders")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "before authentication, as a gateway answers")
		require.Equal(t, fake.FaultTally{Requests: 1, FaultedBefore: 1}, b.active(t).Tally.Tekmetric)

		require.NoError(t, b.sandbox.SetFaults(sandbox.ProviderTekmetric, fake.Fault{Status: 503}))
		b.sandbox.SeedFaults(3)
		require.Len(t, b.sandbox.Faults().Tekmetric, 1)
		b.sandbox.ClearFaults()
		require.Empty(t, b.sandbox.Faults().Tekmetric)
	})
}
