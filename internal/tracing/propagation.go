package tracing

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
)

// Propagator is the W3C Trace Context propagator (traceparent,
// tracestate) that carries a trace across a job's insert and its run. It
// carries no baggage: baggage is free text that would land in River's
// tables, which are not under row-level security.
func Propagator() propagation.TextMapPropagator { return propagation.TraceContext{} }

// Carrier is the trace context of ctx as W3C headers (traceparent and,
// when set, tracestate), or nil when ctx carries no valid span: a job
// inserted outside any trace stores nothing.
func Carrier(ctx context.Context) map[string]string {
	c := propagation.MapCarrier{}
	Propagator().Inject(ctx, c)
	if len(c) == 0 {
		return nil
	}
	return c
}

// FromCarrier returns ctx with the span context carrier holds as its
// remote parent: spans started from it join that trace. A nil or invalid
// carrier returns ctx unchanged.
func FromCarrier(ctx context.Context, carrier map[string]string) context.Context {
	if len(carrier) == 0 {
		return ctx
	}
	return Propagator().Extract(ctx, propagation.MapCarrier(carrier))
}
