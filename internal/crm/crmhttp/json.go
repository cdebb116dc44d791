package crmhttp

import (
	"encoding/json"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// ExcerptJSON quotes a little of a bad value for an error. It is cleaned
// too: an error with a byte Postgres cannot store would fail the very
// write that records the job's error.
func ExcerptJSON(v json.RawMessage) string {
	s := string(v)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	s, _ = lead.CleanText(s)
	return s
}
