package faketekmetric

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// AddAppointment books a staff appointment (no customer, no leadSource)
// at shopID for [start, end), as a service writer does in Tekmetric's
// calendar, and returns its id in decimal, as the adapter hands ids out.
// It takes a bay like any other booking, so tests and the demo use it to
// fill a slot behind the orchestrator's back. It has the name and meaning
// of the ShopMonkey fake's AddAppointment.
func (s *API) AddAppointment(shopID int64, start, end time.Time) (string, error) {
	if !end.After(start) {
		return "", fmt.Errorf("appointment end %s must be after start %s", formatUTC(end), formatUTC(start))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	loc, ok := s.shops[shopID]
	if !ok {
		return "", fmt.Errorf("no shop %d (AddShop first)", shopID)
	}
	now := formatLocal(s.Now(), loc)
	row, err := s.records.Insert(shopID, Appointments, map[string]any{
		"id":                s.newID(),
		"shopId":            shopID,
		"customerId":        nil,
		"vehicleId":         nil,
		"startTime":         formatLocal(start, loc),
		"endTime":           formatLocal(end, loc),
		"title":             "Staff booking",
		"description":       nil,
		"color":             "navy",
		"arrived":           nil,
		"appointmentStatus": "NONE",
		"createdDate":       now,
		"updatedDate":       now,
		"deletedDate":       nil,
		"leadSource":        nil,
	})
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(row.Key, 10), nil
}

// DeleteAppointment deletes appointment id (decimal) of shopID, as a shop
// removing it from the calendar does: Tekmetric keeps it with a
// deletedDate, and lists it unless includeDeleted=false.
func (s *API) DeleteAppointment(shopID int64, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("appointment id %q is not an integer", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records.Get(shopID, Appointments, n)
	if !ok {
		return fmt.Errorf("appointment %d is not in shop %d", n, shopID)
	}
	s.deleteAppointment(r)
	return nil
}

// AppointmentsCreated returns how many appointments POST
// /api/v1/appointments booked for customerID (decimal) starting at start,
// whatever answer the client saw, so a test can assert that a booking
// retried after a lost answer was made once.
func (s *API) AppointmentsCreated(customerID string, start time.Time) int {
	n, err := strconv.ParseInt(customerID, 10, 64)
	if err != nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created[createdKey{n, start.UTC().UnixMilli()}]
}

// createdKey counts creates per customer and start, in milliseconds.
type createdKey struct {
	customerID int64
	startMilli int64
}

// editableAppointment is the appointment a PATCH or DELETE names, or
// false once it has answered: a 400 for an id that is not a number, a 404
// for one Tekmetric does not have or has deleted (assumed: a deleted
// appointment cannot be edited or deleted again), a 403 for another
// shop's. s.mu must be held.
func (s *API) editableAppointment(w http.ResponseWriter, r *http.Request, c *application) (*storedRow, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Failed to convert value %q to required type 'java.lang.Long'", r.PathValue("id")))
		return nil, false
	}
	row, ok := s.records.Lookup(Appointments, id)
	switch {
	case !ok || fake.String(row.Data["deletedDate"]) != "":
		writeError(w, http.StatusNotFound, "Appointment not found")
		return nil, false
	case !c.shops[row.Loc]:
		scopeError(w, c)
		return nil, false
	}
	return row, true
}

// handlePatchAppointment changes an appointment's startTime, endTime,
// title or description, each only when the body has it (other fields are
// ignored: this fake edits what the orchestrator moves), and answers with
// the appointment, as Tekmetric's updates do. The times are checked as a
// create checks them, against the ones kept.
func (s *API) handlePatchAppointment(w http.ResponseWriter, r *http.Request, c *application) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Cannot read the request body")
		return
	}
	body, err := fake.Normalize(json.RawMessage(raw))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Body must be a JSON object")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.editableAppointment(w, r, c)
	if !ok {
		return
	}
	loc := s.shops[row.Loc]
	times := map[string]time.Time{}
	for _, f := range []string{"startTime", "endTime"} {
		v := fake.String(row.Data[f])
		if b, has := body[f]; has {
			v = fake.String(b)
		}
		t, err := parseTime(v, loc)
		if err != nil {
			times = nil
			break
		}
		times[f] = t
	}
	if times == nil || !times["endTime"].After(times["startTime"]) {
		writeError(w, http.StatusBadRequest, "startTime and endTime are required ISO 8601 date-times, endTime after startTime")
		return
	}
	if title, has := body["title"]; has && strings.TrimSpace(fake.String(title)) == "" {
		writeError(w, http.StatusBadRequest, "title is required")
		return
	}
	row.Data["startTime"] = formatLocal(times["startTime"], loc)
	row.Data["endTime"] = formatLocal(times["endTime"], loc)
	for _, f := range []string{"title", "description"} {
		if v, has := body[f]; has {
			row.Data[f] = v
		}
	}
	s.touch(Appointments, row)
	writeJSON(w, http.StatusOK, map[string]any{"type": "SUCCESS", "message": "Appointment Updated", "data": row.Data, "details": map[string]any{}})
}

// handleDeleteAppointment deletes an appointment: it keeps it with a
// deletedDate, as DeleteAppointment does.
func (s *API) handleDeleteAppointment(w http.ResponseWriter, r *http.Request, c *application) {
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.editableAppointment(w, r, c)
	if !ok {
		return
	}
	s.deleteAppointment(row)
	writeJSON(w, http.StatusOK, map[string]any{"type": "SUCCESS", "message": "Appointment Deleted", "data": row.Key, "details": map[string]any{}})
}

// deleteAppointment stamps r deleted now, in the shop's wall-clock time,
// and touches it. s.mu must be held.
func (s *API) deleteAppointment(r *storedRow) {
	r.Data["deletedDate"] = formatLocal(s.Now(), s.shops[r.Loc])
	s.touch(Appointments, r)
}
