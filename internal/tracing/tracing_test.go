package tracing_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/tracing"
	"github.com/leadorch/lead-orchestrator/internal/tracing/tracingtest"
)

// TestOTLPExport: with an endpoint, the spans really go out as OTLP/HTTP
// protobuf posts to it, with the service's name and version, and
// Shutdown flushes what the batcher still held.
func TestOTLPExport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	col := &tracingtest.Collector{}
	srv := httptest.NewServer(col)
	t.Cleanup(srv.Close)

	p, err := tracing.New(ctx, tracing.Opts{OTLPEndpoint: srv.URL + "/v1/traces", SampleRatio: 1, ServiceName: "lead-orchestrator", Version: "v1.2.3"})
	require.NoError(t, err)
	require.True(t, p.Enabled())
	tracer := p.Tracer("test")
	parentCtx, parent := tracer.Start(ctx, "parent")
	_, child := tracer.Start(parentCtx, "child")
	child.End()
	parent.End()
	traceID := parent.SpanContext().TraceID().String()

	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, p.Shutdown(flushCtx))

	spans := col.Spans()
	require.Len(t, spans, 2)
	child0, parent0 := spans[0], spans[1]
	require.Equal(t, "child", child0.Name)
	require.Equal(t, "parent", parent0.Name)
	for _, s := range spans {
		require.Equal(t, traceID, s.TraceID)
		require.Equal(t, "lead-orchestrator", s.Resource["service.name"])
		require.Equal(t, "v1.2.3", s.Resource["service.version"])
	}
	require.Equal(t, parent0.SpanID, child0.ParentID)
	require.Contains(t, col.Requests(), "POST /v1/traces application/x-protobuf")
}

// TestOff: without an endpoint the provider is a no-op: its spans record
// nothing, carry no trace id, and Shutdown has nothing to flush.
func TestOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, err := tracing.New(ctx, tracing.Opts{SampleRatio: 1, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	require.False(t, p.Enabled())
	spanCtx, span := p.Tracer("test").Start(ctx, "nothing")
	require.False(t, span.IsRecording())
	require.False(t, span.SpanContext().IsValid())
	span.End()
	require.Nil(t, tracing.Carrier(spanCtx), "a job inserted with tracing off stores no trace context")
	require.NoError(t, p.Shutdown(ctx))
	var nilProvider *tracing.Provider
	require.False(t, nilProvider.Enabled())
}

// TestOptsRefused: a ratio out of range or a missing service name is an
// error naming the problem, not a silently different provider.
func TestOptsRefused(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	_, err := tracing.New(context.Background(), tracing.Opts{Exporter: exp, SampleRatio: 1.5, ServiceName: "x"})
	require.ErrorContains(t, err, "sample ratio must be between 0 and 1, got 1.5")
	_, err = tracing.New(context.Background(), tracing.Opts{Exporter: exp, SampleRatio: 1})
	require.ErrorContains(t, err, "service name is required")
}

// TestSampling: the ratio decides new traces only; a span whose parent
// was sampled is kept even at ratio 0, so a job inserted inside a sampled
// webhook trace is never cut out of it, and one whose parent was not
// sampled is dropped even at ratio 1.
func TestSampling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	p, err := tracing.New(ctx, tracing.Opts{Exporter: exp, SampleRatio: 0, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	tracer := p.Tracer("test")

	_, root := tracer.Start(ctx, "new trace")
	root.End()
	require.False(t, root.SpanContext().IsSampled())

	sampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: [16]byte{1}, SpanID: [8]byte{1}, TraceFlags: trace.FlagsSampled, Remote: true})
	_, child := tracer.Start(trace.ContextWithRemoteSpanContext(ctx, sampled), "joins a sampled trace")
	child.End()

	p1, err := tracing.New(ctx, tracing.Opts{Exporter: exp, SampleRatio: 1, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	unsampled := trace.NewSpanContext(trace.SpanContextConfig{TraceID: [16]byte{2}, SpanID: [8]byte{2}, Remote: true})
	_, dropped := p1.Tracer("test").Start(trace.ContextWithRemoteSpanContext(ctx, unsampled), "parent said no")
	dropped.End()

	names := spanNames(exp.GetSpans())
	require.Equal(t, []string{"joins a sampled trace"}, names)
	require.Equal(t, sampled.TraceID(), exp.GetSpans()[0].SpanContext.TraceID())
}

// TestCarrierRoundTrip: the W3C headers of a span's context, read back,
// make the next span its child in the same trace.
func TestCarrierRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	p, err := tracing.New(ctx, tracing.Opts{Exporter: exp, SampleRatio: 1, ServiceName: "lead-orchestrator"})
	require.NoError(t, err)
	tracer := p.Tracer("test")
	insertCtx, insert := tracer.Start(ctx, "insert")
	carrier := tracing.Carrier(insertCtx)
	insert.End()
	require.Contains(t, carrier, "traceparent")
	require.Len(t, carrier, 1, "W3C trace context only, no baggage: %v", carrier)

	_, work := tracer.Start(tracing.FromCarrier(ctx, carrier), "work")
	work.End()
	spans := exp.GetSpans()
	require.Len(t, spans, 2)
	require.Equal(t, spans[0].SpanContext.TraceID(), spans[1].SpanContext.TraceID())
	require.Equal(t, spans[0].SpanContext.SpanID(), spans[1].Parent.SpanID())

	require.Equal(t, ctx, tracing.FromCarrier(ctx, nil))
	garbled := tracing.FromCarrier(ctx, map[string]string{"traceparent": "not-a-traceparent"})
	require.False(t, trace.SpanContextFromContext(garbled).IsValid())
}

// TestSpanNames: a route pattern names its span, with the method added
// when the pattern has none.
func TestSpanNames(t *testing.T) {
	t.Parallel()
	require.Equal(t, "POST /webhooks/tekmetric/{tenant}/{token}", tracing.ServerSpanName("POST", "POST /webhooks/tekmetric/{tenant}/{token}"))
	require.Equal(t, "GET /riverui/", tracing.ServerSpanName("GET", "/riverui/"))
	require.Equal(t, "GET /a b", tracing.ServerSpanName("GET", "/a b"))
	require.Equal(t, "river.work/send_sms", tracing.WorkSpanName("send_sms"))
	require.Equal(t, "twilio POST", tracing.ClientSpanName(tracing.PeerTwilio, "POST"))
}

func spanNames(spans tracetest.SpanStubs) []string {
	names := make([]string, 0, len(spans))
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return names
}

var _ sdktrace.SpanExporter = (*tracetest.InMemoryExporter)(nil)
