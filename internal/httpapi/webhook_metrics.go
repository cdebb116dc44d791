package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// counted wraps a webhook route's handler so that every answer it gives is
// counted (leadorch_webhooks_total) by route, result and a bounded reason.
// The reason comes from the answer's status, made precise by what the
// handler noted (noteRefusal): every 401 looks the same to the sender, by
// design, but not to the operator.
func (wr *webhookRoutes) counted(route string, h http.Handler) http.Handler {
	if wr.metrics == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		note := &refusalNote{}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), refusalNoteKey{}, note)))
		result, reason := webhookOutcome(rec.status, note.reason)
		wr.metrics.CountWebhook(route, result, reason)
	})
}

// webhookOutcome maps an answer's status (and the handler's note) to a
// result and reason.
func webhookOutcome(status int, noted string) (result, reason string) {
	switch {
	case status < 400:
		return metrics.WebhookAccepted, metrics.ReasonOK
	case noted != "":
		return metrics.WebhookRefused, noted
	case status == http.StatusUnauthorized:
		return metrics.WebhookRefused, metrics.ReasonUnverified
	case status == http.StatusRequestEntityTooLarge:
		return metrics.WebhookRefused, metrics.ReasonTooLarge
	case status == http.StatusTooManyRequests:
		return metrics.WebhookRefused, metrics.ReasonRateLimited
	case status >= 500:
		return metrics.WebhookRefused, metrics.ReasonUnavailable
	}
	return metrics.WebhookRefused, metrics.ReasonMalformed
}

type refusalNoteKey struct{}

// refusalNote is where a handler says why it refused, for counted.
type refusalNote struct{ reason string }

// noteRefusal records reason (one of metrics.RefusalReasons) for the
// request's count; a request that is not counted ignores it.
func noteRefusal(r *http.Request, reason string) {
	if note, ok := r.Context().Value(refusalNoteKey{}).(*refusalNote); ok {
		note.reason = reason
	}
}

// unverifiedReason classes the reason rejectUnverified logs: the tenant
// lookups' reasons (webhookTenant), a signed timestamp out of its window
// (ShopMonkey's and SendGrid's verifiers), else a failed verification.
func unverifiedReason(reason string) string {
	switch {
	case reason == "tenant is disabled":
		return metrics.ReasonDisabled
	case reason == "tenant not found", reason == "the tenant path segment is not a tenant id",
		strings.HasPrefix(reason, "tenant's CRM is "):
		return metrics.ReasonUnknownTenant
	case strings.Contains(reason, "outside the accepted window"), strings.Contains(reason, "away from now"):
		return metrics.ReasonStale
	}
	return metrics.ReasonUnverified
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (per-request
// deadlines, flushing).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
