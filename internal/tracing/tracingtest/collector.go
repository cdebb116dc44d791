// Package tracingtest is test support for tracing: a stand-in OTLP/HTTP
// collector that decodes what an exporter really sends, so a test can
// check the spans a process exported over the wire.
package tracingtest

import (
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"sync"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one exported span as the collector received it.
type Span struct {
	TraceID, SpanID, ParentID string
	Name                      string
	// Attributes are the span's attributes as strings (ints in decimal).
	Attributes map[string]string
	// Resource are its resource's attributes (service.name, ...).
	Resource map[string]string
}

// Collector is an http.Handler that accepts OTLP/HTTP protobuf trace
// exports (POST /v1/traces) and keeps their spans. Serve it with
// httptest.NewServer and point an exporter at URL + "/v1/traces".
type Collector struct {
	mu       sync.Mutex
	spans    []Span
	requests []string
}

// ServeHTTP implements http.Handler.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		http.Error(w, "error decoding OTLP export: "+err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.requests = append(c.requests, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
	c.spans = append(c.spans, decode(req)...)
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// Spans are every span received so far.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// Requests are the exports received, each as "METHOD PATH CONTENT-TYPE".
func (c *Collector) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.requests...)
}

// Named are the spans received named name.
func (c *Collector) Named(name string) []Span {
	var out []Span
	for _, s := range c.Spans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func decode(req *coltracepb.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		resource := map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			resource[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				attrs := map[string]string{}
				for _, kv := range s.GetAttributes() {
					attrs[kv.GetKey()] = valueString(kv.GetValue())
				}
				out = append(out, Span{
					TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentID: hex.EncodeToString(s.GetParentSpanId()), Name: s.GetName(),
					Attributes: attrs, Resource: resource,
				})
			}
		}
	}
	return out
}

func valueString(v interface {
	GetStringValue() string
	GetIntValue() int64
	GetBoolValue() bool
}) string {
	switch {
	case v.GetStringValue() != "":
		return v.GetStringValue()
	case v.GetIntValue() != 0:
		return strconv.FormatInt(v.GetIntValue(), 10)
	case v.GetBoolValue():
		return "true"
	}
	return ""
}
