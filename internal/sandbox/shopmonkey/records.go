package fakeshopmonkey

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// Touch records an edit of an order or appointment: updatedDate becomes now
// (always later than before) and meta.version goes up by one, as every
// change in ShopMonkey does.
func (s *API) Touch(locationID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.leadRow(locationID, id)
	if err != nil {
		return err
	}
	s.touch(r)
	return nil
}

// SetOrderStatus moves an order to status ("Estimate", "RepairOrder",
// "Invoice") and touches it, as a shop converting an estimate does.
func (s *API) SetOrderStatus(locationID, id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records.Get(locationID, Order, id)
	if !ok {
		return fmt.Errorf("order %s is not in location %s", id, locationID)
	}
	r.Data["status"] = status
	s.touch(r)
	return nil
}

func (s *API) leadRow(locationID, id string) (*storedRow, error) {
	if r, ok := s.records.Get(locationID, Order, id); ok {
		return r, nil
	}
	if r, ok := s.records.Get(locationID, Appointment, id); ok {
		return r, nil
	}
	return nil, fmt.Errorf("no order or appointment %s in location %s", id, locationID)
}

func (s *API) touch(r *storedRow) {
	// Compared at the millisecond it is written to: compared whole, a
	// clock between two milliseconds wrote the same updatedDate again.
	now := s.Now().UTC().Truncate(time.Millisecond)
	if old, err := time.Parse(time.RFC3339, fake.String(r.Data["updatedDate"])); err == nil && !now.After(old) {
		now = old.Add(time.Millisecond)
	}
	r.Data["updatedDate"] = formatTime(now)
	meta, _ := r.Data["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		r.Data["meta"] = meta
	}
	meta["version"] = json.Number(strconv.Itoa(fake.Int(meta["version"]) + 1))
}

func (s *API) primaryContact(table Table, customerID string) any {
	for _, r := range s.contacts(table, customerID) {
		if r.Data["primary"] == true {
			return r.Key
		}
	}
	return nil
}

// contacts returns a customer's phone or email records in creation order.
func (s *API) contacts(table Table, customerID string) []*storedRow {
	out := s.records.Select(table, func(r *storedRow) bool { return r.Data["customerId"] == customerID }, false)
	slices.SortFunc(out, func(a, b *storedRow) int { return a.Seq - b.Seq })
	return out
}
