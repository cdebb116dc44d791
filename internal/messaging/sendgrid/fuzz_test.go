package sendgrid_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

func FuzzParseEvents(f *testing.F) {
	const tenant, message = "3f2d8f55-2a56-4d4b-9d55-0e2f8a1c9b11", "8b3a4c1e-5f6d-4e7a-8b9c-0d1e2f3a4b5c"
	for _, seed := range []string{
		`[{"email":"a@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"x","sg_message_id":"abc.filter0001","tenant_id":"` + tenant + `","message_id":"` + message + `"}]`,
		`[{"event":"bounce","timestamp":1.7e9,"reason":"550","tenant_id":"` + tenant + `","message_id":"` + message + `"}]`,
		`[{"event":"open","timestamp":1700000000}]`,
		`[{"tenant_id":"x","message_id":"` + message + `","event":"delivered","timestamp":1}]`,
		`[{"tenant_id":"` + tenant + `","message_id":"` + message + `","timestamp":1e300,"event":"processed"}]`,
		`[{"tenant_id":"` + tenant + `","message_id":"` + message + `","timestamp":"1","event":"processed"}]`,
		`[null, 1, "x"]`, `[]`, `{}`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := sendgrid.DecodeEvents(body)
		if err != nil {
			if events != nil {
				t.Fatalf("error with events: %v", err)
			}
			return
		}
		for i, e := range events {
			if _, err := uuid.Parse(e.TenantID); err != nil {
				t.Fatalf("event %d: tenant_id %q accepted", i, e.TenantID)
			}
			if _, err := uuid.Parse(e.MessageID); err != nil {
				t.Fatalf("event %d: message_id %q accepted", i, e.MessageID)
			}
			if e.Event == "" {
				t.Fatalf("event %d: no event name", i)
			}
			if strings.Contains(e.ProviderMessageID, ".") {
				t.Fatalf("event %d: provider id %q keeps its routing suffix", i, e.ProviderMessageID)
			}
		}
	})
}

func FuzzEventWebhook(f *testing.F) {
	w, err := sendgrid.NewEventWebhook(fakesendgrid.WebhookPublicKey)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`[{"event":"delivered","timestamp":1741100400}]`)
	sig, err := fakesendgrid.SignEvents(body, ts)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, sig, ts, int64(0))
	f.Add(body, sig, "+"+ts, int64(299))
	f.Add([]byte{}, "", "", int64(0))
	f.Add([]byte("x"), "MEUCIQ==", "9223372036854775807", int64(-301))
	f.Add([]byte("x"), "!!!", "-9223372036854775808", int64(1))
	f.Fuzz(func(t *testing.T, body []byte, signature, timestamp string, offset int64) {
		h := http.Header{sendgrid.SignatureHeader: {signature}, sendgrid.TimestampHeader: {timestamp}}
		if _, _, err := w.ParseEvents(h, body, now); err != nil && !errors.Is(err, messaging.ErrWebhookUnverified) {
			if _, derr := sendgrid.DecodeEvents(body); derr == nil {
				t.Fatalf("error is neither unverified nor the body's: %v", err)
			}
		}
		// Round trip: what the sandbox signs within the allowed age
		// verifies; a changed body does not.
		at := now.Add(time.Duration(offset%int64(sendgrid.MaxEventAge/time.Second)) * time.Second)
		ts := strconv.FormatInt(at.Unix(), 10)
		sig, err := fakesendgrid.SignEvents(body, ts)
		if err != nil {
			t.Fatal(err)
		}
		h = http.Header{sendgrid.SignatureHeader: {sig}, sendgrid.TimestampHeader: {ts}}
		if _, _, err := w.ParseEvents(h, body, now); errors.Is(err, messaging.ErrWebhookUnverified) {
			t.Fatalf("sandbox-signed body rejected: %v", err)
		}
		if _, _, err := w.ParseEvents(h, append([]byte("x"), body...), now); !errors.Is(err, messaging.ErrWebhookUnverified) {
			t.Fatalf("tampered body verified: %v", err)
		}
	})
}
