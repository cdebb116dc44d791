// Package tracing is the fleet's OpenTelemetry tracing: the tracer
// provider (OTLP over HTTP, or nothing at all when no collector is
// configured), the W3C propagation that carries a trace through a job's
// metadata, the client span around every provider and CRM request, the
// log handler that stamps each log line with its trace, and the names of
// the spans. It imports nothing of ours, so any room that does work worth
// tracing may use it; and it sets no OpenTelemetry global: whoever builds
// a Provider passes it to the rooms that trace.
package tracing

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Opts say where spans go and how many are kept: config's tracing keys.
type Opts struct {
	// OTLPEndpoint is the collector's OTLP/HTTP traces URL
	// (http://collector:4318/v1/traces). Empty turns tracing off: New then
	// returns a no-op provider that records nothing and costs nothing.
	OTLPEndpoint string
	// SampleRatio is the share of new traces kept, 0 to 1. A span whose
	// parent was sampled (a job inserted inside a sampled trace) follows
	// its parent's decision, so a trace is kept whole or not at all.
	SampleRatio float64
	// ServiceName and Version are the service.name and service.version of
	// every span.
	ServiceName string
	Version     string
	// Exporter, when set, receives the spans instead of OTLP, each as it
	// ends (no batching), whatever OTLPEndpoint says: tests pass tracetest's
	// in-memory exporter to see a trace the moment its spans end.
	Exporter sdktrace.SpanExporter
}

// Provider is the process's tracer provider. Its zero value is not
// usable; build it with New. Rooms take it as a trace.TracerProvider.
type Provider struct {
	trace.TracerProvider
	// sdk is nil when tracing is off.
	sdk *sdktrace.TracerProvider
}

// New builds the provider opts describe: off (a no-op provider) without
// an endpoint or exporter, else an SDK provider with a parent-based ratio
// sampler and a batch processor in front of the OTLP/HTTP exporter.
// Building it sends nothing: the exporter connects when it first exports.
func New(ctx context.Context, opts Opts) (*Provider, error) {
	if opts.OTLPEndpoint == "" && opts.Exporter == nil {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	if opts.SampleRatio < 0 || opts.SampleRatio > 1 {
		return nil, fmt.Errorf("error building tracer provider: sample ratio must be between 0 and 1, got %g", opts.SampleRatio)
	}
	if opts.ServiceName == "" {
		return nil, errors.New("error building tracer provider: a service name is required")
	}
	res := resource.NewSchemaless(semconv.ServiceName(opts.ServiceName), semconv.ServiceVersion(opts.Version))
	spans := sdktrace.WithSyncer(opts.Exporter)
	if opts.Exporter == nil {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(opts.OTLPEndpoint))
		if err != nil {
			return nil, fmt.Errorf("error building OTLP exporter for %s: %w", opts.OTLPEndpoint, err)
		}
		spans = sdktrace.WithBatcher(exp)
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(opts.SampleRatio))),
		spans,
	)
	return &Provider{TracerProvider: sdk, sdk: sdk}, nil
}

// Enabled reports whether spans are recorded and exported at all; with
// tracing off the rooms skip even the cheap no-op spans.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// Shutdown exports the spans still batched and stops the exporter; the
// worker calls it last in its graceful stop, so the spans of the jobs that
// finished during the stop are not lost. ctx bounds the flush. With
// tracing off it does nothing.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("error flushing spans: %w", err)
	}
	return nil
}
