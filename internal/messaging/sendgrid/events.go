package sendgrid

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// Headers of SendGrid's signed event webhook.
const (
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// MaxEventAge is how old (or how far in the future) a signed timestamp may
// be. The signature alone does not stop a captured request from being
// replayed later; the timestamp inside it does.
const MaxEventAge = 5 * time.Minute

// ErrBadSignature means an event webhook request is not SendGrid's: the
// signature is missing, malformed, does not verify, or its timestamp is
// stale.
var ErrBadSignature = errors.New("sendgrid event webhook: bad signature")

// EventVerifier checks signed event webhook requests with the account's
// public key.
type EventVerifier struct {
	key *ecdsa.PublicKey
}

// NewEventVerifier returns a verifier for key (see config's
// ParseECDSAPublicKey).
func NewEventVerifier(key *ecdsa.PublicKey) *EventVerifier { return &EventVerifier{key: key} }

// Verify checks the signature over the raw body exactly as received, and the
// timestamp's freshness against now. sendgrid-go's helper does not check
// freshness, so this does both.
func (v *EventVerifier) Verify(body []byte, signature, timestamp string, now time.Time) error {
	if signature == "" || timestamp == "" {
		return fmt.Errorf("%w: %s and %s are required", ErrBadSignature, SignatureHeader, TimestampHeader)
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not epoch seconds", ErrBadSignature, TimestampHeader)
	}
	if age := now.Sub(time.Unix(secs, 0)); age > MaxEventAge || age < -MaxEventAge {
		return fmt.Errorf("%w: timestamp is %s away from now (more than %s)", ErrBadSignature, age.Round(time.Second), MaxEventAge)
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	if !ecdsa.VerifyASN1(v.key, h.Sum(nil), sig) {
		return fmt.Errorf("%w: signature does not verify", ErrBadSignature)
	}
	return nil
}

// ParseEvents decodes a verified event webhook body. Events without our
// message id (mail sent by other applications on the same account, our
// notices to shops) are dropped; an event with malformed ids is an error naming the field, since a
// signed body from SendGrid should never carry one.
func ParseEvents(body []byte) ([]messaging.EmailEvent, error) {
	var raw []map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("event webhook body: not a JSON array of events: %w", err)
	}
	out := make([]messaging.EmailEvent, 0, len(raw))
	for i, r := range raw {
		tenantID, _ := r["tenant_id"].(string)
		messageID, _ := r["message_id"].(string)
		if messageID == "" {
			// Not a customer message of ours: mail of other applications
			// on the account, or our notices to shops (which carry the
			// tenant but no message). Dropped, not refused: one such event
			// must not make SendGrid redeliver the whole batch forever.
			continue
		}
		if _, err := uuid.Parse(tenantID); err != nil {
			return nil, fmt.Errorf("event %d: field tenant_id: not a uuid", i)
		}
		if _, err := uuid.Parse(messageID); err != nil {
			return nil, fmt.Errorf("event %d: field message_id: not a uuid", i)
		}
		event, _ := r["event"].(string)
		if event == "" {
			return nil, fmt.Errorf("event %d: field event: missing", i)
		}
		ts, ok := r["timestamp"].(float64)
		if !ok {
			return nil, fmt.Errorf("event %d: field timestamp: missing or not a number", i)
		}
		email, _ := r["email"].(string)
		sgID, _ := r["sg_message_id"].(string)
		// sg_message_id is X-Message-Id plus routing suffixes.
		providerID, _, _ := strings.Cut(sgID, ".")
		reason, _ := r["reason"].(string)
		out = append(out, messaging.EmailEvent{
			TenantID: tenantID, MessageID: messageID, Event: event, Email: email,
			ProviderMessageID: providerID, Reason: reason, OccurredAt: time.Unix(int64(ts), 0).UTC(),
		})
	}
	return out, nil
}
