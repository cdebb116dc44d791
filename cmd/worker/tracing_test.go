package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/tracing/tracingtest"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// TestWorkerExportsOneTrace: a worker run with tracing.otlp_endpoint set
// posts its spans to that collector, and a CRM webhook's path through it
// (the webhook, the ingest whose first CRM read fails, the CRM reads, the
// text and its Twilio call) arrives as one trace, flushed by the stop.
// The failed ingest's log line carries the trace id.
func TestWorkerExportsOneTrace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	sb := sandbox.NewServer(sandbox.ServerOpts{})
	fakes := httptest.NewServer(sb)
	t.Cleanup(fakes.Close)
	for _, kv := range sandbox.URLs(fakes.URL).WorkerEnv() {
		k, v, _ := strings.Cut(kv, "=")
		b.env[k] = v
	}
	b.env["LEADORCH_CREDENTIALS_KEYS"] = credentialsKeys
	col := &tracingtest.Collector{}
	collector := httptest.NewServer(col)
	t.Cleanup(collector.Close)
	b.env["LEADORCH_TRACING_OTLP_ENDPOINT"] = collector.URL + "/v1/traces"
	b.env["LEADORCH_LOG_FORMAT"] = "json"

	keys, err := credentials.ParseKeyring(credentialsKeys)
	require.NoError(t, err)
	st := store.New(b.db.App)
	sb.ShopMonkey.AddLocation("sm_key_traced", "loc-traced")
	shop := fixture.Create(t, st, keys, fixture.ShopMonkeyTenant("traced", fixture.PollEvery(time.Hour),
		fixture.Senders("+15005550006", "service@traced.example.com"), fixture.Unlimited, fixture.SendAnyTime), "sm_key_traced")
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sealed, err := keys.SealWebhook(shop.ID, secret)
	require.NoError(t, err)
	noToken := sha256.Sum256([]byte("unused"))
	require.NoError(t, st.SetTenantWebhookCredentials(ctx, shop.ID, &sealed, noToken[:]))
	ref, err := sb.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{})
	require.NoError(t, err)
	record, ok := sb.ShopMonkey.Record(shop.CRMLocationID, fakeshopmonkey.Order, ref.ID)
	require.True(t, ok)
	sb.ShopMonkey.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 1, Method: http.MethodGet, Paths: []string{"/v3/order"}})

	w := startWorker(t, b)
	body, err := json.Marshal(map[string]any{"apiVersion": "v3", "operation": "INSERT", "table": "order", "data": record})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookurl.URL(w.base, webhookurl.CRM("shopmonkey", shop.ID.String(), "")), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = fakeshopmonkey.SignWebhook(secret, "msg_worker_trace", time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Eventually(t, func() bool { return sb.Stats().SMS == 1 }, 20*time.Second, 20*time.Millisecond, "no text; output:\n%s", w.out)
	// The run span of the send ends once its completion commits; then the
	// stop flushes whatever the batcher holds.
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'send_sms' AND state = 'completed'`).Scan(&n))
		return n == 1
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, w.stop(t))

	hooks := col.Named("POST /webhooks/shopmonkey/{tenant}")
	require.Len(t, hooks, 1, "spans: %v", col.Spans())
	traceID := hooks[0].TraceID
	require.Equal(t, "lead-orchestrator", hooks[0].Resource["service.name"])
	for _, name := range []string{"river.work/ingest_lead", "crm GET", "river.work/send_sms", "twilio POST"} {
		spans := col.Named(name)
		require.NotEmpty(t, spans, name)
		for _, s := range spans {
			require.Equal(t, traceID, s.TraceID, "%s is in the webhook's trace", name)
		}
	}
	for _, s := range col.Spans() {
		for k, v := range s.Attributes {
			require.NotContains(t, v, shop.ID.String(), "%s %s", s.Name, k)
		}
	}

	var failedLine map[string]any
	for _, line := range strings.Split(w.out.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "job failed" && m["kind"] == "ingest_lead" {
			failedLine = m
		}
	}
	require.NotNil(t, failedLine, "output:\n%s", w.out)
	require.Equal(t, traceID, failedLine["trace_id"])
}
