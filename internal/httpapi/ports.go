package httpapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// The webhook routes' ports: what they need of the rest of the service,
// owned here and implemented by internal/jobs, so that httpapi knows no
// store, no job and no provider. A route verifies and decodes at the edge
// (through the CRM kind's or the provider's parser), then hands one
// verified event to the intake and answers.

// TenantLookup resolves the tenant a webhook's path names.
type TenantLookup interface {
	// Tenant returns the tenant with id, enabled or not (the route refuses
	// a disabled one); found is false when there is none, which the route
	// answers as a request that did not verify. An error means the lookup
	// itself failed (the database): the route answers 503, so the provider
	// delivers again, instead of a 401 that some providers take as final.
	Tenant(ctx context.Context, id uuid.UUID) (t lead.Tenant, found bool, err error)
	// OpenWebhookSecret opens t's sealed webhook signing secret
	// (crm.WebhookSigned kinds), for this one request.
	OpenWebhookSecret(t lead.Tenant) (lead.Secret, error)
}

// Intake turns verified webhooks into stored work. Each call is one
// transaction, so a route answers in milliseconds, and an error makes the
// provider deliver again (the route answers 500).
type Intake interface {
	// AdmitIngest spends one delivery of the tenant's CRM webhook budget,
	// shared by the fleet, before Ingest: zero when the delivery may be
	// taken, else how long until one may (the route answers 429 with
	// Retry-After and enqueues nothing). Without it one shop's webhook
	// credential could insert live ingests without limit.
	AdmitIngest(ctx context.Context, tenantID uuid.UUID) (wait time.Duration, err error)
	// Ingest enqueues the ingest of the record a CRM webhook of kind named,
	// deduplicated by e.DeliveryID when it is not empty.
	Ingest(ctx context.Context, tenantID uuid.UUID, kind string, e crm.WebhookEvent) error
	// Inbound stores a customer's text and enqueues its handling; a
	// redelivery (the same ProviderID) stores nothing.
	Inbound(ctx context.Context, tenantID uuid.UUID, m messaging.InboundText) error
	// SMSStatus enqueues a delivery report of a text we sent.
	SMSStatus(ctx context.Context, tenantID uuid.UUID, s messaging.SMSStatus) error
	// EmailEvents stores a verified email event batch and enqueues its
	// recording; deliveryKey names the signed delivery, so a replay
	// enqueues nothing.
	EmailEvents(ctx context.Context, deliveryKey string, events []messaging.EmailEvent) error
	// InboundEmail stores an email sent to one of our reply addresses and
	// enqueues its handling; a redelivery (the same MessageID) stores
	// nothing, and a mail to no reply address of ours is an error wrapping
	// messaging.ErrUnknownReplyAddress.
	InboundEmail(ctx context.Context, m messaging.InboundEmail) error
}

// CallIntake records the calls to a shop's number and what became of
// them. Each call is one transaction; an error makes the route answer 500.
type CallIntake interface {
	// CallStarted records a call once per provider id; a redelivery
	// changes nothing. missed says the call is missed already (the shop
	// has no phone to forward it to): the call is then ended at once and
	// its handling enqueued in the same transaction.
	CallStarted(ctx context.Context, tenantID uuid.UUID, c messaging.VoiceCall, missed bool) error
	// CallEnded records how the forward ended and, when nobody answered,
	// enqueues the missed call's handling in the same transaction. Only
	// the first report of a call counts: a redelivery changes nothing.
	CallEnded(ctx context.Context, tenantID uuid.UUID, d messaging.DialOutcome) error
}

// BookingDesk is what the booking page (/book/{token}) needs, implemented
// by internal/jobs. token is the link's token as the customer has it; the
// desk resolves it (through its hash) to one tenant and one lead, so a page
// never shows another lead's data.
type BookingDesk interface {
	// Offer is what the page of token shows. An unknown token is
	// lead.ErrBookingLinkUnknown; an expired one, a shop with booking off
	// or a lead that cannot book is a *lead.BookingLinkClosedError naming
	// the shop and how to reach it.
	Offer(ctx context.Context, token string) (lead.BookingOffer, error)
	// Request records the customer's choice and inserts its job in one
	// transaction, and returns the booking it made or changed. The same
	// req.Key again returns that booking and inserts nothing. A slot that
	// is not open is lead.ErrSlotTaken; a request that does not fit the
	// lead's booking (a move with nothing booked) is a
	// *lead.ValidationError naming the field.
	Request(ctx context.Context, token string, req lead.BookingRequest) (lead.Booking, error)
	// Booking reads one booking of the link's lead, for the page's "booking..."
	// to become "booked"; lead.ErrBookingLinkUnknown for a booking of any
	// other lead.
	Booking(ctx context.Context, token string, bookingID uuid.UUID) (lead.Booking, error)
}
