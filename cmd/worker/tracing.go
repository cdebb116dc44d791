package main

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/tracing"
)

// traceFlushTimeout bounds the export of the spans still batched when the
// worker stops: a collector that is down must not hold the stop past the
// pod's grace period.
const traceFlushTimeout = 5 * time.Second

// newTracing builds the replica's tracer provider from tracing.* (off
// without tracing.otlp_endpoint). No OpenTelemetry global is set: the
// provider goes to the River client, the HTTP routes and the provider and
// CRM clients by hand.
func newTracing(ctx context.Context, cfg *config.Config) (*tracing.Provider, error) {
	return tracing.New(ctx, tracing.Opts{
		OTLPEndpoint: cfg.Tracing.OTLPEndpoint,
		SampleRatio:  cfg.Tracing.SampleRatio,
		ServiceName:  cfg.Tracing.ServiceName,
		Version:      buildVersion(),
	})
}

// tracerOf is what the rooms are given: nil with tracing off, so that they
// install no middleware and start no span at all.
func tracerOf(p *tracing.Provider) trace.TracerProvider {
	if !p.Enabled() {
		return nil
	}
	return p
}

// traceLogger stamps every line logged inside a span with its trace_id and
// span_id; with tracing off the logger is left as it is.
func traceLogger(logger *slog.Logger, p *tracing.Provider) *slog.Logger {
	if !p.Enabled() {
		return logger
	}
	return slog.New(tracing.NewLogHandler(logger.Handler()))
}

// tracedClient is an HTTP client whose requests to peer get client spans,
// over base; nil with tracing off, which leaves each sender and the CRM
// registry their own default client.
func tracedClient(p *tracing.Provider, peer string, base http.RoundTripper) *http.Client {
	if !p.Enabled() {
		return nil
	}
	return &http.Client{Transport: tracing.NewTransport(p, peer, base)}
}

// crmTransport is crmset's default transport (which a client of our own
// replaces): Go's keeps two idle connections per host, and every
// concurrent CRM call beyond that would reconnect.
func crmTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	return tr
}

// flushTraces exports the spans still batched, last in the graceful stop.
func flushTraces(p *tracing.Provider, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		logger.Warn("spans not exported before the stop", slog.String("error", err.Error()))
	}
}

// buildVersion is the service.version of the spans: the module version
// `go install` stamps, else the VCS revision `go build` stamps, else
// "devel".
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return "devel"
}
