package fake

import (
	"sync"
	"time"
)

// Clock is a fake's settable "now": the wall clock until SetClock, so that
// tests can place what the fake stamps (created records, messages, rate
// windows) in time. Each fake embeds one; the zero Clock reads time.Now.
// It is safe for concurrent use, and a fake may read it under its own lock.
type Clock struct {
	mu  sync.Mutex
	now func() time.Time
}

// SetClock sets where the fake's "now" comes from (nil: time.Now).
func (c *Clock) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

// Now is the fake's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	now := c.now
	c.mu.Unlock()
	if now == nil {
		return time.Now()
	}
	return now()
}

// RequestLog is every request a fake received, in order, as its tests
// assert on them (R is the fake's record of one: what the adapter asked
// for, never its credentials). The zero RequestLog is empty; it is safe
// for concurrent use.
type RequestLog[R any] struct {
	mu   sync.Mutex
	list []R
}

// Add records one request.
func (l *RequestLog[R]) Add(r R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, r)
}

// All returns a copy of the requests so far, in order.
func (l *RequestLog[R]) All() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]R(nil), l.list...)
}
