package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/tracing"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// spanIntake is the fake intake that also notes the span each Ingest
// call's context carries.
type spanIntake struct {
	*fakeIntake
	mu    sync.Mutex
	spans []trace.SpanContext
}

func (si *spanIntake) Ingest(ctx context.Context, tenantID uuid.UUID, kind string, e crm.WebhookEvent) error {
	si.mu.Lock()
	si.spans = append(si.spans, trace.SpanContextFromContext(ctx))
	si.mu.Unlock()
	return si.fakeIntake.Ingest(ctx, tenantID, kind, e)
}

// TestWebhookSpans: a webhook request gets one server span named by its
// route pattern, never its path (the tenant id, the URL token), with the
// route and status; the intake works inside it; a traceparent sent from
// outside is not trusted; a failing intake's 5xx marks the span an
// error; health probes and unrouted paths get no span.
func TestWebhookSpans(t *testing.T) {
	t.Parallel()
	b := setup(t)
	exp := tracetest.NewInMemoryExporter()
	tp, err := tracing.New(context.Background(), tracing.Opts{Exporter: exp, SampleRatio: 1, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	intake := &spanIntake{fakeIntake: &fakeIntake{}}
	handler, err := httpapi.NewHandler(httpapi.Opts{
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:          func(*http.Request) error { return nil },
		Intake:         intake,
		Tenants:        b.tenants,
		CRMKinds:       fakeKinds(),
		TracerProvider: tp,
	})
	require.NoError(t, err)
	serve := func(method, path string, h http.Header) int {
		req := httptest.NewRequest(method, path, bytes.NewReader(jsonBody(t, fakeRecord{ID: "7"})))
		for k, v := range h {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}

	tokenPath := webhookurl.CRM(tokenKind, b.token.ID.String(), fakeToken).Path()
	outside := http.Header{"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
	require.Equal(t, http.StatusOK, serve(http.MethodPost, tokenPath, outside))
	require.Equal(t, http.StatusOK, serve(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, serve(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusNotFound, serve(http.MethodGet, "/wp-login.php", nil))

	spans := exp.GetSpans()
	require.Len(t, spans, 1, "only the webhook is traced")
	s := spans[0]
	require.Equal(t, "POST /webhooks/faketoken/{tenant}/{token}", s.Name)
	require.Equal(t, trace.SpanKindServer, s.SpanKind)
	require.False(t, s.Parent.IsValid(), "an outside traceparent is not our parent")
	require.NotEqual(t, "0af7651916cd43dd8448eb211c80319c", s.SpanContext.TraceID().String())
	require.Equal(t, "/webhooks/faketoken/{tenant}/{token}", attr(s, "http.route").AsString())
	require.Equal(t, int64(http.StatusOK), attr(s, "http.response.status_code").AsInt64())
	for _, kv := range s.Attributes {
		require.NotContains(t, kv.Value.Emit(), fakeToken, kv.Key)
		require.NotContains(t, kv.Value.Emit(), b.token.ID.String(), kv.Key)
	}
	intake.mu.Lock()
	require.Equal(t, []trace.SpanContext{s.SpanContext}, intake.spans, "the intake (and the job it inserts) runs in the request's span")
	intake.mu.Unlock()

	intake.fail = errors.New("database down")
	status := serve(http.MethodPost, tokenPath, nil)
	require.GreaterOrEqual(t, status, http.StatusInternalServerError)
	spans = exp.GetSpans()
	require.Len(t, spans, 2)
	require.Equal(t, int64(status), attr(spans[1], "http.response.status_code").AsInt64())
	require.Equal(t, codes.Error, spans[1].Status.Code)
}

func attr(s tracetest.SpanStub, key string) (v attribute.Value) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return v
}
