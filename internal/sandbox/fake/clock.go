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
