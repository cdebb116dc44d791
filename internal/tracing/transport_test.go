package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/tracing"
)

// TestTransport: every request gets a client span, the child of the span
// in its context, that names the peer and method and keeps the status; its
// URL has no query (Twilio lists messages by the customer's number), no
// credentials; no traceparent goes to the third party; an error answer
// and a failed connection are errors by class.
func TestTransport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var (
		mu          sync.Mutex
		traceparent []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparent = append(traceparent, r.Header.Get("traceparent"))
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/fail") {
			http.Error(w, "boom", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(srv.Close)
	exp := tracetest.NewInMemoryExporter()
	p, err := tracing.New(ctx, tracing.Opts{Exporter: exp, SampleRatio: 1, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	hc := &http.Client{Transport: tracing.NewTransport(p, tracing.PeerTwilio, nil)}

	jobCtx, job := p.Tracer("test").Start(ctx, "river.work/send_sms")
	get := func(url string) (int, error) {
		req, err := http.NewRequestWithContext(jobCtx, http.MethodGet, url, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	withUser := strings.Replace(srv.URL, "http://", "http://AC123:secret@", 1)
	status, err := get(withUser + "/2010-04-01/Accounts/AC123/Messages.json?To=%2B15551234567&PageSize=100")
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status)
	status, err = get(srv.URL + "/fail")
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, status)
	_, err = get("http://127.0.0.1:1/refused")
	require.Error(t, err)
	job.End()

	spans := exp.GetSpans()
	require.Len(t, spans, 4)
	ok, failed, refused := spans[0], spans[1], spans[2]
	for _, s := range spans[:3] {
		require.Equal(t, "twilio GET", s.Name)
		require.Equal(t, trace.SpanKindClient, s.SpanKind)
		require.Equal(t, job.SpanContext().SpanID(), s.Parent.SpanID(), "a child of the job's span")
		require.Equal(t, "twilio", attr(s, "peer.service").AsString())
		for _, kv := range s.Attributes {
			v := kv.Value.Emit()
			require.NotContains(t, v, "5551234567", "%s holds the phone number", kv.Key)
			require.NotContains(t, v, "secret", "%s holds the credentials", kv.Key)
		}
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	require.Equal(t, srv.URL+"/2010-04-01/Accounts/AC123/Messages.json", attr(ok, "url.full").AsString())
	require.Equal(t, int64(201), attr(ok, "http.response.status_code").AsInt64())
	require.Equal(t, strings.Split(host, ":")[0], attr(ok, "server.address").AsString())
	require.Equal(t, codes.Unset, ok.Status.Code)
	require.Equal(t, codes.Error, failed.Status.Code)
	require.Equal(t, "503", attr(failed, "error.type").AsString())
	require.Equal(t, codes.Error, refused.Status.Code)
	require.Equal(t, "connection", attr(refused, "error.type").AsString())
	mu.Lock()
	require.Equal(t, []string{"", ""}, traceparent, "no trace context leaves for a third party")
	mu.Unlock()
}

func attr(s tracetest.SpanStub, key string) attribute.Value {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}
