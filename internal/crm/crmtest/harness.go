// Package crmtest is the contract every CRM adapter must pass, run by each
// crm/<kind> package's tests against its sandbox fake, and the few helpers
// those tests share. The two adapters' test files had copied each other's
// helpers and cases; a case every CRM must pass is written here once, and
// a third CRM gets it by writing a Harness.
//
// It is for tests only: nothing outside a _test.go file may import it.
package crmtest

import (
	"testing"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// Harness is what the contract needs of one CRM.
type Harness struct {
	// Kind is the CRM's crm_kind, as leads are recorded with it.
	Kind string
	// Registry is the CRM's registry entry (its NewKind): the contract
	// checks its webhook parser against the adapter.
	Registry crm.Kind
	// New builds one isolated world: a fresh fake and an adapter of one
	// shop on it. Each case calls it once.
	New func(t *testing.T) *World
	// PageCap is the most rows one list call of the CRM returns.
	PageCap int
	// DefaultRetryAfter is what a 429 without Retry-After tells the job to
	// wait: ShopMonkey's limit is per minute, Tekmetric says nothing (0,
	// back off exponentially).
	DefaultRetryAfter time.Duration
	// EditsAppointments says the adapter implements crm.AppointmentEditor
	// (moves and cancels through the API); the contract checks it does,
	// or does not, and runs the edit cases when it does.
	EditsAppointments bool
}

// World is one fake CRM with one shop, and the adapter of that shop.
type World struct {
	Adapter crm.Adapter
	// Since starts an hour, well away from now, that the cases seed leads in.
	Since time.Time
	// AddLead seeds a lead, its customer and its vehicle in the shop;
	// AddOtherShopLead in another shop the adapter's credentials can see
	// or not, but whose leads are never the shop's.
	AddLead          func(t *testing.T, spec LeadSpec) fake.LeadRef
	AddOtherShopLead func(t *testing.T, spec LeadSpec) fake.LeadRef
	// Unauthorized returns an adapter of the shop whose credentials the
	// fake refuses; Secret is a credential that must never appear in an
	// error.
	Unauthorized func(t *testing.T) crm.Adapter
	Secret       string
	// AddFault and SetClock are the fake's own: the contract's faults
	// apply once, and its clock is fixed.
	AddFault func(f fake.Fault)
	SetClock func(now func() time.Time)
	// Requests is how many requests the fake has had.
	Requests func() int
	// CheckPagedPoll, when set, checks what the CRM's own paging sent for
	// the poll beyond the page cap: the contract only sees the result.
	CheckPagedPoll func(t *testing.T)
	// BookingStart is when the contract's booking starts; zero means two
	// days after Since. CheckBooking, when set, checks the record the fake
	// stored for it (its id, for the lead ref's customer and vehicle).
	BookingStart time.Time
	CheckBooking func(t *testing.T, ref fake.LeadRef, start time.Time, id string)
	// CheckUnknownCustomer, when set, checks what else the CRM says when it
	// refuses a booking for a customer it does not have (its code, its
	// message, the context the adapter adds).
	CheckUnknownCustomer func(t *testing.T, status *crm.StatusError, err error)
	// AddRawVehicle stores a Ford as the CRM writes one, its year the JSON
	// year ("2012", a string as some shops' data has it, or "unknown"), and
	// returns its id.
	AddRawVehicle func(t *testing.T, year string) string
	// Webhook is a genuine webhook request of the shop's tenant about the
	// seeded lead ref, as the fake's own sender posts it for the record
	// the fake stores (see CaptureWebhook), with Now the time it is sent.
	// Required when the kind has webhooks.
	Webhook func(t *testing.T, ref fake.LeadRef) crm.WebhookRequest
	// Touch changes the seeded lead ref's record at the fake's clock, as
	// a shop's edit does; TouchedVersion is the version it then has.
	Touch          func(t *testing.T, ref fake.LeadRef)
	TouchedVersion int64
	// AddStaffAppointment books [start, end) in the shop's calendar as its
	// staff does, with no customer, and returns its id as the adapter
	// lists it; DeleteAppointment deletes appointment id as the shop does
	// in the CRM (the fakes' AddAppointment and DeleteAppointment).
	AddStaffAppointment func(t *testing.T, start, end time.Time) string
	DeleteAppointment   func(t *testing.T, id string)
	// Missing ids: of records the fake does not have.
	MissingExternalID, MissingCustomerID, MissingVehicleID string
	MissingAppointmentID                                   string
}

// LeadSpec is a lead to seed: an estimate unless Appointment.
type LeadSpec struct {
	Appointment bool
	CreatedAt   time.Time

	FirstName, LastName string
	// Phone and Email are stored as given; empty means the fake's own.
	Phone, Email string
	// State is the state of the customer's address, stored as given;
	// empty means a customer without an address.
	State string

	Year                  int
	Make, Model, Submodel string
	VIN, LicensePlate     string
}
