package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestClosedDaysHoldFollowUps, through the real send path: with Dec 31
// and Jan 1 closed, on Dec 31 at 10:00 in Chicago a follow-up text snoozes
// to Jan 2 at the window's opening and a follow-up email to Jan 2's
// midnight (nothing sent, no attempt spent); the first answer waits the
// same way by default and goes at once for a shop that answers on closed
// days; on Jan 2 the follow-ups go.
func TestClosedDaysHoldFollowUps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	closedShop := func(name string, answer bool) lead.Tenant {
		shop := b.addShop(t, name)
		shop.QuietHours, shop.QuietRule = lead.DefaultQuietHours, lead.QuietRuleFederal
		shop.Compliance = lead.Compliance{ClosedDays: []string{"2026-12-31", "2027-01-01"}, AnswerOnClosedDays: answer, PostalAddress: testPostalAddress}
		shop, err := b.store.UpdateTenant(ctx, shop, nil)
		require.NoError(t, err)
		return shop
	}
	waits, answers := closedShop("waits", false), closedShop("answers", true)

	now := time.Date(2026, 12, 31, 10, 0, 0, 0, chicago)
	b.deps.Now = func() time.Time { return now }
	// Follow-up emails need an unsubscribe link; nobody follows it here.
	b.deps.PublicURL = "https://leads.example.com"
	client := b.startClient(t, jobs.ClientOpts{})
	// 09:00, not 08:00: the leads' numbers (+1512) are in Texas, whose law
	// texts from 9 on a Saturday.
	textOpens := time.Date(2027, 1, 2, 9, 0, 0, 0, chicago)
	emailOpens := time.Date(2027, 1, 2, 0, 0, 0, 0, chicago)

	insert := func(shop lead.Tenant, leadID uuid.UUID, step string, ch lead.Channel) int64 {
		var args river.JobArgs = jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: step}
		if ch == lead.ChannelEmail {
			args = jobs.SendEmailArgs{TenantID: shop.ID, LeadID: leadID, Step: step}
		}
		job, err := client.Insert(ctx, args, nil)
		require.NoError(t, err)
		return job.Job.ID
	}
	// snoozedUntil waits for the job to be snoozed and checks it waits as
	// long as the shop's clock says is left until want.
	snoozedUntil := func(id int64, want time.Time) {
		t.Helper()
		var job *rivertype.JobRow
		require.Eventually(t, func() bool {
			job, err = client.JobGet(ctx, id)
			require.NoError(t, err)
			return job.State == rivertype.JobStateScheduled && len(b.outcomes(t, id)) > 0
		}, 10*time.Second, 20*time.Millisecond)
		require.InDelta(t, want.Sub(now).Seconds(), time.Until(job.ScheduledAt).Seconds(), 5, "job %d (%s)", id, job.Kind)
		require.Equal(t, 0, job.Attempt, "a closed day spends no attempt")
		require.Equal(t, []string{"snoozed"}, b.outcomes(t, id))
	}

	held := b.newLead(t, waits, 1)
	heldJobs := map[int64]time.Time{
		insert(waits, held, jobs.StepInitial, lead.ChannelSMS):   textOpens,
		insert(waits, held, jobs.StepInitial, lead.ChannelEmail): emailOpens,
		insert(waits, held, "day1", lead.ChannelSMS):             textOpens,
		insert(waits, held, "day3", lead.ChannelEmail):           emailOpens,
	}
	answered := b.newLead(t, answers, 2)
	initialText := insert(answers, answered, jobs.StepInitial, lead.ChannelSMS)
	initialEmail := insert(answers, answered, jobs.StepInitial, lead.ChannelEmail)
	followUp := insert(answers, answered, "day1", lead.ChannelSMS)
	heldJobs[followUp] = textOpens

	for _, id := range []int64{initialText, initialEmail} {
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, id).State)
	}
	for id, want := range heldJobs {
		snoozedUntil(id, want)
	}
	stats := b.sandbox.Stats()
	require.Equal(t, 1, stats.SMS, "only the answering shop's first text goes on a closed day")
	require.Equal(t, 1, stats.Emails, "only the answering shop's first email goes on a closed day")

	// Jan 2, 08:01 on the shop's clock: everything held goes.
	now = textOpens.Add(time.Minute)
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() WHERE state = 'scheduled'`)
	require.NoError(t, err)
	for id := range heldJobs {
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, id).State, "job %d", id)
	}
	stats = b.sandbox.Stats()
	require.Equal(t, 4, stats.SMS)
	require.Equal(t, 3, stats.Emails)
}

// TestClosedDaysHandEditedRow: a closed day that does not parse (a tenant
// row edited by hand, past Validate) cancels the follow-up with the
// setting named, and nothing is sent: the calendar is not guessed.
func TestClosedDaysHandEditedRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "edited")
	_, err := b.pool.Exec(ctx, `UPDATE tenants SET compliance = '{"closed_days": ["2026-12-25", "25/12/2026"]}' WHERE id = $1`, shop.ID)
	require.NoError(t, err)
	client := b.startClient(t, jobs.ClientOpts{})
	leadID := b.newLead(t, shop, 1)

	job, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: "day1"}, nil)
	require.NoError(t, err)
	final := waitFinal(t, client, job.Job.ID)
	require.Equal(t, rivertype.JobStateCancelled, final.State)
	require.NotEmpty(t, final.Errors)
	require.Contains(t, final.Errors[len(final.Errors)-1].Error, `compliance.closed_days[1]: "25/12/2026" is not a date`)
	require.Zero(t, b.sandbox.Stats().SMS)
}
