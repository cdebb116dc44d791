package fake

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// DefaultFaultSeed seeds the generator every fake draws Fault.Rate (and
// ShopMonkey its list quirks) from, so that a chaos run sending the same
// requests in the same order sees the same faults. SeedFaults changes it.
const DefaultFaultSeed = 1

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

// FaultQueue is the queue of injected faults of one fake and the generator
// its rates draw from. Each fake embeds one, so that every fake offers the
// same AddFault, SetFaults, ClearFaults, Faults, FaultTally and SeedFaults,
// and sandbox.Server drives them all alike. The zero FaultQueue is empty
// and ready; it is safe for concurrent use.
type FaultQueue struct {
	mu    sync.Mutex
	rng   *rand.Rand
	list  []Fault
	tally FaultTally
}

// AddFault queues f after the faults already queued. AddFault does not
// validate f (a fault that does nothing is harmless); the control API does.
func (fs *FaultQueue) AddFault(f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = append(fs.list, cloneFault(f))
}

// SetFaults replaces the queue with list.
func (fs *FaultQueue) SetFaults(list []Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = make([]Fault, 0, len(list))
	for _, f := range list {
		fs.list = append(fs.list, cloneFault(f))
	}
}

// ClearFaults removes every queued fault.
func (fs *FaultQueue) ClearFaults() { fs.SetFaults(nil) }

// Faults returns a copy of the queue, each Count showing the uses left.
func (fs *FaultQueue) Faults() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.list))
	for _, f := range fs.list {
		out = append(out, cloneFault(f))
	}
	return out
}

// SeedFaults resets the generator Fault.Rate draws from (DefaultFaultSeed
// at first), so a chaos run can be replayed.
func (fs *FaultQueue) SeedFaults(seed int64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rng = NewFaultRand(seed)
}

// FaultTally counts what the faults did so far; held against what the
// fake processed (Twilio's Messages, SendGrid's Emails) it tells what the
// provider did from what the client was told.
func (fs *FaultQueue) FaultTally() FaultTally {
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
func (fs *FaultQueue) plan(r *http.Request) faultPlan {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.rng == nil {
		fs.rng = NewFaultRand(DefaultFaultSeed)
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

// Serve answers r under the faults of q that apply to it: it waits out
// their latency, then either lets handle serve r as usual, or (with After,
// once handle has processed r into the void) answers with the fault
// through answer, or hangs and drops the connection. It is a function, not
// a method, so that it is not promoted onto the fakes that embed q.
//
// Net/http notices a client hanging up, and ends the request's context,
// only once the body has been read to the end. So before waiting, serve
// reads the body (keeping a copy for handle): a client that gives up during
// a delay leaves nothing processed behind, and one that gives up during a
// delay or a hang does not keep its handler, and so server shutdown,
// waiting.
func Serve(q *FaultQueue, w http.ResponseWriter, r *http.Request, handle http.HandlerFunc, answer func(http.ResponseWriter, Fault)) {
	body := r.Body
	p := q.plan(r)
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

// NewFaultRand returns the generator fault rates (and ShopMonkey's list
// quirks) draw from, seeded so that a run can be replayed.
func NewFaultRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0xfa17)) }

// cloneFault copies f so that the queue and its callers never share Paths.
func cloneFault(f Fault) Fault {
	f.Paths = slices.Clone(f.Paths)
	return f
}
