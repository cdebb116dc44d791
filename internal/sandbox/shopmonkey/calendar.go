package fakeshopmonkey

import (
	"fmt"
	"time"
)

// AddAppointment books a staff appointment ("Manual", no customer) at
// locationID for [start, end), as a service writer does in ShopMonkey's
// calendar, and returns its id. It takes a bay like any other booking, so
// tests and the demo use it to fill a slot behind the orchestrator's back.
func (s *API) AddAppointment(locationID string, start, end time.Time) (string, error) {
	if !end.After(start) {
		return "", fmt.Errorf("appointment end %s must be after start %s", formatTime(end), formatTime(start))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := formatTime(s.Now())
	row, err := s.records.Insert(locationID, Appointment, map[string]any{
		"id":                s.newID(),
		"locationId":        locationID,
		"name":              "Staff booking",
		"startDate":         formatTime(start),
		"endDate":           formatTime(end),
		"color":             "gray",
		"attributionSource": "Manual",
		"confirmed":         true,
		"createdDate":       now,
		"updatedDate":       now,
		"meta":              map[string]any{"version": 1},
	})
	if err != nil {
		return "", err
	}
	return row.Key, nil
}

// DeleteAppointment marks appointment id of locationID deleted, as a
// shop removing it from the calendar does; it is then listed with
// deleted: true.
func (s *API) DeleteAppointment(locationID, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records.Get(locationID, Appointment, id)
	if !ok {
		return fmt.Errorf("appointment %s is not in location %s", id, locationID)
	}
	r.Data["deleted"] = true
	s.touch(r)
	return nil
}

// AppointmentsCreated returns how many appointments POST /v3/appointment
// booked for customerID starting at start, whatever answer the client saw,
// so a test can assert that a booking retried after a lost answer was made
// once.
func (s *API) AppointmentsCreated(customerID string, start time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created[createdKey{customerID, start.UTC().UnixMilli()}]
}

// createdKey counts creates per customer and start (in milliseconds, as
// ShopMonkey keeps times).
type createdKey struct {
	customerID string
	startMilli int64
}
