package shopmonkey

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// appointmentColor is the calendar color of bookings the orchestrator makes.
// ShopMonkey accepts only its named colors (aqua, black, blue, ...).
const appointmentColor = "blue"

// CreateAppointment books an appointment at the location and returns its id.
// An invalid request is a *lead.ValidationError, which retrying cannot fix.
// The POST is not idempotent: a call that times out may still have booked.
// ShopMonkey documents no notes field on create, so appt.Ref goes at the
// end of the name, "Brake check [ref]", where ListAppointments reads it
// back.
func (a *Adapter) CreateAppointment(ctx context.Context, appt crm.Appointment) (string, error) {
	if err := appt.Validate(); err != nil {
		return "", err
	}
	// Ids are kept in crm.EscapeID form; ShopMonkey wants its own back.
	customerID, err := crm.UnescapeID(appt.CustomerID)
	if err != nil {
		return "", &lead.ValidationError{Field: "appointment.customer_id", Reason: err.Error()}
	}
	vehicleID, err := crm.UnescapeID(appt.VehicleID)
	if err != nil {
		return "", &lead.ValidationError{Field: "appointment.vehicle_id", Reason: err.Error()}
	}
	body := map[string]any{
		"customerId": customerID,
		"startDate":  formatTime(appt.Start),
		"endDate":    formatTime(appt.End),
		"name":       appointmentName(appt),
		"color":      appointmentColor,
		"locationId": a.locationID,
	}
	if vehicleID != "" {
		body["vehicleId"] = vehicleID
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
	id := d.id("id")
	return id, d.problem()
}

// appointmentName is the name an appointment is created with: its title,
// then its Ref in brackets when it has one.
func appointmentName(appt crm.Appointment) string {
	if appt.Ref == "" {
		return appt.Title
	}
	return appt.Title + " [" + appt.Ref + "]"
}
