package crmhttp

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// Refusal is a non-2xx answer, as the CRM's package read it.
type Refusal struct {
	// CRM names the CRM in the error ("shopmonkey").
	CRM    string
	Status int
	Header http.Header
	// Code is the CRM's own error code, if its body had one.
	Code string
	// Message is what the error says: Message's pick, redacted.
	Message string
	// DefaultRetryAfter is the wait of a 429 without Retry-After (0:
	// unknown, the job backs off exponentially).
	DefaultRetryAfter time.Duration
	// UnauthorizedNote follows the description of a 401 (Tekmetric's "to a
	// freshly fetched token").
	UnauthorizedNote string
}

// Err maps the refusal to the crm error a job acts on: 401 and 403
// ErrUnauthorized, 404 ErrNotFound, 429 a RateLimitedError, anything else
// a StatusError (temporary or not by its status).
func (r Refusal) Err() error {
	desc := fmt.Sprintf("%s answered HTTP %d", r.CRM, r.Status)
	if r.Code != "" {
		desc += " (" + r.Code + ")"
	}
	switch r.Status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%s%s: %s: %w", desc, r.UnauthorizedNote, r.Message, crm.ErrUnauthorized)
	case http.StatusForbidden:
		return fmt.Errorf("%s: %s: %w", desc, r.Message, crm.ErrUnauthorized)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %s: %w", desc, r.Message, crm.ErrNotFound)
	case http.StatusTooManyRequests:
		return &crm.RateLimitedError{RetryAfter: RetryAfter(r.Header.Get("Retry-After"), r.DefaultRetryAfter)}
	}
	return &crm.StatusError{StatusCode: r.Status, Code: r.Code, Message: r.Message}
}

// Message is what an error about a refused answer with body raw says: the
// message the CRM's error body gave (parsed says the body was the CRM's
// JSON), else the start of a body that was not (a gateway page), else the
// status text; redacted with redact.
func Message(status int, raw []byte, parsed bool, bodyMessage string, redact func(string) string) string {
	switch {
	case parsed && bodyMessage != "":
		return redact(bodyMessage)
	case !parsed && len(bytes.TrimSpace(raw)) > 0:
		return redact(Excerpt(raw))
	}
	return http.StatusText(status)
}

// RetryAfter reads Retry-After as seconds or as an HTTP date; dflt when it
// is absent or unreadable.
func RetryAfter(v string, dflt time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return dflt
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t).Round(time.Second), time.Second)
	}
	return dflt
}

// Excerpt is the start of a body that is not the CRM's JSON (a gateway
// page), enough to tell what answered. Redact it after: the cut is made
// first so that a secret cannot be split by it.
func Excerpt(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Redact removes every non-empty secret from text the server wrote, in
// case it echoes a header back.
func Redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
