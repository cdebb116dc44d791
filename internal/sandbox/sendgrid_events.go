package sandbox

import (
	"bytes"
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
	"strings"
	"sync"
	"time"
)

// The sandbox's event-webhook signing key. It signs fake events for a fake
// provider and is published on purpose: it is no secret. Workers pointed at
// the sandbox set sendgrid.webhook_public_key to SendGridWebhookPublicKey.
const (
	sendGridWebhookPrivateKey = "MHcCAQEEIPd4uBDY6iZswxEtEewWaZ4w4RoOc69w3nIgBqe68ULkoAoGCCqGSM49AwEHoUQDQgAEwpXmXq8OMhmM+c9qOaoHkx5lRDJZHNRNVD2cyAbTMvynwaQwz4Xl1vODjrdOj7KVs+lNFCrwPYUEXPSNaiNlfw=="
	// SendGridWebhookPublicKey verifies the sandbox's signed events, as the
	// key SendGrid shows under Event Webhook > Signature Verification.
	SendGridWebhookPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwpXmXq8OMhmM+c9qOaoHkx5lRDJZHNRNVD2cyAbTMvynwaQwz4Xl1vODjrdOj7KVs+lNFCrwPYUEXPSNaiNlfw=="
)

// SignSendGridEvents signs an event webhook body as SendGrid does: ECDSA
// P-256 over SHA-256 of the timestamp followed by the raw body, ASN.1 DER,
// base64. Tests use it to forge good and bad requests.
func SignSendGridEvents(body []byte, timestamp string) (string, error) {
	der, err := base64.StdEncoding.DecodeString(sendGridWebhookPrivateKey)
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

// SendGridEvent is one event as SendGrid's webhook posts it: fixed fields
// plus the message's custom args flattened in beside them.
type SendGridEvent map[string]any

// NewSendGridEvent builds the event of kind for an email the fake accepted.
func NewSendGridEvent(e SendGridEmail, kind string, at time.Time) SendGridEvent {
	ev := SendGridEvent{
		"email":         e.To,
		"timestamp":     at.Unix(),
		"event":         kind,
		"sg_event_id":   sendGridMessageID(),
		"sg_message_id": e.MessageID + ".filter0001.16648.5515E0B88.0",
	}
	for k, v := range e.CustomArgs {
		ev[k] = v
	}
	return ev
}

// EventPoster delivers the SendGrid fake's events to a worker's webhook, as
// SendGrid does: signed batches, "processed" for every accepted email (and
// "delivered" a moment later), redelivered until a 2xx answer. With several
// URLs it tries them in turn, as a load balancer in front of replicas would.
type EventPoster struct {
	sg     *SendGrid
	urls   []string
	client *http.Client

	mu   sync.Mutex
	next int // index into sg.Emails() of the first email not yet posted
	sent int
	fail int
}

// NewEventPoster returns a poster for sg's accepted emails to urls.
func NewEventPoster(sg *SendGrid, urls ...string) *EventPoster {
	return &EventPoster{sg: sg, urls: urls, client: &http.Client{Timeout: 5 * time.Second}}
}

// Run posts new events every interval until ctx ends.
func (p *EventPoster) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.Flush(ctx)
		}
	}
}

// Flush posts the events of every email accepted since the last successful
// post. On failure the same events are posted again next time.
func (p *EventPoster) Flush(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	emails := p.sg.Emails()
	if p.next >= len(emails) {
		return
	}
	batch := emails[p.next:]
	if len(batch) > 500 {
		batch = batch[:500]
	}
	now := time.Now()
	events := make([]SendGridEvent, 0, 2*len(batch))
	for _, e := range batch {
		events = append(events, NewSendGridEvent(e, "processed", now), NewSendGridEvent(e, "delivered", now.Add(time.Second)))
	}
	body, err := json.Marshal(events)
	if err != nil {
		return
	}
	for i := range p.urls {
		url := p.urls[(p.sent+p.fail+i)%len(p.urls)]
		if p.post(ctx, url, body) == nil {
			p.next += len(batch)
			p.sent++
			return
		}
	}
	p.fail++
}

func (p *EventPoster) post(ctx context.Context, url string, body []byte) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := SignSendGridEvents(body, ts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", strings.TrimSpace(url), resp.Status)
	}
	return nil
}

// Posted reports how many emails have had their events delivered.
func (p *EventPoster) Posted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}
