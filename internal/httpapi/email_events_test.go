package httpapi_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// fakeEmail is an email provider whose batches are signed by an
// X-Fake-Signed header "ok"; its delivery key is the body, and each byte
// of the body is one event.
type fakeEmail struct{}

func (fakeEmail) ParseEvents(h http.Header, body []byte, now time.Time) (string, []messaging.EmailEvent, error) {
	switch {
	case h.Get("X-Fake-Signed") != "ok":
		return "", nil, fmt.Errorf("%w: no signature", messaging.ErrWebhookUnverified)
	case string(body) == "bad":
		return "", nil, errors.New("event 0: field event: missing")
	}
	events := make([]messaging.EmailEvent, len(body))
	for i := range events {
		events[i] = messaging.EmailEvent{Event: "delivered", OccurredAt: now}
	}
	return string(body), events, nil
}

// TestEmailEvents: the event route verifies through the provider's
// parser, hands a non-empty batch to the intake under its delivery key and
// answers how many it accepted; an unverified batch is the uniform 401, a
// malformed one 400, an oversized one 413, a failed intake 500.
func TestEmailEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := webhookurl.SendGridEvents().Path()
	signed := http.Header{"X-Fake-Signed": {"ok"}}

	require.Equal(t, answer{Status: http.StatusOK, ContentType: "application/json", Body: `{"accepted":3}` + "\n"}, b.post(t, path, signed, []byte("abc")))
	require.Equal(t, map[string][]messaging.EmailEvent{"abc": {{Event: "delivered", OccurredAt: b.now}, {Event: "delivered", OccurredAt: b.now}, {Event: "delivered", OccurredAt: b.now}}}, b.intake.events)
	require.Equal(t, answer{Status: http.StatusOK, ContentType: "application/json", Body: `{"accepted":0}` + "\n"}, b.post(t, path, signed, nil))
	require.Len(t, b.intake.events, 1, "an empty batch is not handed on")

	require.Equal(t, b.unauthorizedOK, b.post(t, path, nil, []byte("abc")))
	require.Equal(t, answer{Status: http.StatusBadRequest, ContentType: "application/json", Body: `{"error":"event 0: field event: missing"}` + "\n"}, b.post(t, path, signed, []byte("bad")))
	require.Equal(t, answer{Status: http.StatusRequestEntityTooLarge, ContentType: "application/json", Body: `{"error":"body larger than 4 MiB"}` + "\n"},
		b.post(t, path, signed, bytes.Repeat([]byte("x"), 5<<20)))
	b.intake.fail = errFake
	require.Equal(t, answer{Status: http.StatusInternalServerError, ContentType: "application/json", Body: `{"error":"could not store events; redeliver"}` + "\n"},
		b.post(t, path, signed, []byte("d")))
}
