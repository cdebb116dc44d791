package fake

import (
	"net/http"
	"sync"
)

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

// Receive reads r's body (see ReadBody) and logs r as entry makes it of
// the body, before faults or authentication see it: a fake's log holds
// every request that reached it. It reports false when the body could not
// be read, which the fake answers in its own error shape.
func (l *RequestLog[R]) Receive(r *http.Request, entry func(body string) R) bool {
	body, err := ReadBody(r)
	if err != nil {
		return false
	}
	l.Add(entry(string(body)))
	return true
}

// All returns a copy of the requests so far, in order.
func (l *RequestLog[R]) All() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]R(nil), l.list...)
}
