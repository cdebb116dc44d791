package sendgrid_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

// sendgrid-go's helpers/eventwebhook/eventwebhook_test.go vector: a
// dropped event signed at 1600112502 by the key below.
const (
	sdkPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
	sdkSignature = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
	sdkTimestamp = "1600112502"
)

// sdkPayload is the SDK test's payload, built as it builds it: JSON
// without HTML escaping, the encoder's newline replaced by "\r\n".
func sdkPayload(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode([]map[string]any{{
		"email":         "hello@world.com",
		"event":         "dropped",
		"reason":        "Bounced Address",
		"sg_event_id":   "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
		"sg_message_id": "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
		"smtp-id":       "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
		"timestamp":     1600112492,
	}}))
	return append(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), "\r\n"...)
}

// signedEvents is the header the sandbox's SendGrid signs body with at now.
func signedEvents(t *testing.T, body []byte, now time.Time) http.Header {
	t.Helper()
	ts := strconv.FormatInt(now.Unix(), 10)
	sig, err := fakesendgrid.SignEvents(body, ts)
	require.NoError(t, err)
	return eventHeader(sig, ts)
}

func eventHeader(signature, timestamp string) http.Header {
	h := http.Header{}
	if signature != "" {
		h.Set(sendgrid.SignatureHeader, signature)
	}
	if timestamp != "" {
		h.Set(sendgrid.TimestampHeader, timestamp)
	}
	return h
}

func TestEventWebhookSDKVector(t *testing.T) {
	t.Parallel()
	w, err := sendgrid.NewEventWebhook(sdkPublicKey)
	require.NoError(t, err)
	payload := sdkPayload(t)
	now := time.Unix(1600112502, 0)

	t.Run("Genuine", func(t *testing.T) {
		t.Parallel()
		key, events, err := w.ParseEvents(eventHeader(sdkSignature, sdkTimestamp), payload, now)
		require.NoError(t, err)
		require.NotEmpty(t, key)
		require.Empty(t, events, "the vector's event is not one of our messages")
	})

	t.Run("EveryByteTampered", func(t *testing.T) {
		t.Parallel()
		for i := range payload {
			tampered := bytes.Clone(payload)
			tampered[i] ^= 0x01
			_, _, err := w.ParseEvents(eventHeader(sdkSignature, sdkTimestamp), tampered, now)
			require.ErrorIs(t, err, messaging.ErrWebhookUnverified, "byte %d", i)
		}
	})

	for name, tt := range map[string]struct {
		signature, timestamp string
		payload              []byte
		reason               string
	}{
		"InvalidPayload":   {sdkSignature, sdkTimestamp, []byte("this is not valid payload for the given signature"), "does not verify"},
		"InvalidSignature": {sdkSignature + "causing failure", sdkTimestamp, payload, "malformed"},
		"InvalidTimestamp": {sdkSignature, "invalid timestamp", payload, "epoch seconds"},
		"EmptyTimestamp":   {sdkSignature, "", payload, "required"},
		"OtherTimestamp":   {sdkSignature, "1600112503", payload, "does not verify"},
		"Stale":            {sdkSignature, strconv.FormatInt(now.Add(-sendgrid.MaxEventAge-time.Second).Unix(), 10), payload, "away from now"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, events, err := w.ParseEvents(eventHeader(tt.signature, tt.timestamp), tt.payload, now)
			require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
			require.ErrorContains(t, err, tt.reason)
			require.Nil(t, events)
		})
	}
}

func TestEventWebhookSandboxSigned(t *testing.T) {
	t.Parallel()
	w, err := sendgrid.NewEventWebhook(fakesendgrid.WebhookPublicKey)
	require.NoError(t, err)
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`[{"event":"delivered","timestamp":1741100400,"email":"a@example.com","sg_message_id":"abc.filter0001",` +
		`"tenant_id":"0b5a2f3e-1c1d-4d6a-9f61-0a4f1f0b9c11","message_id":"6c1f0d52-2d4b-4c52-9d0a-3f1b2a9e7c10"}]`)
	sig, err := fakesendgrid.SignEvents(body, ts)
	require.NoError(t, err)

	key, events, err := w.ParseEvents(eventHeader(sig, ts), body, now)
	require.NoError(t, err)
	require.Equal(t, []messaging.EmailEvent{{TenantID: "0b5a2f3e-1c1d-4d6a-9f61-0a4f1f0b9c11", MessageID: "6c1f0d52-2d4b-4c52-9d0a-3f1b2a9e7c10",
		Event: "delivered", Email: "a@example.com", ProviderMessageID: "abc", OccurredAt: time.Unix(1741100400, 0).UTC()}}, events)

	t.Run("ReplayHasTheSameKey", func(t *testing.T) {
		t.Parallel()
		// A replay may change the signature freely ((r, n-s) verifies
		// too), so the key is made of the timestamp and the body only.
		again, _, err := w.ParseEvents(eventHeader(sig, ts), body, now.Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, key, again)
		ts2 := strconv.FormatInt(now.Unix()+1, 10)
		sig2, err := fakesendgrid.SignEvents(body, ts2)
		require.NoError(t, err)
		other, _, err := w.ParseEvents(eventHeader(sig2, ts2), body, now)
		require.NoError(t, err)
		require.NotEqual(t, key, other)
	})

	t.Run("WithinAge", func(t *testing.T) {
		t.Parallel()
		for _, at := range []time.Time{now.Add(sendgrid.MaxEventAge), now.Add(-sendgrid.MaxEventAge)} {
			_, _, err := w.ParseEvents(eventHeader(sig, ts), body, at)
			require.NoError(t, err)
		}
	})

	for name, h := range map[string]http.Header{
		"MissingSignature": eventHeader("", ts),
		"MissingTimestamp": eventHeader(sig, ""),
		"NotBase64":        eventHeader("!!!", ts),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := w.ParseEvents(h, body, now)
			require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
		})
	}
	for name, at := range map[string]time.Time{"Stale": now.Add(sendgrid.MaxEventAge + time.Second), "Future": now.Add(-sendgrid.MaxEventAge - time.Second)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := w.ParseEvents(eventHeader(sig, ts), body, at)
			require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
		})
	}

	t.Run("SignedButMalformed", func(t *testing.T) {
		t.Parallel()
		bad := []byte(`[{"event":"delivered","timestamp":1,"tenant_id":"x","message_id":"6c1f0d52-2d4b-4c52-9d0a-3f1b2a9e7c10"}]`)
		sig, err := fakesendgrid.SignEvents(bad, ts)
		require.NoError(t, err)
		_, _, err = w.ParseEvents(eventHeader(sig, ts), bad, now)
		require.ErrorContains(t, err, "field tenant_id")
		require.NotErrorIs(t, err, messaging.ErrWebhookUnverified)
	})
}

func TestNewEventWebhook(t *testing.T) {
	t.Parallel()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	require.NoError(t, err)

	_, err = sendgrid.NewEventWebhook(" " + fakesendgrid.WebhookPublicKey + "\n")
	require.NoError(t, err, "a key read from a file keeps its newline")
	for key, want := range map[string]string{
		"not base64!": "must be base64",
		base64.StdEncoding.EncodeToString([]byte("x")): "must be a DER-encoded public key",
		base64.StdEncoding.EncodeToString(der):         "must be an ECDSA P-256 public key",
	} {
		_, err := sendgrid.NewEventWebhook(key)
		require.EqualError(t, err, want)
		_, err = sendgrid.ParsePublicKey(key)
		require.EqualError(t, err, want)
	}
}
