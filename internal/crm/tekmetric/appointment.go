package tekmetric

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// CreateAppointment books an appointment at the shop and returns its id.
// An invalid request is a *lead.ValidationError, which retrying cannot fix.
// Times are sent in UTC with a "Z", which Tekmetric reads as given. The
// appointment gets no leadSource, so the orchestrator's own booking is not
// polled back as a new lead. appt.Ref is written as the description, where
// ListAppointments reads it back. The POST is not idempotent: a call that times
// out may still have booked.
func (c *Client) CreateAppointment(ctx context.Context, appt crm.Appointment) (string, error) {
	if err := appt.Validate(); err != nil {
		return "", err
	}
	customerID, err := strconv.ParseInt(appt.CustomerID, 10, 64)
	if err != nil || customerID <= 0 {
		return "", &lead.ValidationError{Field: "appointment.customer_id", Reason: fmt.Sprintf("%q is not a Tekmetric id", appt.CustomerID)}
	}
	body := map[string]any{
		"shopId":     c.shopID,
		"customerId": customerID,
		"startTime":  formatTime(appt.Start),
		"endTime":    formatTime(appt.End),
		"title":      appt.Title,
	}
	if appt.Ref != "" {
		body["description"] = appt.Ref
	}
	if appt.VehicleID != "" {
		vehicleID, err := strconv.ParseInt(appt.VehicleID, 10, 64)
		if err != nil || vehicleID <= 0 {
			return "", &lead.ValidationError{Field: "appointment.vehicle_id", Reason: fmt.Sprintf("%q is not a Tekmetric id", appt.VehicleID)}
		}
		body["vehicleId"] = vehicleID
	}
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("error creating appointment for customer %d at shop %d: %w", customerID, c.shopID, err)
	}
	raw, err := c.do(ctx, http.MethodPost, "/api/v1/appointments", nil, body)
	if err != nil {
		return fail(err)
	}
	id, err := createdID(raw)
	if err != nil {
		return fail(err)
	}
	return strconv.FormatInt(id, 10), nil
}

// createdID reads the id from Tekmetric's answer to a create:
// {"type":"SUCCESS","message":"Appointment Saved","data":1}. An object
// with an id in data, as updates answer, is accepted too.
func createdID(raw []byte) (int64, error) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return 0, &crm.StatusError{StatusCode: http.StatusOK, Message: "answer is not JSON"}
	}
	data := bytes.TrimSpace(env.Data)
	var id int64
	if len(data) > 0 && data[0] == '{' {
		var obj struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(data, &obj) == nil {
			id = obj.ID
		}
	} else {
		_ = json.Unmarshal(data, &id)
	}
	if id <= 0 {
		return 0, &crm.InvalidRecordError{Record: "appointment", Field: "data", Reason: "holds no id: " + string(data)}
	}
	return id, nil
}
