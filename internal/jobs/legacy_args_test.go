package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// TestLegacyJobsRunOnce: jobs a fleet queued before migration 7, with the
// customer's data in their args, still do their work after the upgrade,
// once, and leave no customer data in river_job when they complete.
func TestLegacyJobsRunOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addShop(t, "legacy")
	leadID := b.newLead(t, shop, 31)
	l, err := b.store.GetLead(ctx, shop.ID, leadID)
	require.NoError(t, err)
	res, err := b.client.Insert(ctx, jobs.SendEmailArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, b.client, res.Job.ID).State)
	email := b.message(t, shop.ID, leadID, lead.ChannelEmail)

	argsOf := func(id int64) string {
		var args string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT args::text FROM river_job WHERE id = $1`, id).Scan(&args))
		return args
	}

	stop := jobs.LegacyHandleInboundArgs{TenantID: shop.ID, MessageSID: "SMlegacy", From: string(l.Phone), To: shop.SMSFrom,
		Body: "STOP", ReceivedAt: time.Now()}
	for range 2 {
		res, err := b.client.Insert(ctx, stop, nil)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, b.client, res.Job.ID).State)
		require.NotContains(t, argsOf(res.Job.ID), string(l.Phone), "the completed job keeps no number")
		require.NotContains(t, argsOf(res.Job.ID), "STOP")
	}
	suppressed, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(l.Phone))
	require.NoError(t, err)
	require.True(t, suppressed)
	got, err := b.store.GetLead(ctx, shop.ID, leadID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusOptedOut, got.Status)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM inbound_messages WHERE tenant_id = $1 AND handled_at IS NOT NULL`, shop.ID),
		"stored once, handled once")

	res, err = b.client.Insert(ctx, jobs.LegacyRecordEmailEventsArgs{TenantID: shop.ID, Events: []messaging.EmailEvent{{
		TenantID: shop.ID.String(), MessageID: email.ID.String(), Event: "bounce", Email: string(l.Email), OccurredAt: time.Now().UTC(),
	}}}, nil)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, b.client, res.Job.ID).State)
	require.NotContains(t, argsOf(res.Job.ID), string(l.Email), "the completed job keeps no address")
	suppressed, err = b.store.IsSuppressed(ctx, shop.ID, lead.ChannelEmail, string(l.Email))
	require.NoError(t, err)
	require.True(t, suppressed)
}
