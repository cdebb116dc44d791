package jobs_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestTextWaitsForTheSendingWindow: a text due outside the shop's window
// snoozes to the next opening in the shop's time zone (no attempt spent,
// nothing sent); the email of the same step goes at once; at the opening
// the text goes.
func TestTextWaitsForTheSendingWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "night")
	shop.QuietHours, shop.QuietRule = lead.DefaultQuietHours, lead.QuietRuleFederal
	_, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)

	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	// 22:30 in Chicago: past the 21:00 close, the next opening is 09:00,
	// not 08:00: the lead's number (+1512) is in Texas, whose law texts
	// from 9 on a weekday (TestTextWaitsForTheCustomersClock has the
	// customer elsewhere).
	now := time.Date(2026, 11, 25, 22, 30, 0, 0, chicago)
	b.deps.Now = func() time.Time { return now }
	client := b.startClient(t, jobs.ClientOpts{})
	leadID := b.newLead(t, shop, 1)

	text, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	email, err := client.Insert(ctx, jobs.SendEmailArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)

	var snoozed *rivertype.JobRow
	require.Eventually(t, func() bool {
		snoozed, err = client.JobGet(ctx, text.Job.ID)
		require.NoError(t, err)
		return snoozed.State == rivertype.JobStateScheduled
	}, 10*time.Second, 20*time.Millisecond)
	wantOpening := time.Date(2026, 11, 26, 9, 0, 0, 0, chicago)
	// River schedules against its own (real) clock: the snooze lasts as
	// long as the shop's clock says is left until the opening.
	require.InDelta(t, wantOpening.Sub(now).Seconds(), time.Until(snoozed.ScheduledAt).Seconds(), 5)
	require.Equal(t, 0, snoozed.Attempt, "a snooze for the window spends no attempt")
	require.Equal(t, []string{"snoozed"}, b.outcomes(t, text.Job.ID))

	waitFinal(t, client, email.Job.ID)
	require.Zero(t, b.sandbox.Stats().SMS, "no text at 22:30")
	require.Equal(t, 1, b.sandbox.Stats().Emails, "email is not held by the window")

	// The shop's clock reaches the opening: the text goes.
	now = wantOpening.Add(time.Minute)
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() WHERE id = $1`, text.Job.ID)
	require.NoError(t, err)
	final := waitFinal(t, client, text.Job.ID)
	require.Equal(t, rivertype.JobStateCompleted, final.State)
	require.Equal(t, 1, b.sandbox.Stats().SMS)
}

// TestTextWaitsForTheCustomersClock: at 09:30 in Chicago the shop's
// window is open, but a customer whose number is in Hawaii (05:30 there)
// is texted at 08:00 Honolulu time, 12:00 in Chicago; nothing is sent
// before and no attempt is spent.
func TestTextWaitsForTheCustomersClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "aloha")
	shop.QuietHours, shop.QuietRule = lead.DefaultQuietHours, lead.QuietRuleFederal
	_, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)

	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	now := time.Date(2026, 11, 25, 9, 30, 0, 0, chicago)
	b.deps.Now = func() time.Time { return now }
	client := b.startClient(t, jobs.ClientOpts{})
	leadID := b.newLead(t, shop, 1)
	_, err = b.pool.Exec(ctx, `UPDATE leads SET phone = '+18082013344' WHERE id = $1`, leadID)
	require.NoError(t, err)

	text, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	var snoozed *rivertype.JobRow
	require.Eventually(t, func() bool {
		snoozed, err = client.JobGet(ctx, text.Job.ID)
		require.NoError(t, err)
		return snoozed.State == rivertype.JobStateScheduled
	}, 10*time.Second, 20*time.Millisecond)
	wantOpening := time.Date(2026, 11, 25, 12, 0, 0, 0, chicago) // 08:00 in Honolulu
	require.InDelta(t, wantOpening.Sub(now).Seconds(), time.Until(snoozed.ScheduledAt).Seconds(), 5)
	require.Equal(t, 0, snoozed.Attempt)
	require.Zero(t, b.sandbox.Stats().SMS, "no text at 05:30 in Honolulu")

	now = wantOpening.Add(time.Minute)
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() WHERE id = $1`, text.Job.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, text.Job.ID).State)
	require.Equal(t, 1, b.sandbox.Stats().SMS)
}

// TestWindowJudgedAgainAtTheClaim: the window is open when the job first
// looks (20:59:59.9 in Chicago) and closed by the time it claims the row
// (a Postgres restart, a slow replica): the text does not go, its row
// stays pending with the reason, and the job snoozes to the opening
// without spending an attempt.
func TestWindowJudgedAgainAtTheClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "late")
	shop.QuietHours, shop.QuietRule = lead.DefaultQuietHours, lead.QuietRuleFederal
	_, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	first := time.Date(2026, 11, 25, 20, 59, 59, 900_000_000, chicago)
	later := first.Add(5 * time.Second)
	// The job looks at 20:59:59.9; its claim's look at the window under
	// the row's lock (holdForWindow) comes at 21:00:05.
	b.deps.Now = func() time.Time {
		if calledFrom("jobs.holdForWindow") {
			return later
		}
		return first
	}
	client := b.startClient(t, jobs.ClientOpts{})
	leadID := b.newLead(t, shop, 1)
	_, err = b.pool.Exec(ctx, `UPDATE leads SET phone = '+13122013344' WHERE id = $1`, leadID) // Chicago, federal hours
	require.NoError(t, err)

	text, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	var snoozed *rivertype.JobRow
	require.Eventually(t, func() bool {
		snoozed, err = client.JobGet(ctx, text.Job.ID)
		require.NoError(t, err)
		return snoozed.State == rivertype.JobStateScheduled
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 0, snoozed.Attempt)
	require.Zero(t, b.sandbox.Stats().SMS, "nothing after 21:00")
	opening := time.Date(2026, 11, 26, 8, 0, 0, 0, chicago)
	require.InDelta(t, opening.Sub(later).Seconds(), time.Until(snoozed.ScheduledAt).Seconds(), 5)
	var status, reason string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT status, last_error FROM messages WHERE lead_id = $1 AND channel = 'sms'`, leadID).Scan(&status, &reason))
	require.Equal(t, string(lead.MessagePending), status)
	require.Equal(t, lead.WindowHeldPrefix+": it opens at 2026-11-26T14:00:00Z", reason)
}

// TestSequenceIsScheduledAndStopsOnReply: a new lead gets every step of the
// shop's sequence as a scheduled job, due when its step is; a follow-up
// "only if no reply" is skipped, and recorded as skipped, once the customer
// replied; a step for an address the lead lacks is skipped with its reason.
func TestSequenceIsScheduledAndStopsOnReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "seq")
	shop.Sequence = lead.Sequence{
		{Name: lead.StepInitial, Channel: lead.ChannelSMS},
		{Name: lead.StepInitial, Channel: lead.ChannelEmail},
		{Name: "day1", Channel: lead.ChannelSMS, Delay: 24 * time.Hour, Condition: lead.ConditionNoReply},
		{Name: "day3", Channel: lead.ChannelEmail, Delay: 48 * time.Hour, After: lead.AnchorPrevious, Condition: lead.ConditionNoReply},
	}
	_, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)
	b.addLeads(t, shop, 1)
	client := b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Second})

	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 && b.sandbox.Stats().Emails == 1 }, 15*time.Second, 20*time.Millisecond)
	rows, err := b.pool.Query(ctx, `SELECT id, args->>'step', kind, scheduled_at - created_at FROM river_job
		WHERE kind IN ('send_sms', 'send_email') ORDER BY scheduled_at`)
	require.NoError(t, err)
	type sched struct {
		id         int64
		step, kind string
		delay      time.Duration
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sched, error) {
		var s sched
		return s, r.Scan(&s.id, &s.step, &s.kind, &s.delay)
	})
	require.NoError(t, err)
	require.Len(t, got, 4)
	require.Equal(t, "day1", got[2].step)
	require.InDelta(t, (24 * time.Hour).Seconds(), got[2].delay.Seconds(), 60)
	require.Equal(t, "day3", got[3].step)
	require.InDelta(t, (72 * time.Hour).Seconds(), got[3].delay.Seconds(), 60, "48h after the day1 step")

	// The customer replies; the follow-ups come due (moved forward here).
	var leadID string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM leads WHERE tenant_id = $1`, shop.ID).Scan(&leadID))
	_, err = b.pool.Exec(ctx, `UPDATE leads SET status = 'replied', replied_at = now() WHERE id = $1`, leadID)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET scheduled_at = now() WHERE id = ANY($1)`, []int64{got[2].id, got[3].id})
	require.NoError(t, err)
	for _, s := range got[2:] {
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, s.id).State)
	}
	require.Equal(t, 1, b.sandbox.Stats().SMS, "no follow-up text after a reply")
	require.Equal(t, 1, b.sandbox.Stats().Emails, "no follow-up email after a reply")
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM messages WHERE step IN ('day1', 'day3') AND status = 'skipped'
		AND last_error = 'the customer replied'`))
}

// TestStepWithoutAddressIsSkipped: a lead with no email still gets its
// email step run, and the outbox records it as skipped, with the reason.
func TestStepWithoutAddressIsSkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "noemail")
	leadID, _, err := b.store.UpsertLead(ctx, shop.ID, fixture.Lead("order:x", func(l *lead.Lead) {
		l.FirstName, l.Phone, l.Email = "Bo", "+15125550199", ""
	}), false)
	require.NoError(t, err)
	client := b.startClient(t, jobs.ClientOpts{})
	res, err := client.InsertMany(ctx, []river.InsertManyParams{
		{Args: jobs.SendEmailArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}},
	})
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, res[0].Job.ID).State)
	m := b.message(t, shop.ID, leadID, lead.ChannelEmail)
	require.Equal(t, lead.MessageSkipped, m.Status)
	require.Equal(t, "the lead has no email address", m.LastError)
	require.Zero(t, b.sandbox.Stats().Emails)
}

// calledFrom reports whether a function whose name ends in fn is on the
// caller's stack.
func calledFrom(fn string) bool {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, fn) {
			return true
		}
		if !more {
			return false
		}
	}
}
