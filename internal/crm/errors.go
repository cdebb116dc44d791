package crm

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnauthorized means the CRM rejected the tenant's credentials (401) or
// their permissions (403). Retrying cannot help; an operator must act.
var ErrUnauthorized = errors.New("crm rejected the credentials")

// ErrNotFound means the CRM has no record with the requested id.
var ErrNotFound = errors.New("crm record not found")

// RateLimitedError means the CRM answered 429, or the tenant's own request
// budget is spent. Jobs snooze for RetryAfter instead of spending an
// attempt. RetryAfter zero means nobody said (Tekmetric never does): the
// job layer backs off exponentially.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	if e.RetryAfter <= 0 {
		return "crm rate limit reached, backing off exponentially"
	}
	return fmt.Sprintf("crm rate limit reached, retry after %s", e.RetryAfter)
}

// InvalidRecordError means a record the CRM returned cannot be used: a
// required field is missing or has the wrong shape. It names the record and
// the field so an operator can fix the data in the CRM.
type InvalidRecordError struct {
	Record string // e.g. "order 5f3a..." or "customer 77"
	Field  string
	Reason string
}

func (e *InvalidRecordError) Error() string {
	return fmt.Sprintf("invalid %s: field %s %s", e.Record, e.Field, e.Reason)
}

// StatusError is any other unexpected HTTP answer from a CRM. 5xx answers
// are worth retrying; other 4xx are not.
type StatusError struct {
	StatusCode int
	Code       string
	Message    string
}

func (e *StatusError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("crm answered HTTP %d (%s): %s", e.StatusCode, e.Code, e.Message)
	}
	return fmt.Sprintf("crm answered HTTP %d: %s", e.StatusCode, e.Message)
}

// Temporary reports whether trying again later may succeed.
func (e *StatusError) Temporary() bool { return e.StatusCode >= 500 }
