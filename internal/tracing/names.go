package tracing

import "strings"

// TracerName is the instrumentation scope of every span we start
// ourselves (River's spans carry otelriver's).
const TracerName = "github.com/leadorch/lead-orchestrator"

// Span names, written once here so that the README, a dashboard and the
// tests agree with the code:
//
//   - a webhook request's server span is named by its route pattern
//     ("POST /webhooks/shopmonkey/{tenant}"), never by its path, which
//     holds tenant ids and, for a CRM that authenticates by URL token,
//     the shop's secret (ServerSpanName);
//   - a job run's span is otelriver's "river.work/<kind>" (WorkSpanName);
//   - a provider or CRM request's client span is "<peer> <METHOD>"
//     ("twilio POST", "crm GET"; ClientSpanName).
const (
	// WorkSpanPrefix starts the name of every job run's span.
	WorkSpanPrefix = "river.work/"
	// InsertSpanName is otelriver's span around a batch of job inserts.
	InsertSpanName = "river.insert_many"
)

// Peers name the remote side of a client span (its peer.service).
const (
	PeerTwilio   = "twilio"
	PeerSendGrid = "sendgrid"
	PeerCRM      = "crm"
)

// ServerSpanName is the span name of a request routed by pattern: the
// pattern itself when it names its method, else the method and pattern
// ("GET /riverui/").
func ServerSpanName(method, pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i > 0 && !strings.Contains(pattern[:i], "/") {
		return pattern
	}
	return method + " " + pattern
}

// WorkSpanName is the span name of a run of a job of kind.
func WorkSpanName(kind string) string { return WorkSpanPrefix + kind }

// ClientSpanName is the span name of a request to peer.
func ClientSpanName(peer, method string) string { return peer + " " + method }
