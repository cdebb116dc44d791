package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// TestPipeline runs the whole path of a lead with two River clients (two
// replicas) against the sandbox: N leads in the CRM become exactly N lead
// rows, N texts and N emails at the providers, and every run of every job
// has one execution row.
func TestPipeline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shop := b.addShop(t, "maple")
	const first, second = 30, 20
	b.addLeads(t, shop, first)

	opts := jobs.ClientOpts{ScheduleInterval: time.Second}
	b.startClient(t, opts)
	b.startClient(t, opts)

	waitFor := func(leads int) {
		require.Eventually(t, func() bool {
			st := b.sandbox.Stats()
			return st.SMS >= leads && st.Emails >= leads
		}, 30*time.Second, 50*time.Millisecond, "texts and emails for %d leads", leads)
	}
	waitFor(first)

	// Leads that arrive later are found by the next scheduled poll, whose
	// window overlaps the last one: still one row and one message each.
	b.addLeads(t, shop, second)
	waitFor(first + second)
	total := first + second

	require.Eventually(t, func() bool { return b.unrecordedRuns(t) == 0 }, 10*time.Second, 50*time.Millisecond)
	// Let two more scheduled polls overlap the same windows, then let what
	// they found run to the end: only then can a duplicate be ruled out.
	var mark int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM river_job`).Scan(&mark))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'poll_crm' AND state = 'completed' AND id > $1`, mark) >= 2
	}, 30*time.Second, 50*time.Millisecond, "two more scheduled polls")
	b.settled(t, "ingest_lead", "send_sms", "send_email")

	require.Equal(t, total, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
	st := b.sandbox.Stats()
	require.Equal(t, total, st.SMS, "texts at Twilio")
	require.Equal(t, total, st.Emails, "emails at SendGrid")

	// Each lead got exactly one text, to its own number, from the shop.
	seen := map[string]int{}
	for _, m := range b.sandbox.Twilio.Messages() {
		seen[m.To]++
		require.Equal(t, "+15005550006", m.From)
		require.True(t, strings.Contains(m.Body, "maple got your request"), m.Body)
	}
	require.Len(t, seen, total)
	for to, n := range seen {
		require.Equal(t, 1, n, "texts to %s", to)
	}
	for _, e := range b.sandbox.SendGrid.Emails() {
		require.Equal(t, shop.ID.String(), e.CustomArgs["tenant_id"])
		require.Equal(t, "service@maple.example.com", e.From)
	}
	require.Equal(t, 2*total, b.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND status = 'sent' AND provider_id IS NOT NULL`, shop.ID))
	require.Equal(t, total, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND status = 'contacted'`, shop.ID))

	// Every run recorded: nothing finished lacks its rows, and every kind
	// of the path left rows.
	require.Eventually(t, func() bool { return b.unrecordedRuns(t) == 0 }, 10*time.Second, 50*time.Millisecond)
	for _, kind := range []string{"schedule_polls", "poll_crm", "ingest_lead", "send_sms", "send_email"} {
		require.Positive(t, b.count(t, `SELECT count(*) FROM job_executions WHERE kind = $1`, kind), kind)
	}
	require.Equal(t, total, b.count(t, `SELECT count(*) FROM job_executions WHERE kind = 'ingest_lead' AND outcome = 'completed' AND tenant_id = $1`, shop.ID))
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE state IN ('retryable', 'discarded', 'cancelled')`))
	// A completed run writes its row in its own transaction: a clean run
	// needs no recording jobs at all.
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'record_job_execution'`))
}

// TestMalformedRecord: one bad record cancels its own ingest job with the
// record and field named in the execution row; the other leads of the
// window go on.
func TestMalformedRecord(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shop := b.addShop(t, "oak")
	b.addLeads(t, shop, 3)
	now := time.Now().UTC().Format(time.RFC3339)
	badID, err := b.sandbox.ShopMonkey.AddRaw(shop.CRMLocationID, fakeshopmonkey.Order, json.RawMessage(fmt.Sprintf(
		`{"id":"o-bad","status":"Estimate","locationId":%q,"createdDate":%q,"updatedDate":%q,"meta":{"version":1}}`,
		shop.CRMLocationID, now, now)))
	require.NoError(t, err)

	b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Second})

	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM job_executions WHERE kind = 'ingest_lead' AND outcome = 'cancelled'`) == 1 &&
			b.sandbox.Stats().SMS == 3
	}, 30*time.Second, 50*time.Millisecond)

	var errText string
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT error FROM job_executions WHERE kind = 'ingest_lead' AND outcome = 'cancelled'`).Scan(&errText))
	require.Contains(t, errText, "order "+badID)
	require.Contains(t, errText, "customerId")
	require.Equal(t, 3, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
	// Cancelled, not retried: exactly one run. (River marks the state
	// just after the run returns, so wait for it.)
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND state = 'cancelled' AND attempt = 1`) == 1
	}, 5*time.Second, 20*time.Millisecond)
}

// TestBadPhoneNumber: a lead whose phone number is not one is kept, named
// in contact_problem, emailed and not texted.
func TestBadPhoneNumber(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shop := b.addShop(t, "elm")
	ref, err := b.sandbox.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{Phone: "call me maybe", Email: "pat@example.com"})
	require.NoError(t, err)
	b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Second})

	require.Eventually(t, func() bool { return b.sandbox.Stats().Emails == 1 }, 30*time.Second, 50*time.Millisecond)
	var problem, phone string
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`SELECT contact_problem, phone FROM leads WHERE tenant_id = $1 AND external_id = $2`, shop.ID, ref.ExternalID).Scan(&problem, &phone))
	require.Contains(t, problem, "customer.phone")
	require.Empty(t, phone)
	require.Empty(t, b.sandbox.Twilio.Messages())
}
