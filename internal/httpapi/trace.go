package httpapi

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/tracing"
)

// traceRequests starts a server span for every request mux routes to a
// public route (webhooks), named by the route's pattern: the path itself
// holds tenant ids and, for a CRM that authenticates by URL token, the
// shop's secret. The span records the method, the pattern, the status and
// nothing of the request's headers, query or body. Health probes, River UI
// and requests no route matches (scanners) get no span: they would bury
// the webhooks' traces. Nil tp returns mux as it is.
//
// Each span starts a new trace: a traceparent header from the internet is
// not trusted, or any caller could force its requests to be sampled or
// graft them onto another trace.
func traceRequests(tp trace.TracerProvider, mux *http.ServeMux) http.Handler {
	if tp == nil {
		return mux
	}
	tracer := tp.Tracer(tracing.TracerName)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if !tracedPattern(pattern) {
			mux.ServeHTTP(w, r)
			return
		}
		route := pattern
		if _, path, ok := strings.Cut(pattern, " "); ok {
			route = path
		}
		ctx, span := tracer.Start(r.Context(), tracing.ServerSpanName(r.Method, pattern),
			trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.HTTPRoute(route)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(semconv.HTTPResponseStatusCode(sw.status))
		if sw.status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

// tracedPattern reports whether requests routed to pattern get a span.
func tracedPattern(pattern string) bool {
	switch pattern {
	case "", "GET /healthz", "GET /readyz", "GET /riverui":
		return false
	}
	return !strings.HasPrefix(pattern, "/riverui/")
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
