package sendgrid_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

// TestParseEventsDropsNotices: an event of a notice to a shop (tenant id,
// no message id) is dropped, and the rest of the batch is kept; it used to
// fail the whole batch, which SendGrid would redeliver forever.
func TestParseEventsDropsNotices(t *testing.T) {
	t.Parallel()
	body := []byte(`[
		{"event":"delivered","timestamp":1764000000,"tenant_id":"0b5a2f3e-1c1d-4d6a-9f61-0a4f1f0b9c11","notice":"reply"},
		{"event":"delivered","timestamp":1764000001,"tenant_id":"0b5a2f3e-1c1d-4d6a-9f61-0a4f1f0b9c11","message_id":"6c1f0d52-2d4b-4c52-9d0a-3f1b2a9e7c10"}
	]`)
	w, err := sendgrid.NewEventWebhook(fakesendgrid.WebhookPublicKey)
	require.NoError(t, err)
	now := time.Unix(1764000060, 0)
	_, events, err := w.ParseEvents(signedEvents(t, body, now), body, now)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "6c1f0d52-2d4b-4c52-9d0a-3f1b2a9e7c10", events[0].MessageID)
}
