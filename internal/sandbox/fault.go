package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultFaultSeed seeds the generator every fake draws Fault.Rate (and
// ShopMonkey its list quirks) from, so that a chaos run sending the same
// requests in the same order sees the same faults. SeedFaults changes it.
const DefaultFaultSeed = 1

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
// is harmless there); the control API and Server.SetFaults do.
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

// FaultTally counts what a fake's faults did to the requests it received,
// so a chaos harness can hold what the provider processed (Twilio's
// Messages, SendGrid's Emails) against what the client was told.
type FaultTally struct {
	// Requests is every request the fake received.
	Requests int `json:"requests"`
	// Delayed is the requests a fault's Latency slowed.
	Delayed int `json:"delayed"`
	// FaultedBefore is the requests a fault answered, hung or reset
	// without processing them: nothing was recorded.
	FaultedBefore int `json:"faulted_before"`
	// FaultedAfter is the requests the fake processed and then answered
	// with a fault, hung or reset (After): the ambiguous ones.
	FaultedAfter int `json:"faulted_after"`
}

// faults is the queue of injected faults of one fake and the generator its
// rates draw from. It is safe for concurrent use.
type faults struct {
	mu    sync.Mutex
	rng   *rand.Rand
	list  []Fault
	tally FaultTally
}

// add queues f.
func (fs *faults) add(f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = append(fs.list, cloneFault(f))
}

// set replaces the queue with list.
func (fs *faults) set(list []Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = make([]Fault, 0, len(list))
	for _, f := range list {
		fs.list = append(fs.list, cloneFault(f))
	}
}

// clear removes every queued fault.
func (fs *faults) clear() { fs.set(nil) }

// active returns a copy of the queue, Counts showing the uses left.
func (fs *faults) active() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.list))
	for _, f := range fs.list {
		out = append(out, cloneFault(f))
	}
	return out
}

// seed resets the generator rates draw from.
func (fs *faults) seed(seed int64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rng = newFaultRand(seed)
}

// counts returns the tally so far.
func (fs *faults) counts() FaultTally {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.tally
}

// faultPlan is what the queue decided for one request.
type faultPlan struct {
	// delay is the Latency of every fault that applied.
	delay time.Duration
	// fault is the fault that replaces the answer, when ok.
	fault Fault
	ok    bool
}

// plan picks the faults that apply to r, spends one use of each and tallies
// the outcome.
func (fs *faults) plan(r *http.Request) faultPlan {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.rng == nil {
		fs.rng = newFaultRand(DefaultFaultSeed)
	}
	var p faultPlan
	for i := 0; i < len(fs.list) && !p.ok; {
		f := fs.list[i]
		if !f.matches(r) || (f.Rate > 0 && fs.rng.Float64() >= f.Rate) {
			i++
			continue
		}
		p.delay += f.Latency
		if f.changesAnswer() {
			p.fault, p.ok = f, true
		}
		switch {
		case f.Count == 1:
			fs.list = slices.Delete(fs.list, i, i+1)
		case f.Count > 1:
			fs.list[i].Count--
			i++
		default:
			i++
		}
	}

	fs.tally.Requests++
	if p.delay > 0 {
		fs.tally.Delayed++
	}
	switch {
	case p.ok && p.fault.After:
		fs.tally.FaultedAfter++
	case p.ok:
		fs.tally.FaultedBefore++
	}
	return p
}

// serve answers r under the faults that apply to it: it waits out their
// latency, then either lets handle serve r as usual, or (with After, once
// handle has processed r into the void) answers with the fault through
// answer, or hangs and drops the connection.
//
// Net/http notices a client hanging up, and ends the request's context,
// only once the body has been read to the end. So before waiting, serve
// reads the body (keeping a copy for handle): a client that gives up during
// a delay leaves nothing processed behind, and one that gives up during a
// delay or a hang does not keep its handler, and so server shutdown,
// waiting.
func (fs *faults) serve(w http.ResponseWriter, r *http.Request, handle http.HandlerFunc, answer func(http.ResponseWriter, Fault)) {
	body := r.Body
	p := fs.plan(r)
	if p.delay > 0 {
		bufferBody(r)
		if !sleepContext(r.Context(), p.delay) {
			dropConnection(w, false) // the client is gone
			return
		}
	}
	if !p.ok {
		handle(w, r)
		return
	}
	f := p.fault
	if f.After {
		handle(&discardResponse{header: http.Header{}}, r)
	}
	switch {
	case f.Hang > 0:
		_, _ = io.Copy(io.Discard, body) // what handle left, or all of it
		sleepContext(r.Context(), f.Hang)
		dropConnection(w, f.Reset)
	case f.Reset:
		dropConnection(w, true)
	default:
		answer(w, f)
	}
}

// dropConnection closes the request's connection without an answer; with
// reset it asks the kernel for an RST instead of an orderly FIN.
func dropConnection(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hand its connection over; aborting the handler
		// resets the stream instead, which the client sees the same way.
		panic(http.ErrAbortHandler)
	}
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok && reset {
		conn = nc.NetConn() // a TLS connection: reset the TCP one under it
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// bufferBody reads r's body to the end and gives r one that replays it.
func bufferBody(r *http.Request) {
	const most = 32 << 20 // beyond any provider's limit; the rest stays unread
	b, err := io.ReadAll(io.LimitReader(r.Body, most))
	var rest io.Reader = r.Body
	if err != nil {
		rest = errReader{err}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), r.Body}
}

// errReader fails every read with err, so that a body that broke while
// buffered breaks for the handler too.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// sleepContext waits d or until ctx ends, and reports whether d passed.
func sleepContext(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// discardResponse is where a fake writes the real answer to a request an
// After fault answers instead.
type discardResponse struct{ header http.Header }

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardResponse) WriteHeader(int)             {}

func newFaultRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0xfa17)) }

// cloneFault copies f so that the queue and its callers never share Paths.
func cloneFault(f Fault) Fault {
	f.Paths = slices.Clone(f.Paths)
	return f
}
