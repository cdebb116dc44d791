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
	// It is not idempotent: a call that timed out may have booked, so a
	// retry first looks for a.Ref among ListAppointments.
	CreateAppointment(ctx context.Context, a Appointment) (string, error)

	// ListAppointments lists the shop's appointments that overlap [from,
	// to), whoever made them (staff, the customer, us), complete for the
	// window whatever the CRM's page caps, each once, sorted by Start.
	// Cancelled and deleted appointments are left out: they hold no bay.
	ListAppointments(ctx context.Context, from, to time.Time) ([]BookedAppointment, error)
}

// AppointmentEditor is what a CRM whose API can change an appointment
// implements besides Adapter. Where a CRM's adapter does not, a move or a
// cancel goes to the shop as a notice naming it.
type AppointmentEditor interface {
	// MoveAppointment gives appointment id the times of a (Start, End;
	// the other fields are kept as they are). Moving it to the times it
	// has is no error, so a retry is safe.
	MoveAppointment(ctx context.Context, id string, a Appointment) error
	// CancelAppointment cancels (or deletes) appointment id; one that is
	// already gone is no error, so a retry is safe.
	CancelAppointment(ctx context.Context, id string) error
}

// BookedAppointment is an appointment as the CRM lists it.
type BookedAppointment struct {
	ID         string
	CustomerID string
	Start      time.Time
	End        time.Time
	// Text is every free text the CRM keeps on it (title, name, notes,
	// description), joined: where an Appointment's Ref is found again.
	Text string
}

// Appointment is a booking the orchestrator asks the CRM to create.
type Appointment struct {
	CustomerID string
	VehicleID  string
	Title      string
	Start      time.Time
	End        time.Time
	// Ref is our marker for this booking; the adapter writes it into the
	// appointment's own text (where BookedAppointment.Text reads it back),
	// so a retry can tell an appointment it made from any other.
	Ref string
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
