package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// webhookResult is webhook-to-text latency at a steady rate: from just
// before the bench posts a signed ShopMonkey order webhook to a replica to
// the Twilio fake accepting that lead's text. No poll takes part: the
// tenants' polls are parked for the run, and PollJobs says none ran.
type webhookResult struct {
	Rate         float64 `json:"webhooks_per_sec"`
	Duration     string  `json:"duration"`
	Tenants      int     `json:"tenants"`
	Replicas     int     `json:"replicas"`
	PollInterval string  `json:"poll_interval"`
	Webhooks     int     `json:"webhooks"`
	// Rejected are posts answered with anything but a 2xx, or not at all;
	// NotTexted are accepted ones whose lead got no text before the wait
	// after the last post ran out.
	Rejected  int      `json:"rejected"`
	NotTexted int      `json:"not_texted"`
	Texted    int      `json:"texted"`
	Failures  []string `json:"failures,omitempty"`
	P50       float64  `json:"p50_seconds"`
	P90       float64  `json:"p90_seconds"`
	P99       float64  `json:"p99_seconds"`
	Max       float64  `json:"max_seconds"`
	// Answer is how long a replica took to answer the webhook (verify,
	// store the delivery, enqueue the ingest), as the sender sees it.
	AnswerP50 float64 `json:"answer_p50_seconds"`
	AnswerP99 float64 `json:"answer_p99_seconds"`
	AnswerMax float64 `json:"answer_max_seconds"`
	// Stages split each texted lead's latency at its jobs' timestamps;
	// they add up to the whole.
	Stages []stageTiming `json:"stages"`
	// IngestJobs, Receipts and PollJobs show the texts came through the
	// webhook route: one ingest_lead and one webhook_receipts row per
	// accepted webhook, and no poll_crm job at all.
	IngestJobs int          `json:"ingest_lead_jobs"`
	Receipts   int          `json:"webhook_receipts"`
	PollJobs   int          `json:"poll_crm_jobs"`
	Jobs       []kindTiming `json:"jobs"`
	HTTP       httpStats    `json:"provider_http"`
	CPU        cpuSplit     `json:"cpu"`
}

// stageTiming is one stage of the webhook-to-text path over the texted
// leads.
type stageTiming struct {
	Stage string  `json:"stage"`
	P50   float64 `json:"p50_seconds"`
	P99   float64 `json:"p99_seconds"`
}

// webhookPollInterval is the webhook tenants' poll interval: a shop with
// webhooks keeps a slow poll as a safety net. The run parks their polls
// further still, so none runs while it lasts.
const webhookPollInterval = time.Hour

// webhookTextWait is how long the run waits after the last post for the
// texts still on their way.
const webhookTextWait = 30 * time.Second

// webhookPost is one webhook the bench sent and what came of it.
type webhookPost struct {
	phone  string
	sentAt time.Time
	answer time.Duration
	err    error
}

func (b *bench) runWebhook(ctx context.Context, res *results) error {
	const dbName = "bench_webhook"
	o, w := b.o, b.o.worker
	b.say("webhook: %.0f webhooks/s for %s over %d tenants (%d replicas, polls parked) ...",
		o.webhookRate, o.webhookDuration, o.webhookTenants, o.webhookReplicas)
	dbURL, pool, cleanup, err := b.db.fresh(ctx, dbName, 4)
	if err != nil {
		return err
	}
	defer cleanup()
	fk, err := startFakes()
	if err != nil {
		return err
	}
	defer fk.close()
	tenants, secrets, err := createWebhookTenants(ctx, pool, fk, o.webhookTenants)
	if err != nil {
		return err
	}

	var addrs []string
	f, err := b.startFleet(ctx, o.webhookReplicas, dbName, func(addr string) []string {
		addrs = append(addrs, addr)
		return w.env(dbURL, fk.urls, addr, w.ScheduleInterval)
	})
	if err != nil {
		return err
	}
	defer f.stop(b.procs)
	if err := waitSettled(ctx, pool); err != nil {
		return err
	}

	client := keepAliveClient()
	defer client.CloseIdleConnections()

	meter := startCPUMeter(f.pids(), b.db.postmasterPID())
	n := int(math.Round(o.webhookRate * o.webhookDuration.Seconds()))
	posts := make([]webhookPost, n)
	every := time.Duration(float64(time.Second) / o.webhookRate)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		if err := sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*every))); err != nil {
			wg.Wait()
			return err
		}
		t := tenants[i%len(tenants)]
		ref, err := t.crm.AddLead(t.CRMLocationID, fakeshopmonkey.LeadSpec{Phone: benchPhone(i), Email: benchEmail(i), CreatedAt: time.Now()})
		if err != nil {
			wg.Wait()
			return fmt.Errorf("error adding lead %d: %w", i, err)
		}
		record, ok := t.crm.Record(t.CRMLocationID, fakeshopmonkey.Order, ref.ID)
		if !ok {
			wg.Wait()
			return fmt.Errorf("lead %d: the fake has no order %s", i, ref.ID)
		}
		// Posts go out on their own goroutines, so a slow answer does not
		// hold back the ones after it: the rate stays what a CRM sends.
		url := webhookurl.URL("http://"+addrs[i%len(addrs)], webhookurl.CRM(sandbox.ProviderShopMonkey, t.ID.String(), ""))
		wg.Go(func() {
			p := &posts[i]
			p.phone = benchPhone(i)
			p.sentAt = time.Now()
			p.err = fakeshopmonkey.PostWebhook(ctx, client, url, secrets[i%len(tenants)], "INSERT", string(fakeshopmonkey.Order), record)
			p.answer = time.Since(p.sentAt)
		})
	}
	wg.Wait()
	return b.webhookFigures(ctx, pool, fk, meter, posts, res)
}

// webhookFigures waits for the posts' texts and makes the run's figures of
// them.
func (b *bench) webhookFigures(ctx context.Context, pool *pgxpool.Pool, fk *fakes, meter *cpuMeter, posts []webhookPost, res *results) error {
	o := b.o
	texted, err := waitWebhookTexts(ctx, fk, posts)
	if err != nil {
		return err
	}
	cpu := meter.stop()

	r := &webhookResult{
		Rate: o.webhookRate, Duration: o.webhookDuration.String(), Tenants: o.webhookTenants, Replicas: o.webhookReplicas,
		PollInterval: webhookPollInterval.String(), Webhooks: len(posts), CPU: cpu, HTTP: fk.stats(),
	}
	sentAt := r.tally(posts, texted)
	if r.Stages, err = webhookStages(ctx, pool, sentAt, texted); err != nil {
		return err
	}
	if err := r.countJobs(ctx, pool); err != nil {
		return err
	}
	res.Webhook = r
	return b.reportWebhook(r)
}

// waitSettled waits until the scheduler's first round has run and the
// fleet is idle, so that neither is part of the figures.
func waitSettled(ctx context.Context, pool *pgxpool.Pool) error {
	if err := waitFirstSchedule(ctx, pool, 15*time.Second); err != nil {
		return err
	}
	return waitQuiet(ctx, pool, 10*time.Second)
}

// keepAliveClient posts the webhooks. A load balancer keeps connections to
// its backends open; so does this client, enough of them that no post
// waits for another.
func keepAliveClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: transport, Timeout: 10 * time.Second}
}

// waitWebhookTexts waits, at most webhookTextWait, until every accepted
// post's lead is texted, and returns when each number was texted.
func waitWebhookTexts(ctx context.Context, fk *fakes, posts []webhookPost) (map[string]time.Time, error) {
	accepted := 0
	for _, p := range posts {
		if p.err == nil {
			accepted++
		}
	}
	return waitTexts(ctx, fk, accepted, time.Now().Add(webhookTextWait), 100*time.Millisecond)
}

// tally counts the posts by outcome and fills the latencies' percentiles;
// it returns when each texted lead's webhook was sent.
func (r *webhookResult) tally(posts []webhookPost, texted map[string]time.Time) (sentAt map[string]time.Time) {
	var lat, answers []float64
	sentAt = map[string]time.Time{}
	for _, p := range posts {
		if p.err != nil {
			r.Rejected++
			if len(r.Failures) < 5 {
				r.Failures = append(r.Failures, fmt.Sprintf("%s: %v", p.phone, p.err))
			}
			continue
		}
		answers = append(answers, p.answer.Seconds())
		at, ok := texted[p.phone]
		if !ok {
			r.NotTexted++
			continue
		}
		sentAt[p.phone] = p.sentAt
		lat = append(lat, at.Sub(p.sentAt).Seconds())
	}
	r.Texted = len(lat)
	slices.Sort(lat)
	slices.Sort(answers)
	r.P50, r.P90, r.P99 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99)
	r.AnswerP50, r.AnswerP99 = percentile(answers, 50), percentile(answers, 99)
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
	}
	if len(answers) > 0 {
		r.AnswerMax = answers[len(answers)-1]
	}
	return sentAt
}

// countJobs counts the run's ingests, polls and webhook receipts, and times
// its jobs by kind.
func (r *webhookResult) countJobs(ctx context.Context, pool *pgxpool.Pool) error {
	if err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM river_job WHERE kind = 'ingest_lead'),
			(SELECT count(*) FROM river_job WHERE kind = 'poll_crm'),
			(SELECT count(*) FROM webhook_receipts WHERE source = 'shopmonkey')`).Scan(&r.IngestJobs, &r.PollJobs, &r.Receipts); err != nil {
		return fmt.Errorf("error counting the run's jobs: %w", err)
	}
	var err error
	r.Jobs, err = jobTimings(ctx, pool)
	return err
}

// reportWebhook says the run's figures, and fails the run if a text came
// through a poll or a webhook led to none.
func (b *bench) reportWebhook(r *webhookResult) error {
	n, cpu := r.Webhooks, r.CPU
	b.say("webhook: p50 %.3fs, p90 %.3fs, p99 %.3fs, max %.3fs (%d of %d webhooks texted; %d rejected, %d accepted but not texted); answered p50 %.3fs, p99 %.3fs; CPU: %s",
		r.P50, r.P90, r.P99, r.Max, r.Texted, n, r.Rejected, r.NotTexted, r.AnswerP50, r.AnswerP99, cpu)
	b.say("  through webhooks: %d ingest_lead jobs, %d webhook receipts, %d poll_crm jobs", r.IngestJobs, r.Receipts, r.PollJobs)
	b.say("  stages: %s", stagesString(r.Stages))
	b.say("  jobs: %s", timingsString(r.Jobs))
	b.say("  provider HTTP: %s", r.HTTP)
	for _, f := range r.Failures {
		b.say("  failed: %s", f)
	}
	switch {
	case r.PollJobs > 0:
		return fmt.Errorf("%d poll_crm jobs ran: some texts may have come through polls", r.PollJobs)
	case r.Texted < n:
		return fmt.Errorf("only %d of %d webhooks led to a text (%d rejected, %d not texted within %s)", r.Texted, n, r.Rejected, r.NotTexted, webhookTextWait)
	}
	return nil
}

// createWebhookTenants creates n ShopMonkey tenants with a webhook signing
// secret each, and parks their polls for a day: the first poll is due
// somewhere in the first interval after creation, and none may run during
// the measurement.
func createWebhookTenants(ctx context.Context, pool *pgxpool.Pool, fk *fakes, n int) ([]benchTenant, []string, error) {
	tenants, err := createTenants(ctx, pool, fk, n, "wh", int(webhookPollInterval/time.Second))
	if err != nil {
		return nil, nil, err
	}
	st := store.New(pool)
	secrets := make([]string, 0, n)
	for _, t := range tenants {
		key := make([]byte, 24)
		_, _ = rand.Read(key) // crypto/rand.Read never fails
		secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
		sealed, err := benchKeys.SealWebhook(t.ID, lead.Secret(secret))
		if err != nil {
			return nil, nil, err
		}
		if err := st.SetTenantWebhookCredentials(ctx, t.ID, &sealed, nil); err != nil {
			return nil, nil, err
		}
		secrets = append(secrets, secret)
	}
	if _, err := pool.Exec(ctx, `UPDATE tenants SET next_poll_at = now() + interval '1 day'`); err != nil {
		return nil, nil, err
	}
	return tenants, secrets, nil
}

// webhookStages splits each texted lead's latency at its ingest_lead and
// send_sms jobs' timestamps (Postgres's clock, the same machine's as the
// bench's): the post until the ingest was enqueued, the ingest's wait and
// its run until it enqueued the text, the text's wait and its run until
// the Twilio fake accepted it.
func webhookStages(ctx context.Context, pool *pgxpool.Pool, sentAt, texted map[string]time.Time) ([]stageTiming, error) {
	rows, err := pool.Query(ctx, `
		SELECT l.phone, i.created_at, i.attempted_at, s.created_at, s.attempted_at
		FROM leads l
		JOIN river_job i ON i.kind = 'ingest_lead' AND i.args->>'tenant_id' = l.tenant_id::text AND i.args->>'external_id' = l.external_id
		JOIN river_job s ON s.kind = 'send_sms' AND s.args->>'lead_id' = l.id::text
		WHERE i.attempted_at IS NOT NULL AND s.attempted_at IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("error reading the leads' jobs: %w", err)
	}
	defer rows.Close()
	names := []string{"post -> ingest enqueued", "ingest queue wait", "ingest run -> text enqueued", "text queue wait", "text run -> accepted"}
	stages := make([][]float64, len(names))
	for rows.Next() {
		var phone string
		var ingestCreated, ingestStarted, smsCreated, smsStarted time.Time
		if err := rows.Scan(&phone, &ingestCreated, &ingestStarted, &smsCreated, &smsStarted); err != nil {
			return nil, err
		}
		sent, ok := sentAt[phone]
		if !ok {
			continue
		}
		marks := []time.Time{sent, ingestCreated, ingestStarted, smsCreated, smsStarted, texted[phone]}
		for k := range names {
			stages[k] = append(stages[k], marks[k+1].Sub(marks[k]).Seconds())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]stageTiming, len(names))
	for k, name := range names {
		slices.Sort(stages[k])
		out[k] = stageTiming{Stage: name, P50: percentile(stages[k], 50), P99: percentile(stages[k], 99)}
	}
	return out, nil
}

func stagesString(ss []stageTiming) string {
	parts := make([]string, 0, len(ss))
	for _, st := range ss {
		parts = append(parts, fmt.Sprintf("%s p50 %.1fms p99 %.1fms", st.Stage, 1000*st.P50, 1000*st.P99))
	}
	return strings.Join(parts, "; ")
}
