package tracing

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Transport is an http.RoundTripper that puts a client span around every
// request to a provider or CRM, a child of the span in the request's
// context (the job's run: twilio's transport carries the job's context
// into the SDK's requests).
//
// It is ours rather than otelhttp's because otelhttp records url.full
// with the query string, and Twilio's message lists are queried by the
// customer's phone number (To=+1...). The span holds the method, the host,
// the path without query or credentials, the status and the peer; never
// a header or a body. It sends no traceparent either: the providers and
// CRMs are third parties, and our trace ids are none of their business.
//
// The span ends when the answer's headers arrive (or the request fails),
// not when its body has been read.
type Transport struct {
	tracer trace.Tracer
	peer   string
	next   http.RoundTripper
}

// NewTransport wraps next (nil: http.DefaultTransport) with client spans
// named for peer (PeerTwilio, PeerSendGrid, PeerCRM) from tp.
func NewTransport(tp trace.TracerProvider, peer string, next http.RoundTripper) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Transport{tracer: tp.Tracer(TracerName), peer: peer, next: next}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(req.Context(), ClientSpanName(t.peer, req.Method),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(requestAttributes(t.peer, req)...))
	defer span.End()
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, errorType(err))
		return nil, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= http.StatusBadRequest {
		status := strconv.Itoa(resp.StatusCode)
		span.SetAttributes(semconv.ErrorTypeKey.String(status))
		span.SetStatus(codes.Error, "HTTP "+status)
	}
	return resp, nil
}

// requestAttributes are what a client span may say about req.
func requestAttributes(peer string, req *http.Request) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("peer.service", peer),
		semconv.HTTPRequestMethodKey.String(req.Method),
	}
	if req.URL == nil {
		return attrs
	}
	host, port := req.URL.Hostname(), req.URL.Port()
	attrs = append(attrs, semconv.ServerAddress(host), semconv.URLFull(SafeURL(req.URL)))
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(p))
	}
	return attrs
}

// SafeURL is u as a span may record it: scheme, host and path, without
// user info, query or fragment, where phone numbers, emails and keys
// travel.
func SafeURL(u *url.URL) string {
	safe := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return safe.String()
}

// errorType names a failed request's cause by class, not by message: a
// transport error's text can quote the URL it failed on.
func errorType(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, new(*net.OpError)):
		return "connection"
	}
	return "transport"
}
