package sendgrid

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// Headers of SendGrid's signed event webhook.
const (
	SignatureHeader = eventwebhook.VerificationHTTPHeader
	TimestampHeader = eventwebhook.TimestampHTTPHeader
)

// MaxEventAge is how old (or how far in the future) a signed timestamp may
// be. The signature alone does not stop a captured request from being
// replayed later; the timestamp inside it does.
const MaxEventAge = 5 * time.Minute

// EventWebhook verifies and decodes SendGrid's signed event webhook with
// the account's public key. It is the messaging.EmailEventWebhook of
// SendGrid.
type EventWebhook struct {
	key *ecdsa.PublicKey
}

var _ messaging.EmailEventWebhook = (*EventWebhook)(nil)

// NewEventWebhook returns the event webhook of the account whose
// verification key is publicKey, base64 as SendGrid shows it (see
// ParsePublicKey, whose error it returns).
func NewEventWebhook(publicKey string) (*EventWebhook, error) {
	key, err := ParsePublicKey(publicKey)
	if err != nil {
		return nil, err
	}
	return &EventWebhook{key: key}, nil
}

// ParseEvents verifies a signed event batch over its raw bytes and
// decodes it. A missing, malformed or stale signature, or one that does
// not verify, is an error wrapping messaging.ErrWebhookUnverified; a
// verified body that is not an event batch is an error naming the field.
// deliveryKey names the signed delivery, the same for a replay of it.
func (w *EventWebhook) ParseEvents(h http.Header, body []byte, now time.Time) (deliveryKey string, events []messaging.EmailEvent, err error) {
	timestamp := h.Get(TimestampHeader)
	if err := verifyEvents(w.key, body, h.Get(SignatureHeader), timestamp, now); err != nil {
		return "", nil, err
	}
	events, err = decodeEvents(body)
	if err != nil {
		return "", nil, err
	}
	return sendGridDeliveryKey(timestamp, body), events, nil
}

// verifyEvents checks the signature over the timestamp and the raw body
// exactly as received, through sendgrid-go's eventwebhook.VerifySignature,
// and the timestamp's freshness against now, which sendgrid-go does not
// check.
func verifyEvents(key *ecdsa.PublicKey, body []byte, signature, timestamp string, now time.Time) error {
	if signature == "" || timestamp == "" {
		return unverified(fmt.Sprintf("%s and %s are required", SignatureHeader, TimestampHeader))
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return unverified(TimestampHeader + " is not epoch seconds")
	}
	if age := now.Sub(time.Unix(secs, 0)); age > MaxEventAge || age < -MaxEventAge {
		return unverified(fmt.Sprintf("timestamp is %s away from now (more than %s)", age.Round(time.Second), MaxEventAge))
	}
	ok, err := eventwebhook.VerifySignature(key, body, signature, timestamp)
	switch {
	case err != nil:
		// Not base64, or not an ASN.1 (r, s): sendgrid-go's error says
		// which, and holds no key.
		return unverified("signature is malformed: " + err.Error())
	case !ok:
		return unverified("signature does not verify")
	}
	return nil
}

// unverified is a request that did not prove it is SendGrid's, for
// reason.
func unverified(reason string) error {
	return fmt.Errorf("%w: %s", messaging.ErrWebhookUnverified, reason)
}

// sendGridDeliveryKey names one signed delivery of the event webhook: the
// SHA-256 of what SendGrid signs, the timestamp header followed by the raw
// body. A captured batch replayed within the freshness window must repeat
// both to pass the check, so it gets the same key and enqueues nothing
// (each replay used to be a new job carrying up to 4 MiB). The signature
// is left out on purpose: an ECDSA signature (r, s) also verifies as
// (r, n-s), and base64 has spare bits, so a replay could change it freely.
func sendGridDeliveryKey(timestamp string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
