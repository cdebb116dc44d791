package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

func TestResend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tenant := b.addTenant(t, "Resend Auto")
	other := b.addTenant(t, "Other Auto")
	leadID, _, err := b.store.UpsertLead(ctx, tenant.ID, fixture.Lead("order:1"), false)
	require.NoError(t, err)
	m, err := b.store.LockMessage(ctx, tenant.ID, fixture.SMS(leadID, jobs.StepInitial, "hi"))
	require.NoError(t, err)

	// Only an ambiguous message can be resent.
	_, _, err = b.run(t, "resend", "--tenant", "Resend Auto", "--message-id", m.ID.String())
	require.ErrorContains(t, err, "message is pending; only ambiguous messages are resent")

	require.NoError(t, b.store.SetMessageStatus(ctx, tenant.ID, m.ID, lead.MessageAmbiguous, "no confirmation"))
	out, _, err := b.run(t, "messages", "--tenant", "Resend Auto")
	require.NoError(t, err)
	require.Contains(t, out, "1 ambiguous, 0 failed message(s) for Resend Auto")
	require.Contains(t, out, m.ID.String())

	// Another tenant cannot resend it.
	_, _, err = b.run(t, "resend", "--tenant", other.Name, "--message-id", m.ID.String())
	require.ErrorContains(t, err, "tenant Other Auto has no such message")

	out, _, err = b.run(t, "resend", "--tenant", "Resend Auto", "--message-id", m.ID.String())
	require.NoError(t, err)
	require.Contains(t, out, "queued resend of sms")
	got, err := b.store.GetMessage(ctx, tenant.ID, m.ID)
	require.NoError(t, err)
	require.Equal(t, lead.MessagePending, got.Status)
	args := jobArgs[jobs.SendSMSArgs](t, b, "send_sms")
	require.Len(t, args, 1)
	require.Equal(t, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial, Resend: 1}, args[0])

	_, _, err = b.run(t, "resend", "--tenant", "Resend Auto", "--message-id", uuid.NewString())
	require.ErrorContains(t, err, "has no such message")
	_, _, err = b.run(t, "resend", "--tenant", "Resend Auto", "--message-id", "nope")
	require.ErrorContains(t, err, `--message-id "nope": not a message id`)
	_, _, err = b.run(t, "messages", "--tenant", "Resend Auto", "--status", "lost")
	require.ErrorContains(t, err, `--status "lost"`)
}

// TestMessagesShowsWhatNeedsAnOperator: the default lists ambiguous and
// failed messages, the ones the outbox sweep settles among them, and the
// count of every status shows what no listed status covers. Before, the
// default listed ambiguous ones only and counted nothing else, so a
// message the sweep failed, or one stuck pending, was invisible.
func TestMessagesShowsWhatNeedsAnOperator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tenant := b.addTenant(t, "Sweep Auto")
	var ids []uuid.UUID
	for i, step := range []string{"initial", "day1", "day3"} {
		leadID, _, err := b.store.UpsertLead(ctx, tenant.ID, fixture.Lead(fmt.Sprintf("order:%d", i)), false)
		require.NoError(t, err)
		m, err := b.store.LockMessage(ctx, tenant.ID, fixture.SMS(leadID, step, "hi"))
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}
	// The first was claimed (sending), the second never was (pending);
	// neither has a send job left. The third stays pending: a row the
	// sweep has not reached yet.
	require.NoError(t, b.store.MarkMessageSending(ctx, tenant.ID, ids[0], time.Now()))
	kinds := store.SendJobKinds{SMS: jobs.SendSMSArgs{}.Kind(), Email: jobs.SendEmailArgs{}.Kind()}
	settled, err := b.store.SettleOrphanedMessages(ctx, tenant.ID, ids[:2], kinds)
	require.NoError(t, err)
	require.Len(t, settled, 2)

	out, _, err := b.run(t, "messages", "--tenant", "Sweep Auto")
	require.NoError(t, err)
	require.Contains(t, out, "1 ambiguous, 1 failed message(s) for Sweep Auto")
	require.Contains(t, out, "all statuses: pending 1, failed 1, ambiguous 1")
	require.Regexp(t, ids[0].String()+`\s+ambiguous\s.*its send job was deleted after it called the provider`, out)
	require.Regexp(t, ids[1].String()+`\s+failed\s.*its send job was deleted before the provider had the message`, out)
	require.NotContains(t, out, ids[2].String())

	out, _, err = b.run(t, "messages", "--tenant", "Sweep Auto", "--status", "pending, sending")
	require.NoError(t, err)
	require.Contains(t, out, "1 pending, 0 sending message(s) for Sweep Auto")
	require.Contains(t, out, ids[2].String())

	_, _, err = b.run(t, "messages", "--tenant", "Sweep Auto", "--status", "failed,lost")
	require.ErrorContains(t, err, `--status "lost": want one or more of pending, sending`)
}
