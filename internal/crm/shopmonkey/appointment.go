package shopmonkey

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// appointmentColor is the calendar color of bookings the orchestrator makes.
// ShopMonkey accepts only its named colors (aqua, black, blue, ...).
const appointmentColor = "blue"

// CreateAppointment books an appointment at the location and returns its id.
// An invalid request is a *lead.ValidationError, which retrying cannot fix.
// The POST is not idempotent: a call that times out may still have booked.
func (a *Adapter) CreateAppointment(ctx context.Context, appt crm.Appointment) (string, error) {
	if err := appt.Validate(); err != nil {
		return "", err
	}
	body := map[string]any{
		"customerId": appt.CustomerID,
		"startDate":  formatTime(appt.Start),
		"endDate":    formatTime(appt.End),
		"name":       appt.Title,
		"color":      appointmentColor,
		"locationId": a.locationID,
	}
	if appt.VehicleID != "" {
		body["vehicleId"] = appt.VehicleID
	}
	env, err := a.do(ctx, http.MethodPost, "/v3/appointment", nil, body)
	if err != nil {
		return "", fmt.Errorf("error creating appointment for customer %s: %w", appt.CustomerID, err)
	}
	id, err := decodeID("appointment", env.Data)
	if err != nil {
		return "", fmt.Errorf("error creating appointment for customer %s: %w", appt.CustomerID, err)
	}
	return id, nil
}

// decodeID reads the id of a record an API call created.
func decodeID(kind string, raw json.RawMessage) (string, error) {
	d := newRecordDecoder(kind, raw)
	id := d.requiredText("id")
	return id, d.problem()
}
