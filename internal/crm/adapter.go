// Package crm is the port between the orchestrator and shop-management
// systems. Each CRM lives in its own subpackage (crm/shopmonkey) and
// implements Adapter; jobs only ever see this interface.
package crm

import (
	"context"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// Adapter is what the orchestrator needs from a shop's CRM. Implementations
// are built per tenant (they carry its credentials and location) and are
// safe for concurrent use.
type Adapter interface {
	// FetchNewLeads lists the inquiries (estimates and customer-made
	// booking requests) created or changed in [since, until). The result is
	// complete for the window whatever the CRM's page caps, holds each
	// inquiry once, and is sorted by UpdatedAt.
	FetchNewLeads(ctx context.Context, since, until time.Time) ([]lead.Inquiry, error)

	// GetLead fetches one inquiry by the ExternalID a poll returned.
	GetLead(ctx context.Context, externalID string) (lead.Inquiry, error)

	// GetCustomer fetches a customer with all their phones and emails.
	GetCustomer(ctx context.Context, customerID string) (lead.Customer, error)

	// GetVehicle fetches a vehicle.
	GetVehicle(ctx context.Context, vehicleID string) (lead.Vehicle, error)

	// CreateAppointment books an appointment in the CRM and returns its id.
	CreateAppointment(ctx context.Context, a Appointment) (string, error)
}

// Appointment is a booking the orchestrator asks the CRM to create.
type Appointment struct {
	CustomerID string
	VehicleID  string
	Title      string
	Start      time.Time
	End        time.Time
}

// Validate checks what every CRM needs of a booking, as a
// *lead.ValidationError naming the field; adapters add their own rules.
func (a Appointment) Validate() error {
	switch {
	case a.CustomerID == "":
		return &lead.ValidationError{Field: "appointment.customer_id", Reason: "is empty"}
	case a.Title == "":
		return &lead.ValidationError{Field: "appointment.title", Reason: "is empty"}
	case a.Start.IsZero():
		return &lead.ValidationError{Field: "appointment.start", Reason: "is not set"}
	case !a.End.After(a.Start):
		return &lead.ValidationError{Field: "appointment.end", Reason: "must be after start"}
	}
	return nil
}
