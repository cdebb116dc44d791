package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// capClock is a clock the text cap tests move by hand, safe for the
// workers that read it.
type capClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *capClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *capClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// capLead stores a consenting lead (external id order:cap<n>) whose phone
// is phone: several leads of one customer share a number.
func (b *testBundle) capLead(t *testing.T, tenant lead.Tenant, n int, phone lead.PhoneNumber) uuid.UUID {
	t.Helper()
	id, _, err := b.store.UpsertLead(context.Background(), tenant.ID, fixture.Lead(fmt.Sprintf("order:cap%d", n), func(l *lead.Lead) {
		l.LastName, l.Phone, l.Email = "Lee", phone, lead.Email(fmt.Sprintf("cap%d@example.com", n))
		l.Consent = lead.Consent{SMS: true, Email: true}
	}), false)
	require.NoError(t, err)
	return id
}

// textsTo counts the texts the Twilio fake took for number.
func (b *testBundle) textsTo(number lead.PhoneNumber) int {
	n := 0
	for _, m := range b.sandbox.Twilio.Messages() {
		if m.To == string(number) {
			n++
		}
	}
	return n
}

// waitHeld waits for a send job to be snoozed by the cap (scheduled well
// in the future) and returns its last run's recorded detail.
func (b *testBundle) waitHeld(t *testing.T, client *river.Client[pgx.Tx], id int64) string {
	t.Helper()
	require.Eventually(t, func() bool {
		job, err := client.JobGet(context.Background(), id)
		require.NoError(t, err)
		require.Nil(t, job.FinalizedAt, "the held text's job finished")
		return job.State == rivertype.JobStateScheduled && time.Until(job.ScheduledAt) > time.Minute && b.unrecordedRuns(t) == 0 &&
			b.count(t, `SELECT count(*) FROM job_executions WHERE job_id = $1 AND outcome = 'snoozed'`, id) > 0
	}, 30*time.Second, 20*time.Millisecond)
	var detail string
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT error FROM job_executions WHERE job_id = $1 ORDER BY run DESC LIMIT 1`, id).Scan(&detail))
	return detail
}

// TestTextCapUnderConcurrency: eight first answers to one number (eight
// leads of one customer) claimed at once by ten workers: exactly the cap,
// three, reach the Twilio fake; the other five wait, each with the cap's
// reason on its outbox row and a snooze in its job's log. Without the
// per-number lock the claims counted in parallel and more went.
func TestTextCapUnderConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "capconc")
	const phone, n = lead.PhoneNumber("+15125550900"), 8
	client := b.startClient(t, jobs.ClientOpts{})
	params := make([]river.InsertManyParams, 0, n)
	for i := range n {
		params = append(params, river.InsertManyParams{Args: jobs.SendSMSArgs{TenantID: shop.ID, LeadID: b.capLead(t, shop, i, phone), Step: jobs.StepInitial}})
	}
	res, err := client.InsertMany(ctx, params)
	require.NoError(t, err)

	var sent, held int
	for _, r := range res {
		require.Eventually(t, func() bool {
			job, err := client.JobGet(ctx, r.Job.ID)
			require.NoError(t, err)
			switch {
			case job.State == rivertype.JobStateCompleted:
				sent++
				return true
			case job.State == rivertype.JobStateScheduled && time.Until(job.ScheduledAt) > time.Hour:
				held++
				return true
			}
			require.Nil(t, job.FinalizedAt, "job %d ended %s", job.ID, job.State)
			return false
		}, 30*time.Second, 20*time.Millisecond)
	}
	require.Equal(t, 3, sent)
	require.Equal(t, 5, held)
	require.Equal(t, 3, b.textsTo(phone), "the Twilio fake took exactly the cap")
	require.Equal(t, 5, b.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND status = 'pending'
		AND last_error LIKE 'held by the text cap (3/24h): 3 texts to this number in the window; next try at %'`, shop.ID))
}

// TestTextCapRollingWindow: the window rolls. Texts at t0, t0 and
// t0+10h fill the cap; at t0+12h a fourth waits until the two oldest
// leave the window (t0+24h, plus a second); then two more go (one
// counted text left), and the next waits for the t0+10h text to leave.
func TestTextCapRollingWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	clock := &capClock{now: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
	b.deps.Now = clock.Now
	shop := b.addShop(t, "caproll")
	const phone = lead.PhoneNumber("+15125550901")
	client := b.startClient(t, jobs.ClientOpts{})
	t0 := clock.Now()
	send := func(i int) int64 {
		res, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: b.capLead(t, shop, i, phone), Step: jobs.StepInitial}, nil)
		require.NoError(t, err)
		return res.Job.ID
	}
	sendNow := func(i int) {
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, send(i)).State, "text %d", i)
	}

	sendNow(0)
	sendNow(1)
	clock.set(t0.Add(10 * time.Hour))
	sendNow(2)
	clock.set(t0.Add(12 * time.Hour))
	fourth := send(3)
	require.Equal(t, "snoozed for 12h0m1s", b.waitHeld(t, client, fourth))
	require.Equal(t, 3, b.textsTo(phone))

	// The two oldest have left the window: the held text goes when it is
	// run, and one more after it.
	clock.set(t0.Add(24*time.Hour + 2*time.Second))
	_, err := client.JobRetry(ctx, fourth)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, fourth).State)
	sendNow(4)
	require.Equal(t, 5, b.textsTo(phone))
	sixth := send(5)
	require.Equal(t, "snoozed for 9h59m59s", b.waitHeld(t, client, sixth))
	require.Equal(t, 5, b.textsTo(phone))
}

// TestTextCapExemptions: answers the customer asked for (a HELP answer,
// an opt-out's confirmation) go past a full cap and do not fill it; a
// missed caller's text is a solicitation and counts (lead's
// TestCountsTowardTextCap names the rest).
func TestTextCapExemptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "capexempt")
	const phone = lead.PhoneNumber("+15125550902")
	client := b.startClient(t, jobs.ClientOpts{})
	leadID := b.capLead(t, shop, 0, phone)

	// Exempt texts first: three HELP answers do not fill the cap.
	for i := range 3 {
		job := insertAndWait(t, client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: lead.HelpAnswerStep(fmt.Sprintf("SMhelp%d", i))})
		require.Equal(t, rivertype.JobStateCompleted, job.State)
	}
	for i := 1; i <= 3; i++ {
		job := insertAndWait(t, client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: b.capLead(t, shop, i, phone), Step: jobs.StepInitial})
		require.Equal(t, rivertype.JobStateCompleted, job.State, "solicitation %d", i)
	}
	require.Equal(t, 6, b.textsTo(phone))

	// The cap is full: a fourth solicitation waits, answers still go.
	res, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: b.capLead(t, shop, 4, phone), Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	require.Regexp(t, `^snoozed for (23h59m|24h0m)`, b.waitHeld(t, client, res.Job.ID), "until the oldest solicitation leaves the window")
	job := insertAndWait(t, client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: lead.HelpAnswerStep("SMhelp9")})
	require.Equal(t, rivertype.JobStateCompleted, job.State)
	job = insertAndWait(t, client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: lead.OptOutConfirmationStep("SMstop1")})
	require.Equal(t, rivertype.JobStateCompleted, job.State)
	require.Equal(t, 8, b.textsTo(phone))
}
