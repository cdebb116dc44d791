package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault is a failure a fake injects into the requests it receives, so tests,
// the demo and the chaos harness can drive the adapters through the
// providers' error paths.
//
// The fields combine. A fault applies to a request when Method and Paths
// match it and, with Rate set, a draw says so; each application spends one
// of Count. Faults are checked in the order they were added: a fault that
// only adds Latency delays the request and lets the next matching fault
// apply too, so latency stacks under errors; the first applying fault that
// changes the answer (Status, Reset or Hang) decides it and ends the search.
// A fault that does not match a request is not spent by it.
type Fault struct {
	// Status is the HTTP status to answer (429, 500, 503, ...). It may be
	// zero for a fault that only adds Latency, drops the connection (Reset)
	// or never answers (Hang).
	Status int
	// Code is the provider's error code for bodies that carry one (Twilio
	// 20429, 21610, ...). Zero means the fake picks the usual one for Status.
	Code int
	// RetryAfter, when set, is sent as the provider does (Retry-After
	// seconds for ShopMonkey and Twilio, X-RateLimit-Reset for SendGrid).
	RetryAfter time.Duration
	// EmptyBody answers with no body at all, as gateways do for 429 and
	// 503; SDKs then cannot parse an error and return a plain one.
	EmptyBody bool
	// Count is how many requests the fault applies to before it clears
	// itself; zero means every request until ClearFaults.
	Count int

	// After makes the fake process the request fully first (Twilio stores
	// the message, SendGrid the email, ShopMonkey reads or books) and only
	// then replace the answer with the fault's. This is the ambiguous case
	// the senders must reconcile: the provider has the message, the client
	// saw a 500, a timeout or a dropped connection.
	After bool
	// Hang holds the request this long, or until the client gives up, and
	// then closes the connection without answering: a client timeout. With
	// After the request is processed first; without, nothing is recorded.
	Hang time.Duration
	// Reset closes the TCP connection abruptly (an RST where the platform
	// allows) without any HTTP answer; with After, once processed. With
	// Hang, the connection is reset when the hang ends.
	Reset bool
	// Latency delays the request before anything else happens. Alone (no
	// Status, Reset or Hang) the request is then served normally.
	Latency time.Duration
	// Rate, when above zero, is the probability that the fault applies to a
	// matching request; Count then counts only the requests it applied to.
	// Draws come from the fake's seeded generator (see SeedFaults).
	Rate float64

	// Paths limits the fault to requests whose path, as the fake serves it
	// (without the Server's "/twilio" prefix), contains one of these
	// strings: "/Messages.json" breaks Twilio creates and lists but not
	// fetches, "/v3/order" ShopMonkey's order reads. Empty matches any path.
	Paths []string
	// Method limits the fault to one HTTP method ("POST"); empty matches
	// any.
	Method string
}

// faultJSON is Fault as the control API spells it, durations as Go
// duration strings.
type faultJSON struct {
	Status     int      `json:"status"`
	Code       int      `json:"code"`
	RetryAfter string   `json:"retry_after,omitempty"`
	EmptyBody  bool     `json:"empty_body"`
	Count      int      `json:"count"`
	After      bool     `json:"after,omitempty"`
	Hang       string   `json:"hang,omitempty"`
	Reset      bool     `json:"reset,omitempty"`
	Latency    string   `json:"latency,omitempty"`
	Rate       float64  `json:"rate,omitempty"`
	Path       string   `json:"path,omitempty"`
	Paths      []string `json:"paths,omitempty"`
	Method     string   `json:"method,omitempty"`
}

// UnmarshalJSON reads a fault as the control API takes it:
//
//	{"status": 429, "code": 20429, "retry_after": "5s", "empty_body": true, "count": 3,
//	 "after": true, "hang": "30s", "reset": true, "latency": "200ms", "rate": 0.2,
//	 "path": "/Messages.json", "paths": ["/v3/order"], "method": "POST"}
//
// "path" is shorthand for a one-element "paths"; both may be given. Unknown
// fields are an error, so that a misspelt field cannot silently turn a
// chaos run into a clean one.
func (f *Fault) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var raw faultJSON
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	out := Fault{
		Status:    raw.Status,
		Code:      raw.Code,
		EmptyBody: raw.EmptyBody,
		Count:     raw.Count,
		After:     raw.After,
		Reset:     raw.Reset,
		Rate:      raw.Rate,
		Paths:     raw.Paths,
		Method:    raw.Method,
	}
	if raw.Path != "" {
		out.Paths = append([]string{raw.Path}, out.Paths...)
	}
	for _, d := range []struct {
		name string
		raw  string
		dst  *time.Duration
	}{
		{"retry_after", raw.RetryAfter, &out.RetryAfter},
		{"hang", raw.Hang, &out.Hang},
		{"latency", raw.Latency, &out.Latency},
	} {
		if d.raw == "" {
			continue
		}
		v, err := time.ParseDuration(d.raw)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		*d.dst = v
	}
	*f = out
	return nil
}

// MarshalJSON writes a fault in the shape UnmarshalJSON reads. The fields
// faults always had are always written; the others only when set.
func (f Fault) MarshalJSON() ([]byte, error) {
	raw := faultJSON{
		Status:    f.Status,
		Code:      f.Code,
		EmptyBody: f.EmptyBody,
		Count:     f.Count,
		After:     f.After,
		Reset:     f.Reset,
		Rate:      f.Rate,
		Paths:     f.Paths,
		Method:    f.Method,
	}
	for _, d := range []struct {
		v   time.Duration
		dst *string
	}{
		{f.RetryAfter, &raw.RetryAfter},
		{f.Hang, &raw.Hang},
		{f.Latency, &raw.Latency},
	} {
		if d.v > 0 {
			*d.dst = d.v.String()
		}
	}
	return json.Marshal(raw)
}

// Validate reports every way f is not a fault a fake can inject, naming the
// field and the rule. AddFault does not call it (a fault that does nothing
// is harmless there); the control API and sandbox.Server.SetFaults do.
func (f Fault) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		add("status must be 0 or 400-599, got %d", f.Status)
	}
	if !f.changesAnswer() && f.Latency <= 0 {
		add("a fault needs status >= 400, latency, reset or hang")
	}
	if (f.Reset || f.Hang > 0) && (f.Status != 0 || f.Code != 0 || f.RetryAfter != 0 || f.EmptyBody) {
		add("reset and hang answer nothing: status, code, retry_after and empty_body must be unset")
	}
	if f.After && !f.changesAnswer() {
		add("after needs status, reset or hang to replace the answer with")
	}
	if f.Count < 0 {
		add("count must be >= 0, got %d", f.Count)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"retry_after", f.RetryAfter}, {"hang", f.Hang}, {"latency", f.Latency}} {
		if d.v < 0 {
			add("%s must be >= 0, got %s", d.name, d.v)
		}
	}
	if f.Rate < 0 || f.Rate > 1 {
		add("rate must be in [0, 1], got %g", f.Rate)
	}
	if slices.Contains(f.Paths, "") {
		add("paths must not hold an empty string")
	}
	if strings.Trim(f.Method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
		add("method must be an HTTP method such as POST, got %q", f.Method)
	}
	return errors.Join(errs...)
}

// changesAnswer reports whether f replaces the fake's answer rather than
// only delaying it.
func (f Fault) changesAnswer() bool { return f.Status >= 400 || f.Reset || f.Hang > 0 }

// matches reports whether r passes f's Method and Paths filters.
func (f Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	return len(f.Paths) == 0 || slices.ContainsFunc(f.Paths, func(p string) bool { return strings.Contains(r.URL.Path, p) })
}
