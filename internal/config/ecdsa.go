package config

import (
	"crypto/ecdsa"

	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
)

// ParseECDSAPublicKey reads SendGrid's event webhook key: the parser is
// the SendGrid package's own, sendgrid.ParsePublicKey, which config
// validation calls.
//
// Deprecated: build the webhook with sendgrid.NewEventWebhook; this stays
// only until cmd/worker does (slice W1 of issue 10).
func ParseECDSAPublicKey(b64 string) (*ecdsa.PublicKey, error) {
	return sendgrid.ParsePublicKey(b64)
}
