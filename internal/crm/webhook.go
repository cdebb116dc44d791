package crm

import (
	"errors"
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// WebhookAuth is how a CRM's webhook requests prove they come from the
// shop's CRM.
type WebhookAuth int

const (
	// WebhookNone means the CRM has no webhooks: no route is served.
	WebhookNone WebhookAuth = iota
	// WebhookSigned means the CRM signs each request with the tenant's
	// webhook signing secret (lead.Tenant.WebhookSecret, sealed): the route
	// opens it and hands it to the kind's ParseWebhook.
	WebhookSigned
	// WebhookURLToken means the CRM signs nothing, and a secret token in
	// the URL the shop configured is the credential (only its hash,
	// lead.Tenant.WebhookTokenHash, is stored). The route's pattern has a
	// {token} segment, checked before the kind's ParseWebhook is called.
	WebhookURLToken
)

// WebhookRequest is one webhook request of a tenant, its tenant resolved
// (enabled, of this CRM kind) and its body read, for the kind's
// ParseWebhook to verify and decode.
type WebhookRequest struct {
	Tenant lead.Tenant
	// Secret is the tenant's opened webhook signing secret (WebhookSigned).
	Secret lead.Secret
	Header http.Header
	Body   []byte
	// Now is the clock the signature's freshness is checked against.
	Now time.Time
}

// WebhookEvent is a verified CRM webhook reduced to what ingest needs: the
// record to fetch again (nothing else in a webhook is trusted) and the
// keys that make redeliveries and repeats collapse.
type WebhookEvent struct {
	// Ignored, when not empty, says why the request asks for nothing (a
	// record that is not an order or appointment of this shop, an event
	// that is not about a lead): the route answers 200 and enqueues
	// nothing.
	Ignored string
	// DeliveryID is the CRM's id of this delivery, the same across its
	// redeliveries, or "" when the CRM sends none.
	DeliveryID string
	// ExternalID is the record as the adapter's GetLead reads it.
	ExternalID string
	// Version is the record's version as the adapter's FetchNewLeads
	// computes it, so that a webhook's ingest and a poll's ingest of one
	// change share a job; 0 when the webhook carried none (the ingest then
	// reads the latest).
	Version int64
}

// ErrWebhookUnverified is wrapped by a ParseWebhook error that means the
// request did not prove where it came from (a missing header, a signature
// that does not verify, a stale timestamp). The route answers every one
// with the same 401, whatever the reason; the error's text, which must
// never hold a secret or a signature, goes to the log.
var ErrWebhookUnverified = errors.New("webhook did not verify")

// ErrWebhookSecret is wrapped (with ErrWebhookUnverified) when the
// tenant's configured secret is unusable: our fault, not the sender's, so
// the route also logs it as an error.
var ErrWebhookSecret = errors.New("the tenant's webhook secret is not usable")

// ParseWebhookFunc verifies a kind's webhook request (WebhookSigned) and
// decodes it. An error wrapping ErrWebhookUnverified is answered 401; any
// other error is a verified request the CRM sent malformed, answered 400
// with the error's text, which names the field.
type ParseWebhookFunc func(req WebhookRequest) (WebhookEvent, error)
