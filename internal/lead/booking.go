package lead

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// BookingSettings are a shop's online booking: whether its messages offer
// a booking link, and which slots the booking page offers. They are stored
// as the tenant's booking settings (JSON, these tags); a zero value is
// booking switched off.
type BookingSettings struct {
	// Enabled offers the booking link in messages ({{.BookingURL}} is empty
	// otherwise) and serves the booking page.
	Enabled bool `json:"enabled"`
	// Hours are the shop's booking hours per weekday ("mon" .. "sun"), each
	// a window such as "08:00-17:00" in the shop's time zone; a day that is
	// absent takes no bookings. Empty: DefaultBookingHours.
	Hours map[string]string `json:"hours,omitempty"`
	// SlotMinutes is the length of one appointment slot (default 60).
	SlotMinutes int `json:"slot_minutes,omitempty"`
	// Capacity is how many appointments may start in one slot (bays,
	// technicians); default 1.
	Capacity int `json:"capacity,omitempty"`
	// LeadTimeMinutes is how soon a slot may start after the customer
	// looks: the shop needs time to prepare. 0 (or absent) is the default,
	// 120, because a zero field is an unset one; the shortest lead time is
	// 1 minute, which is how a shop asks for "none" (a slot can still be
	// booked up to a minute before it starts).
	LeadTimeMinutes int `json:"lead_time_minutes,omitempty"`
	// DaysAhead is how many days of slots the page offers, today included
	// (default 14).
	DaysAhead int `json:"days_ahead,omitempty"`
	// Holidays are closed dates ("2026-12-25"), in the shop's time zone.
	Holidays []string `json:"holidays,omitempty"`
	// LinkTTLHours is how long a booking link works after the message that
	// carried it (default 168, a week).
	LinkTTLHours int `json:"link_ttl_hours,omitempty"`
}

// Slot is one appointment time the page offers: [Start, End), with Free
// places left of the shop's capacity.
type Slot struct {
	Start time.Time
	End   time.Time
	Free  int
}

// BookingAction is what a customer asks of the booking page.
type BookingAction string

const (
	// BookingBook books a slot.
	BookingBook BookingAction = "book"
	// BookingMove moves the lead's booked appointment to another slot.
	BookingMove BookingAction = "move"
	// BookingCancel cancels the lead's booked appointment.
	BookingCancel BookingAction = "cancel"
)

// BookingRequest is one submission of the booking page.
type BookingRequest struct {
	Action BookingAction
	// Key is the form's one-time key: the same key again (a double tap, a
	// resubmitted form) is the same request.
	Key string
	// Start is the chosen slot's start (book and move).
	Start time.Time
}

// BookingState is where a booking stands.
type BookingState string

const (
	// BookingRequested: recorded with its job, the CRM not yet asked.
	BookingRequested BookingState = "requested"
	// BookingInProgress: claimed, the CRM call may be in flight.
	BookingInProgress BookingState = "booking"
	// BookingBooked: the CRM has the appointment (CRMAppointmentID).
	BookingBooked BookingState = "booked"
	// BookingTaken: the slot filled up before it could be booked; the page
	// offers other slots. Final.
	BookingTaken BookingState = "taken"
	// BookingFailed: the CRM refused it, Reason says why. Final.
	BookingFailed BookingState = "failed"
	// BookingAmbiguous: the CRM may or may not have it and cannot tell; an
	// operator decides, and nothing books it again meanwhile.
	BookingAmbiguous BookingState = "ambiguous"
	// BookingCancelled: booked, then cancelled by the customer. Final.
	BookingCancelled BookingState = "cancelled"
)

// ChangeState is where a move or cancel of a booked appointment stands.
type ChangeState string

const (
	ChangeNone ChangeState = ""
	// ChangeRequested: recorded with its job.
	ChangeRequested ChangeState = "requested"
	// ChangeDone: the CRM has the change.
	ChangeDone ChangeState = "done"
	// ChangeAskedShop: the CRM cannot make it through its API; the shop
	// was asked to, by a notice naming the change.
	ChangeAskedShop ChangeState = "asked_shop"
	// ChangeFailed: the CRM refused it, ChangeReason says why.
	ChangeFailed ChangeState = "failed"
)

// Booking is one booking request of a lead and what became of it.
type Booking struct {
	ID     uuid.UUID
	LeadID uuid.UUID
	Start  time.Time
	End    time.Time
	State  BookingState
	// Reason says, in words for the customer, why a booking was taken or
	// failed.
	Reason string
	// CRMAppointmentID is the appointment's id in the CRM once booked.
	CRMAppointmentID string
	// Change is the customer's last move or cancel of the booked
	// appointment (empty: none), to ChangeStart-ChangeEnd for a move.
	Change       BookingAction
	ChangeStart  time.Time
	ChangeEnd    time.Time
	ChangeState  ChangeState
	ChangeReason string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// BookingOffer is what the booking page of one link shows: the shop, the
// customer's request and the open slots.
type BookingOffer struct {
	Shop Shop
	// ShopPhone and ShopEmail are how the customer reaches the shop
	// (either may be empty).
	ShopPhone string
	ShopEmail string
	FirstName string
	// Summary is the customer's request as the CRM has it.
	Summary string
	Vehicle Vehicle
	// Slots are the open slots, earliest first.
	Slots []Slot
	// Current is the lead's live or last booking (nil: none yet).
	Current *Booking
}

// ErrBookingLinkUnknown is a booking token no one was given (or a lead
// since deleted): the page says so without naming any shop.
var ErrBookingLinkUnknown = errors.New("booking link is not known")

// BookingLinkClosedError is a link that no longer books: it expired, or
// the shop switched booking off, or the lead cannot book (opted out,
// closed). The page says how to reach the shop instead.
type BookingLinkClosedError struct {
	Shop      Shop
	ShopPhone string
	ShopEmail string
	// Reason is for logs and the operator, not shown to the customer.
	Reason string
}

func (e *BookingLinkClosedError) Error() string { return "booking link is closed: " + e.Reason }

// ErrSlotTaken is a chosen slot that is not open (full, past, or not one of
// the shop's slots): the page offers the others.
var ErrSlotTaken = errors.New("that time is no longer available")
