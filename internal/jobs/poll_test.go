package jobs_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

func TestPollCRM(t *testing.T) {
	t.Parallel()

	poll := func(t *testing.T, b *testBundle, tenant lead.Tenant, args jobs.PollCRMArgs) *rivertype.JobRow {
		t.Helper()
		client := b.startClient(t, jobs.ClientOpts{})
		args.TenantID = tenant.ID
		if args.Until.IsZero() {
			args.Since, args.Until = time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
		}
		res, err := client.Insert(context.Background(), args, nil)
		require.NoError(t, err)
		return waitFinal(t, client, res.Job.ID)
	}

	t.Run("RateLimitSnoozesForRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "limited")
		b.addLeads(t, tenant, 2)
		b.sandbox.ShopMonkey.AddFault(fake.Fault{Status: 429, RetryAfter: time.Second, Count: 1})

		job := poll(t, b, tenant, jobs.PollCRMArgs{Live: true})
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Equal(t, 1, job.Attempt, "a 429 does not spend an attempt")
		require.Eventually(t, func() bool { return b.count(t, `SELECT count(*) FROM leads`) == 2 }, 10*time.Second, 20*time.Millisecond)
		outcomes := b.outcomes(t, job.ID)
		require.Equal(t, "snoozed", outcomes[0])
	})

	t.Run("BadCredentialsCancelWithReason", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "badkey")
		wrong, err := b.keys.Seal(tenant.ID, "wrong")
		require.NoError(t, err)
		_, err = b.store.UpdateTenant(context.Background(), tenant, &wrong)
		require.NoError(t, err)

		job := poll(t, b, tenant, jobs.PollCRMArgs{Live: true})
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.Equal(t, 1, job.Attempt)
		require.Contains(t, job.Errors[len(job.Errors)-1].Error, "rejected the tenant's credentials")
		require.NotContains(t, job.Errors[len(job.Errors)-1].Error, "wrong", "the key itself is never in an error")
	})

	t.Run("LiveAdvancesCursorBackfillDoesNot", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "cursor")
		until := time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond)

		poll(t, b, tenant, jobs.PollCRMArgs{Since: until.Add(-time.Hour), Until: until, Live: false})
		got, err := b.store.GetTenant(context.Background(), tenant.ID)
		require.NoError(t, err)
		require.True(t, got.PollCursor.Before(until), "a backfill does not move the cursor")

		poll(t, b, tenant, jobs.PollCRMArgs{Since: until.Add(-time.Hour), Until: until, Live: true})
		got, err = b.store.GetTenant(context.Background(), tenant.ID)
		require.NoError(t, err)
		require.True(t, got.PollCursor.Equal(until), "cursor %s, want %s", got.PollCursor, until)
	})

	t.Run("BackfillIngestsWithoutMessaging", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "backfill")
		b.addLeads(t, tenant, 3)

		poll(t, b, tenant, jobs.PollCRMArgs{Live: false, SendMessages: false})
		require.Eventually(t, func() bool {
			return b.count(t, `SELECT count(*) FROM leads WHERE backfilled`) == 3 && b.unrecordedRuns(t) == 0
		}, 10*time.Second, 20*time.Millisecond)
		require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind IN ('send_sms', 'send_email')`))
		require.Empty(t, b.sandbox.Twilio.Messages())
	})

	t.Run("BackfillRecordsLeadsFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "progress")
		b.addLeads(t, tenant, 3)

		// A backfill's poll counts the leads it handed to ingest on its
		// backfill, which `enqueue backfill --wait` shows; a live poll
		// counts nothing.
		ctx := context.Background()
		id, err := b.store.CreateBackfill(ctx, store.Backfill{TenantID: tenant.ID, Since: time.Now().Add(-time.Hour),
			Until: time.Now(), Window: time.Hour, WindowsTotal: 1, CreatedAt: time.Now()})
		require.NoError(t, err)
		job := poll(t, b, tenant, jobs.PollCRMArgs{Live: false, BackfillID: id})
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		live := poll(t, b, tenant, jobs.PollCRMArgs{Live: true})
		require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE id = `+strconv.FormatInt(live.ID, 10)+` AND args ? 'backfill_id'`),
			"a live poll's args are what they were")
		p, err := b.store.BackfillProgress(ctx, tenant.ID, id)
		require.NoError(t, err)
		require.Equal(t, 3, p.Leads)
		require.Equal(t, 1, p.Finished)
	})

	t.Run("LivePollMessagesALeadABackfillFoundFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "race")
		b.addLeads(t, tenant, 2)

		poll(t, b, tenant, jobs.PollCRMArgs{Live: false, SendMessages: false})
		require.Eventually(t, func() bool { return b.count(t, `SELECT count(*) FROM leads WHERE backfilled`) == 2 }, 10*time.Second, 20*time.Millisecond)
		require.Empty(t, b.sandbox.Twilio.Messages())

		// The same fresh leads, seen by a live poll: answered, once.
		poll(t, b, tenant, jobs.PollCRMArgs{Live: true, SendMessages: true})
		require.Eventually(t, func() bool { st := b.sandbox.Stats(); return st.SMS == 2 && st.Emails == 2 }, 10*time.Second, 20*time.Millisecond)
		again := poll(t, b, tenant, jobs.PollCRMArgs{Live: true, SendMessages: true, Since: time.Now().Add(-2 * time.Hour), Until: time.Now().Add(time.Minute)})
		require.Equal(t, rivertype.JobStateCompleted, again.State)
		b.settled(t, "poll_crm", "ingest_lead", "send_sms", "send_email")
		require.Equal(t, 2, b.sandbox.Stats().SMS)
		require.Zero(t, b.count(t, `SELECT count(*) FROM leads WHERE backfilled`))
	})

	t.Run("DisabledTenantIsCancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "disabled")
		require.NoError(t, b.store.SetTenantEnabled(context.Background(), tenant.ID, false))
		job := poll(t, b, tenant, jobs.PollCRMArgs{Live: true})
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.Contains(t, job.Errors[0].Error, "disabled")
	})
}
