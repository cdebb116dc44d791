package faketekmetric

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// AddRaw plants a record exactly as given, so tests can feed an adapter what
// a real account may hold: a repair order without customerId, an id that
// is a string, an updatedDate that is not a time. raw must be a JSON
// object; its "id", when it is a positive integer, is the record's id,
// otherwise the record keeps what it has and the returned key still reaches
// it through Record and Mutate (and GET by that key).
func (s *API) AddRaw(shopID int64, table Table, raw json.RawMessage) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.records.HasTable(table) {
		return 0, fmt.Errorf("unknown table %q", table)
	}
	if _, ok := s.shops[shopID]; !ok {
		return 0, fmt.Errorf("no shop %d (AddShop first)", shopID)
	}
	return s.records.AddRaw(shopID, table, raw)
}

// Touch records an edit of a record: updatedDate becomes now, always later
// than before, written as the table writes times.
func (s *API) Touch(shopID int64, table Table, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records.Get(shopID, table, id)
	if !ok {
		return fmt.Errorf("%s %d is not in shop %d", table, id, shopID)
	}
	s.touch(table, r)
	return nil
}

// SetRepairOrderStatus moves a repair order to statusID (1 Estimate, 2
// Work-in-Progress, ...) and touches it, as a shop starting the work of an
// estimate does.
func (s *API) SetRepairOrderStatus(shopID, id int64, statusID int) error {
	if statusID < 1 || statusID > 7 {
		return fmt.Errorf("status id %d: want 1 to 7", statusID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records.Get(shopID, RepairOrders, id)
	if !ok {
		return fmt.Errorf("repair order %d is not in shop %d", id, shopID)
	}
	data, err := fake.Normalize(statusObject(statusID))
	if err != nil {
		return err
	}
	r.Data["repairOrderStatus"] = data
	s.touch(RepairOrders, r)
	return nil
}

// touch sets r's updatedDate to now, or a millisecond after the one it
// has when now is not later. Times are written to the millisecond, so now
// is compared at that precision: compared whole, a second touch within the
// same millisecond wrote the same updatedDate again (found by the
// calendar's PATCH test).
func (s *API) touch(table Table, r *storedRow) {
	loc := s.shops[r.Loc]
	now := s.Now().Truncate(time.Millisecond)
	if old, err := parseTime(fake.String(r.Data["updatedDate"]), loc); err == nil && !now.After(old) {
		now = old.Add(time.Millisecond)
	}
	r.Data["updatedDate"] = formatFor(table, now, loc)
}
