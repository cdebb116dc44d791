package crmtest

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// FuzzServer plays a CRM for one fuzz input at a time: every request gets
// what Answer makes of the current input (the input itself when Answer is
// nil), as JSON. Inputs run one at a time in a fuzz worker; the lock is
// for the race detector's sake.
type FuzzServer struct {
	Answer func(r *http.Request, input []byte) []byte

	mu    sync.Mutex
	input []byte
}

// Set makes input the current fuzz input.
func (s *FuzzServer) Set(input []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.input = input
}

// ServeHTTP answers r from the current input.
func (s *FuzzServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body := s.input
	s.mu.Unlock()
	if s.Answer != nil {
		body = s.Answer(r, body)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// FuzzSince is the start of the window the fuzz tests poll; their seeds'
// records are updated in its first minute.
var FuzzSince = time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)

// FuzzPollRow fuzzes one row, seeded with seeds, that srv puts in an
// otherwise well-formed list answer, and runs the real poll of a, the
// adapter on srv, for the minute from FuzzSince: the poll either fails
// with a StatusError (the row broke the answer's JSON) or passes
// CheckPolled by rules.
func FuzzPollRow(f *testing.F, seeds []string, srv *FuzzServer, a crm.Adapter, rules PolledRules) {
	f.Helper()
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, row []byte) {
		srv.Set(row)
		CheckPoll(t, a, FuzzSince, FuzzSince.Add(time.Minute), rules)
	})
}

// CheckDecodeError fails t unless err, a decoder's, is nil or a
// *crm.InvalidRecordError naming a field and a record, and reports
// whether it was nil: what every decoder promises of its errors.
func CheckDecodeError(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return true
	}
	var invalid *crm.InvalidRecordError
	if !errors.As(err, &invalid) || invalid.Field == "" || invalid.Record == "" {
		t.Fatalf("error is not an InvalidRecordError naming a field: %#v", err)
	}
	return false
}
