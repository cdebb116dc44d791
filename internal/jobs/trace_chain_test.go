package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/tracing"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// lockedBuffer is a bytes.Buffer the workers' log writes and the test's
// reads can share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

// tracedBundle is the webhook pipeline of webhooks_test.go with tracing
// on, as cmd/worker wires it: the River client, the HTTP routes and the
// provider and CRM clients all trace into one in-memory exporter, and the
// jobs log JSON through the trace-stamping handler.
type tracedBundle struct {
	*webhookBundle
	spans *tracetest.InMemoryExporter
	logs  *lockedBuffer
}

func setupTraced(t *testing.T) *tracedBundle {
	t.Helper()
	ctx := context.Background()
	b := setup(t)
	exp := tracetest.NewInMemoryExporter()
	tp, err := tracing.New(ctx, tracing.Opts{Exporter: exp, SampleRatio: 1, ServiceName: "lead-orchestrator", Version: "test"})
	require.NoError(t, err)
	logs := &lockedBuffer{}
	b.deps.Logger = slog.New(tracing.NewLogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))

	// The same fakes, through traced clients.
	fakes := httptest.NewServer(b.sandbox)
	t.Cleanup(fakes.Close)
	urls := sandbox.URLs(fakes.URL)
	traced := func(peer string) *http.Client {
		return &http.Client{Transport: tracing.NewTransport(tp, peer, nil)}
	}
	b.deps.SMS, err = twilio.NewSender(twilio.SenderOpts{AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken,
		BaseURL: urls.Twilio, Timeout: 5 * time.Second, HTTPClient: traced(tracing.PeerTwilio)})
	require.NoError(t, err)
	b.deps.Email, err = sendgrid.NewSender(sendgrid.SenderOpts{APIKey: fakesendgrid.DefaultAPIKey, BaseURL: urls.SendGrid,
		Timeout: 5 * time.Second, HTTPClient: traced(tracing.PeerSendGrid)})
	require.NoError(t, err)
	b.deps.CRM = crmset.NewRegistry(crmset.Opts{
		Settings:   map[string]crm.Settings{"shopmonkey": {BaseURL: urls.ShopMonkey, Timeout: 5 * time.Second}},
		HTTPClient: traced(tracing.PeerCRM),
		Budget:     store.NewCRMBudget(b.deps.Pool, nil),
	})

	b.deps.TracerProvider = tp
	client := b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Hour})
	defaults := config.Default().Webhooks
	intake := &jobs.WebhookIntake{Pool: b.deps.Pool, Client: client, Logger: b.deps.Logger,
		IntakePerMinute: defaults.IntakePerMinute, IntakeBurst: defaults.IntakeBurst}
	wb := &webhookBundle{testBundle: b, client: client, intake: intake}
	wb.server = httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(wb.server.Close)
	handler, err := httpapi.NewHandler(httpapi.Opts{
		Logger:         b.deps.Logger,
		Ready:          func(*http.Request) error { return nil },
		Intake:         intake,
		Tenants:        jobs.WebhookTenants{Pool: b.deps.Pool, Keys: b.keys},
		CRMKinds:       b.deps.CRM,
		TracerProvider: tp,
	})
	require.NoError(t, err)
	wb.server.Config.Handler = handler
	return &tracedBundle{webhookBundle: wb, spans: exp, logs: logs}
}

// span finds the ended spans named name.
func (b *tracedBundle) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range b.spans.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// TestOneTraceFromWebhookToText: a CRM webhook, the ingest it enqueues
// (whose first attempt meets a CRM 500 and retries), the text that ingest
// schedules and the Twilio call that sends it are one trace: the webhook's
// server span is its root, each job run the child of the span that
// inserted the job, each CRM and Twilio request the child of its run.
// The failed attempt's log line carries the trace id, no span or log
// holds the customer's phone or email, and no span names the tenant.
func TestOneTraceFromWebhookToText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupTraced(t)
	shop := b.addShop(t, "traced")
	b.withWebhookCredentials(t, shop)
	refs := b.addLeads(t, shop, 1)
	record, ok := b.sandbox.ShopMonkey.Record(shop.CRMLocationID, fakeshopmonkey.Order, refs[0].ID)
	require.True(t, ok)
	// The ingest's first read of the order fails; River retries it.
	b.sandbox.ShopMonkey.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 1, Method: http.MethodGet, Paths: []string{"/v3/order"}})

	body, err := json.Marshal(map[string]any{"apiVersion": "v3", "operation": "INSERT", "table": "order", "data": record})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		webhookurl.URL(b.server.URL, webhookurl.CRM("shopmonkey", shop.ID.String(), "")), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = fakeshopmonkey.SignWebhook(shopMonkeyWebhookSecret, "msg_trace", time.Now(), body)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The send's run span ends after the Twilio call and the completion.
	require.Eventually(t, func() bool { return len(b.named("river.work/send_sms")) == 1 }, 20*time.Second, 20*time.Millisecond)

	hooks := b.named("POST /webhooks/shopmonkey/{tenant}")
	require.Len(t, hooks, 1)
	hook := hooks[0]
	require.Equal(t, trace.SpanKindServer, hook.SpanKind)
	require.False(t, hook.Parent.IsValid(), "the webhook starts the trace")
	traceID := hook.SpanContext.TraceID()

	ingests := b.named("river.work/ingest_lead")
	require.Len(t, ingests, 2, "the failed attempt and the retry")
	for _, s := range ingests {
		require.Equal(t, traceID, s.SpanContext.TraceID())
		require.Equal(t, hook.SpanContext.SpanID(), s.Parent.SpanID(), "each run of the ingest is the webhook's child")
		require.Equal(t, trace.SpanKindConsumer, s.SpanKind)
	}
	failed, retried := ingests[0], ingests[1]
	require.Equal(t, codes.Error, failed.Status.Code)
	require.Equal(t, codes.Ok, retried.Status.Code)

	// A poll the scheduler ran meanwhile (RunOnStart) makes CRM calls in
	// a trace of its own: only this trace's are the ingest's.
	var crmCalls []tracetest.SpanStub
	for _, s := range b.named("crm GET") {
		if s.SpanContext.TraceID() == traceID {
			crmCalls = append(crmCalls, s)
		}
	}
	require.NotEmpty(t, crmCalls)
	ingestIDs := map[trace.SpanID]bool{failed.SpanContext.SpanID(): true, retried.SpanContext.SpanID(): true}
	var crmErrors int
	for _, s := range crmCalls {
		require.Equal(t, traceID, s.SpanContext.TraceID())
		require.True(t, ingestIDs[s.Parent.SpanID()], "a CRM call is a child of an ingest run")
		if s.Status.Code == codes.Error {
			crmErrors++
			require.Equal(t, failed.SpanContext.SpanID(), s.Parent.SpanID(), "the 500 was the first attempt's")
		}
	}
	require.Equal(t, 1, crmErrors)

	send := b.named("river.work/send_sms")[0]
	require.Equal(t, traceID, send.SpanContext.TraceID())
	require.Equal(t, retried.SpanContext.SpanID(), send.Parent.SpanID(), "the send was inserted by the ingest run that completed")
	twilioCalls := b.named("twilio POST")
	require.Len(t, twilioCalls, 1)
	require.Equal(t, traceID, twilioCalls[0].SpanContext.TraceID())
	require.Equal(t, send.SpanContext.SpanID(), twilioCalls[0].Parent.SpanID())
	require.Equal(t, trace.SpanKindClient, twilioCalls[0].SpanKind)
	require.Equal(t, 1, b.sandbox.Stats().SMS)

	// Nothing personal or secret in any span.
	var leadID uuid.UUID
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM leads WHERE tenant_id = $1`, shop.ID).Scan(&leadID))
	l, err := b.store.GetLead(ctx, shop.ID, leadID)
	require.NoError(t, err)
	require.NotEmpty(t, l.Phone)
	secrets := []string{string(l.Phone), string(l.Email), shop.ID.String(), shopMonkeyWebhookSecret}
	for _, s := range b.spans.GetSpans() {
		for _, secret := range secrets {
			require.NotContains(t, s.Name, secret)
			require.NotContains(t, s.Status.Description, secret, "span %s status", s.Name)
			for _, kv := range s.Attributes {
				require.NotContains(t, kv.Value.Emit(), secret, "span %s attribute %s", s.Name, kv.Key)
			}
		}
	}

	// The failed run's log line is in the trace.
	var failedLines int
	for _, line := range b.logs.lines(t) {
		if line["msg"] == "job failed" && line["kind"] == "ingest_lead" {
			failedLines++
			require.Equal(t, traceID.String(), line[tracing.LogTraceID], "%v", line)
		}
	}
	require.Equal(t, 1, failedLines)

	// The trace context rides in the metadata, the args stay ids.
	var meta, args string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT metadata->'otel'->>'traceparent', args::text FROM river_job WHERE kind = 'send_sms'`).Scan(&meta, &args))
	require.Equal(t, "00-"+traceID.String()+"-"+retried.SpanContext.SpanID().String()+"-01", meta)
	require.NotContains(t, args, "traceparent")
}

// TestUntracedJobsStoreNoTraceContext: a client whose Deps have no tracer
// provider (tracing off) writes nothing into a job's metadata, even when
// the inserting code runs inside a span.
func TestUntracedJobsStoreNoTraceContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	client := b.startClient(t, jobs.ClientOpts{})
	tp, err := tracing.New(ctx, tracing.Opts{Exporter: tracetest.NewInMemoryExporter(), SampleRatio: 1, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	spanCtx, span := tp.Tracer("test").Start(ctx, "inserting")
	defer span.End()
	shop := b.addShop(t, "untraced")
	res, err := client.Insert(spanCtx, jobs.PollCRMArgs{TenantID: shop.ID, Since: time.Now().Add(-time.Hour), Until: time.Now()}, nil)
	require.NoError(t, err)
	var hasOtel bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT metadata ? 'otel' OR metadata ? 'traceparent' FROM river_job WHERE id = $1`, res.Job.ID).Scan(&hasOtel))
	require.False(t, hasOtel)
}
