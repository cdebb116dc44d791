package sendgrid

import (
	"crypto/ecdsa"
	"errors"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// This file is the event webhook's older API, kept only until httpapi and
// cmd/worker call EventWebhook (slice W1 of issue 10); then it goes.

// ErrBadSignature means an event webhook request is not SendGrid's: the
// signature is missing, malformed, does not verify, or its timestamp is
// stale. Every such error wraps messaging.ErrWebhookUnverified too.
//
// Deprecated: test for messaging.ErrWebhookUnverified.
var ErrBadSignature = errors.New("sendgrid event webhook: bad signature")

// EventVerifier checks signed event webhook requests with the account's
// public key.
//
// Deprecated: use EventWebhook, which verifies and decodes in one call.
type EventVerifier struct {
	key *ecdsa.PublicKey
}

// NewEventVerifier returns a verifier for key (see ParsePublicKey).
//
// Deprecated: use NewEventWebhook.
func NewEventVerifier(key *ecdsa.PublicKey) *EventVerifier { return &EventVerifier{key: key} }

// Verify checks the signature over the raw body exactly as received, and
// the timestamp's freshness against now.
//
// Deprecated: use EventWebhook.ParseEvents.
func (v *EventVerifier) Verify(body []byte, signature, timestamp string, now time.Time) error {
	return verifyEvents(v.key, body, signature, timestamp, now)
}

// ParseEvents decodes a verified event webhook body.
//
// Deprecated: use EventWebhook.ParseEvents, which verifies it first.
func ParseEvents(body []byte) ([]messaging.EmailEvent, error) { return decodeEvents(body) }
