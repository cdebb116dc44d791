package fakesendgrid

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// The sandbox's event-webhook signing key. It signs fake events for a fake
// provider and is published on purpose: it is no secret. Workers pointed at
// the sandbox set sendgrid.webhook_public_key to WebhookPublicKey.
const (
	webhookPrivateKey = "MHcCAQEEIPd4uBDY6iZswxEtEewWaZ4w4RoOc69w3nIgBqe68ULkoAoGCCqGSM49AwEHoUQDQgAEwpXmXq8OMhmM+c9qOaoHkx5lRDJZHNRNVD2cyAbTMvynwaQwz4Xl1vODjrdOj7KVs+lNFCrwPYUEXPSNaiNlfw=="
	// WebhookPublicKey verifies the sandbox's signed events, as the
	// key SendGrid shows under Event Webhook > Signature Verification.
	WebhookPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwpXmXq8OMhmM+c9qOaoHkx5lRDJZHNRNVD2cyAbTMvynwaQwz4Xl1vODjrdOj7KVs+lNFCrwPYUEXPSNaiNlfw=="
)

// SignEvents signs an event webhook body as SendGrid does: ECDSA
// P-256 over SHA-256 of the timestamp followed by the raw body, ASN.1 DER,
// base64. Tests use it to forge good and bad requests.
func SignEvents(body []byte, timestamp string) (string, error) {
	der, err := base64.StdEncoding.DecodeString(webhookPrivateKey)
	if err != nil {
		return "", err
	}
	key, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return "", err
	}
	return signWith(key, body, timestamp)
}

func signWith(key *ecdsa.PrivateKey, body []byte, timestamp string) (string, error) {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	sig, err := ecdsa.SignASN1(rand.Reader, key, h.Sum(nil))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Event is one event as SendGrid's webhook posts it: fixed fields
// plus the message's custom args flattened in beside them.
type Event map[string]any

// NewEvent builds the event of kind for an email the fake accepted.
func NewEvent(e Email, kind string, at time.Time) Event {
	ev := Event{
		"email":         e.To,
		"timestamp":     at.Unix(),
		"event":         kind,
		"sg_event_id":   newMessageID(),
		"sg_message_id": e.MessageID + ".filter0001.16648.5515E0B88.0",
	}
	for k, v := range e.CustomArgs {
		ev[k] = v
	}
	return ev
}

// PostEvents posts one signed event webhook batch to url, as SendGrid
// does.
func PostEvents(ctx context.Context, client *http.Client, url string, events []Event) error {
	body, err := json.Marshal(events)
	if err != nil {
		return fmt.Errorf("error encoding sendgrid events: %w", err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := SignEvents(body, ts)
	if err != nil {
		return fmt.Errorf("error signing sendgrid events: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	h.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	return fake.PostWebhook(ctx, client, url, h, body)
}
