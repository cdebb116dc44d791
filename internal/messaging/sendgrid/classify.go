package sendgrid

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// classify turns a non-2xx answer into a *messaging.SendError. sendgrid-go
// returns err == nil for every status, so this is the only place a
// rejection is noticed.
//
//   - 429: retry once X-RateLimit-Reset (epoch seconds) has passed;
//     SendGrid did nothing.
//   - 401, 403: the fleet's API key is wrong or lacks the mail.send scope.
//     Nothing was sent and the message is fine: retry (with backoff) so
//     that fixing the key delivers it.
//   - other 4xx (400 validation, 413 size): permanent.
//     The text names the fields SendGrid complained about.
//   - 5xx and anything else: ambiguous; the mail may be queued and SendGrid
//     has no idempotency key.
func classify(resp *rest.Response, to string, now time.Time) *messaging.SendError {
	se := &messaging.SendError{
		Class: messaging.ClassAmbiguous,
		Code:  resp.StatusCode,
		Err:   fmt.Errorf("error sending email to %s: sendgrid answered HTTP %d%s", lead.MaskEmail(to), resp.StatusCode, describeErrors(resp.Body)),
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		se.Class = messaging.ClassRetry
		se.RetryAfter = retryAfter(http.Header(resp.Headers), now)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		se.Class = messaging.ClassRetry
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		se.Class = messaging.ClassPermanent
	}
	return se
}

// describeErrors renders SendGrid's {"errors":[{"field","message"}]} body
// as ": field: message; ...", or "" when the body is not that shape.
func describeErrors(body string) string {
	var parsed struct {
		Errors []struct {
			Field   *string `json:"field"`
			Message string  `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &parsed); err != nil || len(parsed.Errors) == 0 {
		return ""
	}
	parts := make([]string, 0, len(parsed.Errors))
	for _, e := range parsed.Errors {
		if e.Field != nil && *e.Field != "" {
			parts = append(parts, *e.Field+": "+e.Message)
		} else {
			parts = append(parts, e.Message)
		}
	}
	return ": " + strings.Join(parts, "; ")
}

// retryAfter reads how long SendGrid asked us to wait. The header is looked
// up through http.Header because rest.Response keeps Go's canonical keys
// ("X-Ratelimit-Reset"), which is what trips sendgrid-go's own retry loop.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return max(time.Unix(secs, 0).Sub(now), 0)
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return max(time.Duration(secs)*time.Second, 0)
		}
	}
	return 0
}
