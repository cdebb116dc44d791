package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

var sendKinds = store.SendJobKinds{SMS: "send_sms", Email: "send_email"}

// unsettledMessage stores a lead of tenant and its outbox row for step in
// status (pending or sending), with no job.
func (b *testBundle) unsettledMessage(t *testing.T, tenant lead.Tenant, ext, step string, status lead.MessageStatus) lead.Message {
	t.Helper()
	ctx := context.Background()
	leadID, _, err := b.store.UpsertLead(ctx, tenant.ID, fixture.Lead(ext), false)
	require.NoError(t, err)
	m, err := b.store.LockMessage(ctx, tenant.ID, fixture.SMS(leadID, step, "hi"))
	require.NoError(t, err)
	if status == lead.MessageSending {
		require.NoError(t, b.store.MarkMessageSending(ctx, tenant.ID, m.ID, time.Now()))
	}
	m.Status = status
	return m
}

// insertSendJob stores, as the owner, a River send job of m in state.
func (b *testBundle) insertSendJob(t *testing.T, m lead.Message, state string) int64 {
	t.Helper()
	return b.insertResendJob(t, m, state, 0)
}

// insertResendJob stores, as the owner, a River send job of m in state
// with the resend number (0: the scheduled send, n: an operator's nth).
func (b *testBundle) insertResendJob(t *testing.T, m lead.Message, state string, resend int) int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.db.Owner.QueryRow(context.Background(), `
		INSERT INTO river_job (state, args, kind, max_attempts, queue, finalized_at)
		VALUES ($1::river_job_state, jsonb_build_object('tenant_id', $2::uuid, 'lead_id', $3::uuid, 'step', $4::text, 'resend', $5::int), 'send_sms', 10, 'sms',
			CASE WHEN $1 IN ('completed', 'cancelled', 'discarded') THEN now() END)
		RETURNING id`, state, m.TenantID, m.LeadID, m.Step, resend).Scan(&id))
	return id
}

// TestOrphanedMessages: the fleet-wide finder returns every tenant's
// unsettled rows with no live send job, and nothing else; the settle acts
// only on its own tenant's rows, and only on those still orphaned.
func TestOrphanedMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	orphanA := b.unsettledMessage(t, b.a, "order:1", "initial", lead.MessageSending)
	orphanB := b.unsettledMessage(t, b.b, "order:2", "initial", lead.MessagePending)
	live := b.unsettledMessage(t, b.a, "order:3", "initial", lead.MessagePending)
	b.insertResendJob(t, live, "scheduled", 1) // a resend's job counts: extra args do not matter
	dead := b.unsettledMessage(t, b.a, "order:4", "day1", lead.MessagePending)
	deadJob := b.insertSendJob(t, dead, "discarded")
	// A live job of the other channel, or of another step, is not this
	// row's job.
	b.insertSendJob(t, lead.Message{TenantID: b.a.ID, LeadID: dead.LeadID, Step: "initial"}, "available")

	found, err := b.store.FleetOrphanedMessages(ctx, sendKinds, 100)
	require.NoError(t, err)
	require.ElementsMatch(t, []store.OrphanedMessage{
		{TenantID: b.a.ID, MessageID: orphanA.ID}, {TenantID: b.b.ID, MessageID: orphanB.ID}, {TenantID: b.a.ID, MessageID: dead.ID},
	}, found)

	// Tenant a's settle cannot touch tenant b's row, even by its id.
	settled, err := b.store.SettleOrphanedMessages(ctx, b.a.ID, []uuid.UUID{orphanA.ID, orphanB.ID, live.ID, dead.ID}, sendKinds)
	require.NoError(t, err)
	byID := map[uuid.UUID]store.SettledMessage{}
	for _, s := range settled {
		byID[s.ID] = s
	}
	require.Len(t, byID, 2)
	require.Equal(t, lead.MessageAmbiguous, byID[orphanA.ID].Status)
	require.Equal(t, lead.MessageFailed, byID[dead.ID].Status)
	require.Contains(t, byID[dead.ID].Reason, "send job "+strconv.FormatInt(deadJob, 10)+" was discarded before the provider had the message")
	got, err := b.store.GetMessage(ctx, b.b.ID, orphanB.ID)
	require.NoError(t, err)
	require.Equal(t, lead.MessagePending, got.Status, "another tenant's row is untouched")
	got, err = b.store.GetMessage(ctx, b.a.ID, live.ID)
	require.NoError(t, err)
	require.Equal(t, lead.MessagePending, got.Status, "a row with a live job is untouched")

	// Settled rows are not found again; a second settle changes nothing.
	found, err = b.store.FleetOrphanedMessages(ctx, sendKinds, 100)
	require.NoError(t, err)
	require.Equal(t, []store.OrphanedMessage{{TenantID: b.b.ID, MessageID: orphanB.ID}}, found)
	settled, err = b.store.SettleOrphanedMessages(ctx, b.a.ID, []uuid.UUID{orphanA.ID, dead.ID}, sendKinds)
	require.NoError(t, err)
	require.Empty(t, settled)

	// An ambiguous message an operator resent is pending again; its resend
	// job is cancelled (a reply) before it runs: the first try may have
	// reached the customer, so it is ambiguous again, not failed.
	resent := b.unsettledMessage(t, b.a, "order:5", "initial", lead.MessageSending)
	require.NoError(t, b.store.SetMessageStatus(ctx, b.a.ID, resent.ID, lead.MessageAmbiguous, "outcome unknown"))
	require.NoError(t, b.store.SetMessageStatus(ctx, b.a.ID, resent.ID, lead.MessagePending, "an operator asked for a resend"))
	b.insertSendJob(t, resent, "completed")
	b.insertResendJob(t, resent, "cancelled", 1)
	settled, err = b.store.SettleOrphanedMessages(ctx, b.a.ID, []uuid.UUID{resent.ID}, sendKinds)
	require.NoError(t, err)
	require.Len(t, settled, 1)
	require.Equal(t, lead.MessageAmbiguous, settled[0].Status)
}
