package main

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestResend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tenant := b.addTenant(t, "Resend Auto")
	other := b.addTenant(t, "Other Auto")
	leadID, _, err := b.store.UpsertLead(ctx, tenant.ID, lead.Lead{CRM: "shopmonkey", ExternalID: "order:1", Source: lead.SourceEstimate,
		Status: lead.StatusNew, Phone: "+15552013344", Consent: lead.Consent{SMS: true}}, false)
	require.NoError(t, err)
	m, err := b.store.LockMessage(ctx, tenant.ID, lead.Message{LeadID: leadID, Step: jobs.StepInitial, Channel: lead.ChannelSMS, To: "+15552013344", Body: "hi"})
	require.NoError(t, err)

	// Only an ambiguous message can be resent.
	_, _, err = b.run(t, "resend", "--tenant", "Resend Auto", "--message-id", m.ID.String())
	require.ErrorContains(t, err, "message is pending; only ambiguous messages are resent")

	require.NoError(t, b.store.SetMessageStatus(ctx, tenant.ID, m.ID, lead.MessageAmbiguous, "no confirmation"))
	out, _, err := b.run(t, "messages", "--tenant", "Resend Auto")
	require.NoError(t, err)
	require.Contains(t, out, "1 ambiguous message(s) for Resend Auto")
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
