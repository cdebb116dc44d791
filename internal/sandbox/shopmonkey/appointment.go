package fakeshopmonkey

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// handleCreateAppointment books an appointment. Appointments made through
// the API get attributionSource "Manual" unless the body says otherwise, so
// that a booking the orchestrator makes is not polled back as a new lead.
func (s *API) handleCreateAppointment(w http.ResponseWriter, r *http.Request, loc string) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "cannot read the request body")
		return
	}
	body, err := fake.Normalize(json.RawMessage(raw))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "body must be a JSON object")
		return
	}
	invalid := func(msg string) { writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", msg) }
	for _, f := range []string{"customerId", "name", "startDate", "endDate"} {
		if fake.String(body[f]) == "" {
			invalid(f + " is required")
			return
		}
	}
	start, err1 := time.Parse(time.RFC3339, fake.String(body["startDate"]))
	end, err2 := time.Parse(time.RFC3339, fake.String(body["endDate"]))
	if err1 != nil || err2 != nil || !end.After(start) {
		invalid("startDate and endDate must be ISO 8601 times with endDate after startDate")
		return
	}
	color := cmp.Or(fake.String(body["color"]), "blue")
	if !slices.Contains([]string{"aqua", "black", "blue", "brown", "gray", "green", "orange", "purple", "red", "yellow"}, color) {
		invalid("color must be one of aqua, black, blue, brown, gray, green, orange, purple, red, yellow")
		return
	}
	if l := fake.String(body["locationId"]); l != "" && l != loc {
		writeError(w, http.StatusForbidden, "FORBIDDEN", "This API key does not have access to location "+l)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records.Get(loc, Customer, fake.String(body["customerId"])); !ok {
		invalid("customerId does not exist")
		return
	}
	if v := fake.String(body["vehicleId"]); v != "" {
		if _, ok := s.records.Get(loc, Vehicle, v); !ok {
			invalid("vehicleId does not exist")
			return
		}
	}
	now := formatTime(s.Now())
	data := map[string]any{
		"id":                s.newID(),
		"locationId":        loc,
		"customerId":        body["customerId"],
		"vehicleId":         body["vehicleId"],
		"name":              body["name"],
		"startDate":         formatTime(start),
		"endDate":           formatTime(end),
		"color":             color,
		"attributionSource": cmp.Or(fake.String(body["attributionSource"]), "Manual"),
		"confirmed":         body["confirmed"] == true,
		"createdDate":       now,
		"updatedDate":       now,
		"meta":              map[string]any{"version": 1},
	}
	row, err := s.records.Insert(loc, Appointment, data)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL_ERROR", err.Error())
		return
	}
	s.created[createdKey{fake.String(body["customerId"]), start.UTC().UnixMilli()}]++
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": row.Data})
}
