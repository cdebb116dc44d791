package jobs_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// addTekmetricShop creates a Tekmetric shop in the fake and its tenant,
// with its own sender identity and text template.
func (b *testBundle) addTekmetricShop(t *testing.T, name string, shopID int64, mutate func(*lead.Tenant)) lead.Tenant {
	t.Helper()
	clientID, secret := "client-"+name, "tm_secret_"+name
	require.NoError(t, b.sandbox.Tekmetric.AddShop(shopID, "America/Denver", clientID, secret))
	tenant := fixture.TekmetricTenant(name, shopID,
		func(t *lead.Tenant) { t.CRMClientID = clientID },
		fixture.PollEvery(5*time.Second), fixture.Senders("+15005550009", "desk@"+name+".example.com"),
		func(t *lead.Tenant) {
			t.Templates = lead.Templates{SMS: "{{.Shop.Name}} here: thanks {{.Lead.FirstName}}, we saw your {{.Vehicle.Name}} request. Reply STOP to opt out."}
		},
		fixture.Unlimited, fixture.SendAnyTime)
	if mutate != nil {
		mutate(&tenant)
	}
	return fixture.Create(t, b.store, b.keys, tenant, secret)
}

func (b *testBundle) addTekmetricLeads(t *testing.T, shopID int64, n int) {
	t.Helper()
	for range n {
		_, err := b.sandbox.Tekmetric.AddLead(shopID, faketekmetric.LeadSpec{})
		require.NoError(t, err)
	}
}

// syncBuffer collects a logger's output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestTwoCRMsOneFleet: a ShopMonkey shop and a Tekmetric shop served by the
// same two replicas. Each shop's leads are ingested and messaged with its
// own sender and template, nothing crosses between them, and no secret
// either shop configured appears anywhere in the debug logs of the run.
func TestTwoCRMsOneFleet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var logs syncBuffer
	b.deps.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	maple := b.addShop(t, "maple")
	const oakShop = 238
	oak := b.addTekmetricShop(t, "oak", oakShop, nil)
	b.addLeads(t, maple, 6)
	b.addTekmetricLeads(t, oakShop, 6)
	appt, err := b.sandbox.Tekmetric.AddLead(oakShop, faketekmetric.LeadSpec{Kind: "appointment", LeadSource: "Website"})
	require.NoError(t, err)

	opts := jobs.ClientOpts{ScheduleInterval: time.Second}
	b.startClient(t, opts)
	b.startClient(t, opts)

	require.Eventually(t, func() bool {
		st := b.sandbox.Stats()
		return st.SMS >= 13 && st.Emails >= 13
	}, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return b.unrecordedRuns(t) == 0 }, 10*time.Second, 50*time.Millisecond)

	require.Equal(t, 6, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND crm = 'shopmonkey'`, maple.ID))
	require.Equal(t, 7, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND crm = 'tekmetric'`, oak.ID))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND external_id = $2 AND source = 'appointment'`,
		oak.ID, appt.ExternalID))

	// Each text and email carries its own shop's identity and words.
	byShop := map[string]int{}
	for _, m := range b.sandbox.Twilio.Messages() {
		switch m.From {
		case maple.SMSFrom:
			require.Contains(t, m.Body, "maple got your request", "the fleet template, for maple")
			require.NotContains(t, m.Body, "oak")
			byShop["maple"]++
		case oak.SMSFrom:
			require.True(t, strings.HasPrefix(m.Body, "oak here: thanks "), "oak's own template: %q", m.Body)
			byShop["oak"]++
		default:
			t.Fatalf("a text from an unknown sender %s", m.From)
		}
	}
	require.Equal(t, map[string]int{"maple": 6, "oak": 7}, byShop)
	for _, e := range b.sandbox.SendGrid.Emails() {
		switch e.CustomArgs["tenant_id"] {
		case maple.ID.String():
			require.Equal(t, maple.EmailFrom, e.From)
		case oak.ID.String():
			require.Equal(t, oak.EmailFrom, e.From)
			require.Equal(t, "oak", e.FromName)
		default:
			t.Fatalf("an email of an unknown tenant %q", e.CustomArgs["tenant_id"])
		}
	}
	// Nothing of one shop points at the other's rows.
	require.Zero(t, b.count(t, `SELECT count(*) FROM messages m JOIN leads l ON l.id = m.lead_id WHERE l.tenant_id <> m.tenant_id`))
	require.Zero(t, b.count(t, `SELECT count(*) FROM job_executions e JOIN leads l ON l.id = e.lead_id WHERE l.tenant_id <> e.tenant_id`))
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE state IN ('retryable', 'discarded', 'cancelled')`))

	// The Tekmetric token was fetched once and reused by both replicas.
	tokens := 0
	for _, r := range b.sandbox.Tekmetric.Requests() {
		if strings.HasSuffix(r.Path, "/oauth/token") {
			tokens++
		}
	}
	require.Equal(t, 1, tokens, "token requests")

	// No secret reaches the logs: neither shop's CRM secret, nor the key
	// that seals them.
	out := logs.String()
	require.NotEmpty(t, out)
	for _, secret := range []string{"sm_key_maple", "tm_secret_oak", b.keySpec[strings.Index(b.keySpec, "=")+1:]} {
		require.NotContains(t, out, secret)
	}
}

// requestsWithin reports the most requests seen in any window of d.
func requestsWithin(at []time.Time, d time.Duration) int {
	most, j := 0, 0
	for i := range at {
		for at[i].Sub(at[j]) > d {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// TestFairnessRateLimitAcrossReplicas: a shop's CRM calls stay within its
// rate limit counted across replicas. Two replicas ingest 30 leads (93
// requests) for a shop allowed 240 a minute (a burst of 60, then 4 a
// second): without a shared budget they would make them all at once.
func TestFairnessRateLimitAcrossReplicas(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const shopID = 77
	b.addTekmetricShop(t, "elm", shopID, func(tn *lead.Tenant) { tn.CRMRateLimit = 240 })
	b.addTekmetricLeads(t, shopID, 30)

	opts := jobs.ClientOpts{ScheduleInterval: time.Second}
	b.startClient(t, opts)
	b.startClient(t, opts)
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS >= 30 }, 60*time.Second, 100*time.Millisecond)

	var at []time.Time
	for _, r := range b.sandbox.Tekmetric.Requests() {
		at = append(at, r.At)
	}
	require.GreaterOrEqual(t, len(at), 93)
	// The burst, then the rate: no second ever saw more than the burst
	// plus one second's refill, and the whole took at least as long as
	// the rate allows.
	require.LessOrEqual(t, requestsWithin(at, time.Second), 60+4+1, "requests in the busiest second")
	took := at[len(at)-1].Sub(at[0])
	require.GreaterOrEqual(t, took, time.Duration(float64(len(at)-60-1)/4*float64(time.Second)), "the requests beyond the burst went at 4 a second")
	// The fake's own limit (300 a minute) was never hit: the shop kept to
	// its budget instead of learning it from 429s.
	require.Zero(t, b.count(t, `SELECT count(*) FROM job_executions WHERE outcome = 'error'`))
}

// TestFairnessTroubledShopDoesNotDelayOthers: one shop's CRM answers
// every request with an empty-bodied 429 (Tekmetric's), or is down (every
// request hangs until it times out); another shop's leads are still texted
// promptly. Throttled jobs snooze, giving their worker back, and a hung
// shop holds at most its own few jobs' workers.
func TestFairnessTroubledShopDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault fake.Fault
		// outcome is what the troubled shop's polls record.
		outcome string
	}{
		{"RateLimited", fake.Fault{Status: 429, EmptyBody: true}, "snoozed"},
		// A request that times out ends the run as a timeout.
		{"Down", fake.Fault{Hang: time.Minute}, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.addTekmetricShop(t, "troubled", 11, nil)
			b.addTekmetricLeads(t, 11, 5)
			b.sandbox.Tekmetric.AddFault(tc.fault)

			healthy := b.addShop(t, "healthy")
			b.addLeads(t, healthy, 10)

			opts := jobs.ClientOpts{ScheduleInterval: time.Second,
				MaxWorkers: map[string]int{jobs.QueueCRM: 2, jobs.QueueCRMBackfill: 1, jobs.QueueSMS: 5, jobs.QueueEmail: 5, jobs.QueueBookkeeping: 5}}
			b.startClient(t, opts)
			start := time.Now()
			require.Eventually(t, func() bool { return b.sandbox.Stats().SMS >= 10 }, 20*time.Second, 50*time.Millisecond)
			t.Logf("healthy shop's 10 leads texted in %s while the other shop's CRM was %s", time.Since(start), tc.name)

			require.Eventually(t, func() bool {
				return b.count(t, `SELECT count(*) FROM job_executions WHERE kind = 'poll_crm' AND outcome = $1`, tc.outcome) > 0
			}, 20*time.Second, 50*time.Millisecond, "the troubled shop's polls were tried and %s", tc.outcome)
			require.Zero(t, b.count(t, `SELECT count(*) FROM leads WHERE crm = 'tekmetric'`))
			if tc.outcome == "snoozed" {
				require.Zero(t, b.count(t, `SELECT count(*) FROM job_executions WHERE kind = 'poll_crm' AND outcome = 'error'`),
					"a 429 is not a failure")
			}
		})
	}
}

// TestFairnessBackfillDoesNotDelayLive: a large backfill for one shop
// (hundreds of windows against a slow CRM) is running when another shop's
// live lead arrives; the live lead is texted promptly, because backfills
// have their own queue and workers.
func TestFairnessBackfillDoesNotDelayLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const slowShop = 21
	b.addTekmetricShop(t, "historic", slowShop, nil)
	b.sandbox.Tekmetric.AddFault(fake.Fault{Latency: 3 * time.Second})
	live := b.addShop(t, "live")

	opts := jobs.ClientOpts{ScheduleInterval: time.Second,
		MaxWorkers: map[string]int{jobs.QueueCRM: 4, jobs.QueueCRMBackfill: 4, jobs.QueueSMS: 5, jobs.QueueEmail: 5, jobs.QueueBookkeeping: 5}}
	client := b.startClient(t, opts)

	historic, err := b.store.FleetFindTenant(ctx, "historic")
	require.NoError(t, err)
	end := time.Now().Add(-time.Hour)
	var windows []river.InsertManyParams
	for i := range 400 {
		until := end.Add(-time.Duration(i) * time.Hour)
		windows = append(windows, river.InsertManyParams{Args: jobs.PollCRMArgs{
			TenantID: historic.ID, Since: until.Add(-time.Hour), Until: until}})
	}
	backfillStart := time.Now()
	_, err = client.InsertMany(ctx, windows)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'poll_crm' AND NOT (args->>'live')::boolean AND state = 'running'`) > 0
	}, 10*time.Second, 20*time.Millisecond, "the backfill is running")

	b.addLeads(t, live, 1)
	start := time.Now()
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS >= 1 }, 15*time.Second, 20*time.Millisecond)
	took := time.Since(start)
	left := b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'poll_crm' AND NOT (args->>'live')::boolean AND state IN ('available', 'running')`)
	t.Logf("live lead texted %s after it appeared, with %d backfill windows still to go", took, left)
	require.Positive(t, left, "the backfill was still going when the live lead was texted")
	// The live shop's CRM jobs never waited for a worker: sharing workers
	// with the backfill, even at a higher priority, the live poll and then
	// its ingest would each wait seconds for a slow window to free one.
	// Nor did the scheduler that starts every live poll.
	var waited float64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(max(extract(epoch FROM attempted_at - scheduled_at)), 0)
		FROM river_job WHERE attempted_at IS NOT NULL AND scheduled_at >= $2
		AND (kind = 'schedule_polls' OR args->>'tenant_id' = $1 AND kind IN ('poll_crm', 'ingest_lead'))`,
		live.ID.String(), backfillStart).Scan(&waited))
	t.Logf("live CRM work waited at most %.3fs for a worker", waited)
	require.Less(t, waited, 1.0)
	require.Less(t, took, 10*time.Second)
}

// TestTenantChangeAppliesWithoutRestart: an operator's change of a shop's
// settings (sender, template) reaches the next lead with the same
// replicas running, nothing restarted.
func TestTenantChangeAppliesWithoutRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "birch")
	b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Second})

	b.addLeads(t, shop, 1)
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 }, 15*time.Second, 20*time.Millisecond)

	shop.SMSFrom = "+15005550010"
	shop.Templates.SMS = "Birch Auto (new number): hi {{.Lead.FirstName}}. Reply STOP to opt out"
	_, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)
	b.addLeads(t, shop, 1)
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 2 }, 15*time.Second, 20*time.Millisecond)

	msgs := b.sandbox.Twilio.Messages()
	require.Equal(t, "+15005550006", msgs[0].From)
	require.Equal(t, "+15005550010", msgs[1].From, "the new sender, with no restart")
	require.True(t, strings.HasPrefix(msgs[1].Body, "Birch Auto (new number): hi "), msgs[1].Body)
}
