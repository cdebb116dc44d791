// W1 SHIM: a temporary wrapper of today's EventVerifier and ParseEvents
// with W2's exported names, so branch w1 compiles and tests before W2's
// internal/messaging/sendgrid webhook code lands. The lead deletes this
// file on merge.
package sendgrid

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// EventWebhook verifies and decodes the signed event webhook (W1 shim).
type EventWebhook struct {
	verifier *EventVerifier
}

// NewEventWebhook parses the account's base64 public key.
func NewEventWebhook(publicKey string) (*EventWebhook, error) {
	key, err := config.ParseECDSAPublicKey(publicKey)
	if err != nil {
		return nil, err
	}
	return &EventWebhook{verifier: NewEventVerifier(key)}, nil
}

// ParseEvents verifies and decodes a batch; deliveryKey is the SHA-256 of
// the timestamp header and the raw body.
func (e *EventWebhook) ParseEvents(h http.Header, body []byte, now time.Time) (string, []messaging.EmailEvent, error) {
	ts := h.Get(TimestampHeader)
	if err := e.verifier.Verify(body, h.Get(SignatureHeader), ts, now); err != nil {
		return "", nil, fmt.Errorf("%w: %w", messaging.ErrWebhookUnverified, err)
	}
	events, err := ParseEvents(body)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(append([]byte(ts), body...))
	return hex.EncodeToString(sum[:]), events, nil
}
