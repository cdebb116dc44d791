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
			require.NoError(t, store.LockCustomer(ctx, tx, shop.ID, string(l.Phone), []uuid.UUID{leadID}))
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

// TestInboundWaitsForAClaimUnderWay drives the real handle_inbound_message
// worker through the signed Twilio route while a claim of the customer's
// follow-up holds its locks: the worker waits for the claim to commit
// before it records the reply or STOP, and stamps it after the claim, so
// the two are ordered. Without the worker's LockCustomer the job finished
// while the claim was still open.
func TestInboundWaitsForAClaimUnderWay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, status string }{
		{"Reply", "Tuesday at 9 works", string(lead.StatusReplied)},
		{"Stop", "STOP", string(lead.StatusOptedOut)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setupWebhooks(t)
			shop, l := b.inboundFixture(t, "")

			tx, err := b.deps.Pool.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx) //nolint:errcheck
			require.NoError(t, store.LockForClaim(ctx, tx, shop.ID, l.ID, string(l.Phone)))
			var claimedAt time.Time
			require.NoError(t, tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&claimedAt))

			b.text(t, shop, l.Phone, tc.body)
			var jobID int64
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'handle_inbound_message' ORDER BY id DESC LIMIT 1`).Scan(&jobID))
			require.Eventually(t, func() bool {
				job, err := b.client.JobGet(ctx, jobID)
				require.NoError(t, err)
				require.Nil(t, job.FinalizedAt, "the customer's text was recorded while a claim of their message was under way")
				return b.count(t, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`) > 0
			}, 15*time.Second, 10*time.Millisecond)
			require.NoError(t, tx.Commit(ctx))

			require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, b.client, jobID).State)
			var status string
			var stamped time.Time
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT l.status, coalesce(l.replied_at, s.created_at) FROM leads l
				LEFT JOIN suppressions s ON s.tenant_id = l.tenant_id AND s.channel = 'sms' AND s.address = l.phone
				WHERE l.id = $1`, l.ID).Scan(&status, &stamped))
			require.Equal(t, tc.status, status)
			require.True(t, stamped.After(claimedAt), "recorded at %s, after the claim at %s", stamped, claimedAt)
		})
	}
}
