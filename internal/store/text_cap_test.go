package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestClaimedTexts: the texts to one number of the tenant that went out or
// may have, claimed in the window, oldest first; never another tenant's,
// another number's, an email, or one that never reached the customer.
func TestClaimedTexts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	leadID, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:cap1"), false)
	require.NoError(t, err)
	text := func(tenant lead.Tenant, lid uuid.UUID, step, to string, status lead.MessageStatus, at time.Time) lead.Message {
		m := fixture.SMS(lid, step, "hi")
		m.To = to
		m, err := b.store.LockMessage(ctx, tenant.ID, m)
		require.NoError(t, err)
		require.NoError(t, b.store.MarkMessageSending(ctx, tenant.ID, m.ID, at))
		require.NoError(t, b.store.SetMessageStatus(ctx, tenant.ID, m.ID, status, ""))
		return m
	}
	const number = "+15552013344"
	text(b.a, leadID, "old", number, lead.MessageSent, now.Add(-25*time.Hour))
	text(b.a, leadID, "day1", number, lead.MessageDelivered, now.Add(-2*time.Hour))
	text(b.a, leadID, "initial", number, lead.MessageSent, now.Add(-3*time.Hour))
	text(b.a, leadID, "day2", number, lead.MessageAmbiguous, now.Add(-time.Hour))
	self := text(b.a, leadID, "day3", number, lead.MessageSending, now.Add(-time.Minute))
	text(b.a, leadID, "failed", number, lead.MessageFailed, now.Add(-time.Hour))
	text(b.a, leadID, "skipped", number, lead.MessageSkipped, now.Add(-time.Hour))
	text(b.a, leadID, "other", "+15552019999", lead.MessageSent, now.Add(-time.Hour))
	otherLead, _, err := b.store.UpsertLead(ctx, b.b.ID, fixture.Lead("order:cap1"), false)
	require.NoError(t, err)
	text(b.b, otherLead, "initial", number, lead.MessageSent, now.Add(-time.Hour))

	got, err := b.store.ClaimedTexts(ctx, b.a.ID, number, now.Add(-24*time.Hour), uuid.Nil)
	require.NoError(t, err)
	steps := make([]string, 0, len(got))
	for _, c := range got {
		steps = append(steps, c.Step)
	}
	require.Equal(t, []string{"initial", "day1", "day2", "day3"}, steps)
	require.True(t, got[0].SendingAt.Equal(now.Add(-3*time.Hour)))

	got, err = b.store.ClaimedTexts(ctx, b.a.ID, number, now.Add(-24*time.Hour), self.ID)
	require.NoError(t, err)
	require.Len(t, got, 3, "the text being claimed is not counted against itself")

	got, err = b.store.ClaimedTexts(ctx, b.b.ID, number, now.Add(-24*time.Hour), uuid.Nil)
	require.NoError(t, err)
	require.Len(t, got, 1, "tenant b sees only its own text")
}
