package faketekmetric

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// handleCreateAppointment books an appointment. Appointments made through
// the API have no leadSource, so a booking the orchestrator makes is not
// polled back as a new lead.
func (s *API) handleCreateAppointment(w http.ResponseWriter, r *http.Request, c *application) {
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
	shopID := fake.Int64(body["shopId"])
	if shopID <= 0 {
		writeError(w, http.StatusBadRequest, "shopId is required")
		return
	}
	if !c.shops[shopID] {
		scopeError(w, c)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	loc := s.shops[shopID]
	req, invalid := s.checkAppointment(body, shopID, loc)
	if invalid != "" {
		writeError(w, http.StatusBadRequest, invalid)
		return
	}
	now := formatLocal(s.Now(), loc)
	data := map[string]any{
		"id":                s.newID(),
		"shopId":            shopID,
		"customerId":        optionalID(req.customerID),
		"vehicleId":         optionalID(req.vehicleID),
		"startTime":         formatLocal(req.start, loc),
		"endTime":           formatLocal(req.end, loc),
		"title":             body["title"],
		"description":       body["description"],
		"color":             req.color,
		"arrived":           nil,
		"appointmentStatus": "NONE",
		"createdDate":       now,
		"updatedDate":       now,
		"deletedDate":       nil,
		"leadSource":        nil,
		"rideOption":        nil,
		"dropoffTime":       nil,
		"pickupTime":        nil,
		"appointmentOption": nil,
	}
	row, err := s.records.Insert(shopID, Appointments, data)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.created[createdKey{req.customerID, req.start.UTC().UnixMilli()}]++
	writeJSON(w, http.StatusOK, map[string]any{"type": "SUCCESS", "message": "Appointment Saved", "data": row.Key, "details": map[string]any{}})
}

// appointmentRequest is a create-appointment body that passed Tekmetric's
// checks.
type appointmentRequest struct {
	start, end            time.Time
	color                 string
	customerID, vehicleID int64
}

// checkAppointment checks body as Tekmetric does, in its order, and
// returns the message of the first problem ("" for none), which Tekmetric
// answers with a 400. s.mu must be held.
func (s *API) checkAppointment(body map[string]any, shopID int64, loc *time.Location) (appointmentRequest, string) {
	var req appointmentRequest
	if strings.TrimSpace(fake.String(body["title"])) == "" {
		return req, "title is required"
	}
	var err1, err2 error
	req.start, err1 = parseTime(fake.String(body["startTime"]), loc)
	req.end, err2 = parseTime(fake.String(body["endTime"]), loc)
	if err1 != nil || err2 != nil || !req.end.After(req.start) {
		return req, "startTime and endTime are required ISO 8601 date-times, endTime after startTime"
	}
	req.color = cmp.Or(fake.String(body["color"]), "navy")
	if !slices.Contains([]string{"red", "pink", "yellow", "orange", "light green", "green", "blue", "navy", "lavender", "purple"}, req.color) {
		return req, "color must be one of red, pink, yellow, orange, light green, green, blue, navy, lavender, purple"
	}
	customerID, vehicleID := fake.Int64(body["customerId"]), fake.Int64(body["vehicleId"])
	req.customerID, req.vehicleID = customerID, vehicleID
	if vehicleID != 0 && customerID == 0 {
		return req, "customerId is required with vehicleId"
	}
	if _, ok := s.records.Get(shopID, Customers, customerID); customerID != 0 && !ok {
		return req, "customerId must belong to shopId"
	}
	if v, ok := s.records.Get(shopID, Vehicles, vehicleID); vehicleID != 0 && (!ok || fake.Int64(v.Data["customerId"]) != customerID) {
		return req, "vehicleId must belong to customerId"
	}
	return req, ""
}
