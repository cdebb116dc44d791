package sandbox

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Fault is a failure a fake injects into the requests it receives, so tests
// and the demo can drive the adapters through the providers' error paths.
type Fault struct {
	// Status is the HTTP status to answer (429, 500, 503, ...).
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
	// Count is how many requests fail before the fault clears itself; zero
	// means every request until ClearFaults.
	Count int
}

// UnmarshalJSON reads a fault as the control API takes it:
// {"status": 429, "code": 20429, "retry_after": "5s", "empty_body": true, "count": 3}.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var raw struct {
		Status     int    `json:"status"`
		Code       int    `json:"code"`
		RetryAfter string `json:"retry_after"`
		EmptyBody  bool   `json:"empty_body"`
		Count      int    `json:"count"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*f = Fault{Status: raw.Status, Code: raw.Code, EmptyBody: raw.EmptyBody, Count: raw.Count}
	if raw.RetryAfter != "" {
		d, err := time.ParseDuration(raw.RetryAfter)
		if err != nil {
			return fmt.Errorf("retry_after: %w", err)
		}
		f.RetryAfter = d
	}
	return nil
}

// MarshalJSON writes a fault in the shape UnmarshalJSON reads.
func (f Fault) MarshalJSON() ([]byte, error) {
	raw := map[string]any{"status": f.Status, "code": f.Code, "empty_body": f.EmptyBody, "count": f.Count}
	if f.RetryAfter > 0 {
		raw["retry_after"] = f.RetryAfter.String()
	}
	return json.Marshal(raw)
}

// faults is the queue of injected faults of one fake. It is safe for
// concurrent use.
type faults struct {
	mu   sync.Mutex
	list []Fault
}

// add queues f.
func (fs *faults) add(f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = append(fs.list, f)
}

// clear removes every queued fault.
func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = nil
}

// next returns the fault the current request must suffer, if any, and
// spends one of its uses.
func (fs *faults) next() (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.list) == 0 {
		return Fault{}, false
	}
	f := fs.list[0]
	if f.Count > 0 {
		fs.list[0].Count--
		if fs.list[0].Count == 0 {
			fs.list = fs.list[1:]
		}
	}
	return f, true
}
