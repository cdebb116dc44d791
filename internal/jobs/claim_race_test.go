package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// TestClaimWaitsForAReplyBeingRecorded: a send whose claim starts while the
// customer's reply (or STOP) is being recorded waits for that transaction,
// then reads the lead as it now is and sends nothing. make chaos
// DURATION=10m (seed 1) caught the race: the claim read the lead before
// the reply committed and a nudge went out 70 ms after the reply was
// recorded. The test holds the customer's transaction open, exactly as
// handle_inbound_message holds it, and watches the send wait for it: on
// the old code the send finished (and texted) while it was still open.
func TestClaimWaitsForAReplyBeingRecorded(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name   string
		step   string
		record func(ctx context.Context, st *store.Store, tenantID, leadID uuid.UUID, phone lead.PhoneNumber) error
		status lead.MessageStatus
		reason string
	}{
		{
			name: "Reply", step: "day1", status: lead.MessageSkipped, reason: "the customer replied",
			record: func(ctx context.Context, st *store.Store, tenantID, leadID uuid.UUID, _ lead.PhoneNumber) error {
				return st.SetLeadStatus(ctx, tenantID, leadID, lead.StatusReplied)
			},
		},
		{
			name: "Stop", step: jobs.StepInitial, status: lead.MessageSuppressed,
			record: func(ctx context.Context, st *store.Store, tenantID, leadID uuid.UUID, phone lead.PhoneNumber) error {
				if err := st.Suppress(ctx, tenantID, lead.ChannelSMS, string(phone), "the customer texted STOP", "inbound"); err != nil {
					return err
				}
				return st.SetLeadStatus(ctx, tenantID, leadID, lead.StatusOptedOut)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setup(t)
			shop := b.addShop(t, "race")
			leadID := b.newLead(t, shop, 4)
			l, err := b.store.GetLead(ctx, shop.ID, leadID)
			require.NoError(t, err)
			client := b.startClient(t, jobs.ClientOpts{})

			// The customer's text is being recorded: locks taken, lead
			// moved, not committed yet.
			tx, err := b.deps.Pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx) //nolint:errcheck
			require.NoError(t, store.LockForInbound(ctx, tx, shop.ID, string(l.Phone), []uuid.UUID{leadID}))
			require.NoError(t, tc.record(ctx, store.New(tx), shop.ID, leadID, l.Phone))

			res, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: tc.step}, nil)
			require.NoError(t, err)
			// Wait for the claim to block on the customer's lock; a send
			// that finishes first did not wait.
			require.Eventually(t, func() bool {
				job, err := client.JobGet(ctx, res.Job.ID)
				require.NoError(t, err)
				require.Nil(t, job.FinalizedAt, "the send finished while the customer's text was being recorded")
				return b.count(t, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`) > 0
			}, 15*time.Second, 10*time.Millisecond)
			require.NoError(t, tx.Commit(ctx))

			require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, res.Job.ID).State)
			m := b.message(t, shop.ID, leadID, lead.ChannelSMS)
			require.Equal(t, tc.status, m.Status)
			if tc.reason != "" {
				require.Equal(t, tc.reason, m.LastError)
			}
			require.Zero(t, b.sandbox.Stats().SMS, "nothing texted after the customer's text was recorded")
		})
	}
}
