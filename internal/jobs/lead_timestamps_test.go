package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// firstAccepted returns when the lead's first message on ch was accepted,
// as lead_first_messages holds it, and how many rows the lead has for ch.
func (b *testBundle) firstAccepted(t *testing.T, leadID uuid.UUID, ch lead.Channel) (at time.Time, rows int) {
	t.Helper()
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT coalesce(min(accepted_at), 'epoch'), count(*)
		FROM lead_first_messages WHERE lead_id = $1 AND channel = $2`, leadID, string(ch)).Scan(&at, &rows))
	return at, rows
}

// sentAt is when the outbox row of the lead's step on ch was marked sent.
func (b *testBundle) sentAt(t *testing.T, leadID uuid.UUID, step string, ch lead.Channel) time.Time {
	t.Helper()
	var at time.Time
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT sent_at FROM messages WHERE lead_id = $1 AND step = $2 AND channel = $3`,
		leadID, step, string(ch)).Scan(&at))
	return at
}

// TestFirstMessageStampedOnce: the provider's first acceptance of a
// message to a lead on each channel is stamped in the transaction that
// records it, and neither a repeated run of that send nor a later step
// moves it.
func TestFirstMessageStampedOnce(t *testing.T) {
	t.Parallel()

	t.Run("SendRetryAndLaterStep", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := metrics.New(metrics.Opts{})
		b.deps.Metrics = m
		tenant := b.addShop(t, "stamp")
		// Made in the CRM ten minutes before a live poll found it.
		crmCreated := time.Now().Add(-10 * time.Minute)
		leadID, _, err := b.store.UpsertLead(context.Background(), tenant.ID, fixture.Lead("order:o1", func(l *lead.Lead) {
			l.Phone, l.Email, l.Consent = "+15125550001", "ann1@example.com", lead.Consent{SMS: true, Email: true}
			l.CRMCreatedAt, l.FoundVia = crmCreated, lead.FoundViaPoll
		}), false)
		require.NoError(t, err)
		client := b.startClient(t, jobs.ClientOpts{})
		// speedToLead is the histogram name's sample count and sum for the
		// lead's CRM and path on ch.
		speedToLead := func(name string, ch lead.Channel) (count uint64, sum float64) {
			h := histogram(t, m, name, map[string]string{"crm": "shopmonkey", "path": "poll", "channel": string(ch)})
			return h.GetSampleCount(), h.GetSampleSum()
		}

		_, rows := b.firstAccepted(t, leadID, lead.ChannelSMS)
		require.Zero(t, rows, "nothing accepted yet")
		job := insertAndWait(t, client, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial})
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		first := b.sentAt(t, leadID, jobs.StepInitial, lead.ChannelSMS)
		at, rows := b.firstAccepted(t, leadID, lead.ChannelSMS)
		require.Equal(t, 1, rows)
		require.True(t, first.Equal(at), "first text accepted at %s, stamped %s", first, at)
		// Observed once, from the CRM's creation and from our first sight.
		n, sum := speedToLead("leadorch_speed_to_lead_seconds", lead.ChannelSMS)
		require.Equal(t, uint64(1), n)
		require.InDelta(t, first.Sub(crmCreated).Seconds(), sum, 0.01)
		n, sum = speedToLead("leadorch_speed_to_lead_from_first_seen_seconds", lead.ChannelSMS)
		require.Equal(t, uint64(1), n)
		require.Less(t, sum, first.Sub(crmCreated).Seconds())

		// The same job run again (a rescue) finds the row sent.
		_, err = b.pool.Exec(context.Background(), `UPDATE river_job SET state = 'available', finalized_at = NULL, scheduled_at = now() WHERE id = $1`, job.ID)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, job.ID).State)
		// A later step is accepted later, and is not the first.
		require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, client, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: "day1"}).State)
		require.True(t, b.sentAt(t, leadID, "day1", lead.ChannelSMS).After(first))
		at, rows = b.firstAccepted(t, leadID, lead.ChannelSMS)
		require.Equal(t, 1, rows)
		require.True(t, first.Equal(at), "the first text's stamp moved to %s", at)
		n, _ = speedToLead("leadorch_speed_to_lead_seconds", lead.ChannelSMS)
		require.Equal(t, uint64(1), n, "a rerun or a later step is not a first text")

		// The email is a channel of its own.
		_, rows = b.firstAccepted(t, leadID, lead.ChannelEmail)
		require.Zero(t, rows, "a text is not an email")
		require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, client, jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial}).State)
		at, rows = b.firstAccepted(t, leadID, lead.ChannelEmail)
		require.Equal(t, 1, rows)
		require.True(t, b.sentAt(t, leadID, jobs.StepInitial, lead.ChannelEmail).Equal(at))
		n, sum = speedToLead("leadorch_speed_to_lead_seconds", lead.ChannelEmail)
		require.Equal(t, uint64(1), n)
		require.InDelta(t, at.Sub(crmCreated).Seconds(), sum, 0.01)
	})

	t.Run("ReconciledSend", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "reconciled")
		leadID := b.newLead(t, tenant, 2)
		// Twilio takes the text and the answer is lost: the retry finds it
		// at Twilio and records it, which is when it counts as accepted.
		lose := newAnswerLoser(b.sandbox.Twilio, 1)
		srv := httptest.NewServer(http.StripPrefix("/twilio", lose))
		t.Cleanup(srv.Close)
		sms, err := twilio.NewSender(twilio.SenderOpts{AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken, BaseURL: srv.URL + "/twilio"})
		require.NoError(t, err)
		b.deps.SMS = sms
		client := b.startClient(t, jobs.ClientOpts{})

		job := insertAndWait(t, client, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial})
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Equal(t, 1, b.message(t, tenant.ID, leadID, lead.ChannelSMS).Attempts, "reconciled, not resent")
		at, rows := b.firstAccepted(t, leadID, lead.ChannelSMS)
		require.Equal(t, 1, rows)
		require.True(t, b.sentAt(t, leadID, jobs.StepInitial, lead.ChannelSMS).Equal(at))
	})
}

// TestFoundVia: the lead row records how it was first seen (a webhook, an
// operator's ingest, a backfill, a live poll), and a later ingest by
// another path does not change it.
func TestFoundVia(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "via")
	refs := b.addLeads(t, shop, 3)
	client := b.startClient(t, jobs.ClientOpts{})
	foundVia := func() map[string]string {
		rows, err := b.pool.Query(ctx, `SELECT external_id, found_via FROM leads WHERE tenant_id = $1`, shop.ID)
		require.NoError(t, err)
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var ext, via string
			require.NoError(t, rows.Scan(&ext, &via))
			got[ext] = via
		}
		require.NoError(t, rows.Err())
		return got
	}

	// A webhook that carried a version (so the job is not Latest).
	intake := &jobs.WebhookIntake{Pool: b.deps.Pool, Client: client}
	require.NoError(t, intake.Ingest(ctx, shop.ID, "shopmonkey", crm.WebhookEvent{ExternalID: refs[0].ExternalID, Version: 7}))
	// An operator's ingest, as `enqueue ingest` inserts it.
	insertAndWait(t, client, jobs.IngestLeadArgs{TenantID: shop.ID, ExternalID: refs[1].ExternalID, Version: time.Now().UnixNano(),
		SendMessages: true, FoundVia: lead.FoundViaOperator})
	require.Eventually(t, func() bool { return len(foundVia()) == 2 }, 30*time.Second, 20*time.Millisecond)
	// A backfill finds the third; a live poll then finds the fourth, and
	// meets the other three again.
	runPoll(t, b, client, shop, false)
	refs = append(refs, b.addLeads(t, shop, 1)...)
	runPoll(t, b, client, shop, true)

	require.Equal(t, map[string]string{
		refs[0].ExternalID: "webhook", refs[1].ExternalID: "operator", refs[2].ExternalID: "backfill", refs[3].ExternalID: "poll",
	}, foundVia())
}
