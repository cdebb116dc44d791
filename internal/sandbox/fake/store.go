package fake

import (
	"cmp"
	"encoding/json"
	"sync"
)

// Store is the face of a CRM fake's Records that tests and tools use:
// the lead list, the stored records and planting. A CRM fake embeds one,
// so that both fakes offer Leads, Record, Mutate and AddRaw with their
// own id types, written once. Every method holds the fake's own mutex,
// which also guards the fake's other state.
type Store[T ~string, K cmp.Ordered, L comparable] struct {
	mu      *sync.Mutex
	records *Records[T, K, L]
}

// NewStore returns the Store of records, guarded by mu.
func NewStore[T ~string, K cmp.Ordered, L comparable](mu *sync.Mutex, records *Records[T, K, L]) Store[T, K, L] {
	return Store[T, K, L]{mu: mu, records: records}
}

// Leads returns the leads seeded into loc (by AddLead or as raw leads),
// in the order they were added.
func (st Store[T, K, L]) Leads(loc L) []LeadRef {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.records.Leads(loc)
}

// Record returns one stored record as the API would serve it, so tests can
// check what an adapter created.
func (st Store[T, K, L]) Record(loc L, table T, id K) (json.RawMessage, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.records.Record(loc, table, id)
}

// Mutate changes a stored record in place: fn gets the record as a JSON
// object and may set, change or delete any field. Nothing else changes;
// call Touch too if the change should look like an edit in the CRM.
func (st Store[T, K, L]) Mutate(loc L, table T, id K, fn func(record map[string]any)) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.records.Mutate(loc, table, id, fn)
}

// AddRaw plants raw, a JSON object, exactly as given, so tests can feed an
// adapter what a real account may hold; see Records.AddRaw.
func (st Store[T, K, L]) AddRaw(loc L, table T, raw json.RawMessage) (K, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.records.AddRaw(loc, table, raw)
}

// CountByTable returns how many records of each table loc holds.
func (st Store[T, K, L]) CountByTable(loc L) map[T]int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.records.Count(loc)
}
