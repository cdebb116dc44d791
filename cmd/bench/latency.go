package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// latencyResult is lead-to-text latency at a steady rate: from the lead's
// CreatedAt in the CRM fake to the Twilio fake accepting its text.
type latencyResult struct {
	Rate             float64 `json:"leads_per_sec"`
	Duration         string  `json:"duration"`
	Tenants          int     `json:"tenants"`
	Replicas         int     `json:"replicas"`
	PollInterval     string  `json:"poll_interval"`
	ScheduleInterval string  `json:"schedule_interval"`
	Leads            int     `json:"leads"`
	Texted           int     `json:"texted"`
	P50              float64 `json:"p50_seconds"`
	P90              float64 `json:"p90_seconds"`
	P99              float64 `json:"p99_seconds"`
	Max              float64 `json:"max_seconds"`
	// Pipeline is the part after the poll that found the lead was claimed
	// by the scheduler (the poll window's end): poll, ingest and text. The
	// rest is waiting for the tenant's next due poll and the scheduler's
	// tick.
	PipelineP50 float64      `json:"claim_to_text_p50_seconds"`
	PipelineP99 float64      `json:"claim_to_text_p99_seconds"`
	Jobs        []kindTiming `json:"jobs"`
	HTTP        httpStats    `json:"provider_http"`
	CPU         cpuSplit     `json:"cpu"`
}

func (b *bench) runLatency(ctx context.Context, res *results) error {
	const dbName = "bench_latency"
	o, w := b.o, b.o.worker
	pollInterval := time.Duration(w.PollIntervalSecs) * time.Second
	b.say("latency: %.0f leads/s for %s over %d tenants (poll interval %s, schedule interval %s, %d replicas) ...",
		o.latRate, o.latDuration, o.latTenants, pollInterval, w.ScheduleInterval, o.latReplicas)
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
	tenants, err := createTenants(ctx, pool, fk, o.latTenants, "lat", w.PollIntervalSecs)
	if err != nil {
		return err
	}
	if err := spreadDueTimes(ctx, pool, pollInterval, len(tenants)); err != nil {
		return err
	}
	f, err := b.startFleet(ctx, o.latReplicas, dbName, func(addr string) []string {
		return w.env(dbURL, fk.urls, addr, w.ScheduleInterval)
	})
	if err != nil {
		return err
	}
	defer f.stop(b.procs)
	// Let every tenant be polled once or twice before the first lead, so
	// connections and caches are warm as in a fleet that has been running.
	if err := sleepCtx(ctx, pollInterval+w.ScheduleInterval); err != nil {
		return err
	}

	meter := startCPUMeter(f.pids(), b.db.postmasterPID())
	created := map[string]arrival{}
	every := time.Duration(float64(time.Second) / o.latRate)
	n := int(math.Round(o.latRate * o.latDuration.Seconds()))
	start := time.Now()
	for i := range n {
		if err := sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*every))); err != nil {
			return err
		}
		t := tenants[i%len(tenants)]
		now := time.Now()
		if _, err := t.crm.AddLead(t.CRMLocationID, fakeshopmonkey.LeadSpec{Phone: benchPhone(i), Email: benchEmail(i), CreatedAt: now}); err != nil {
			return fmt.Errorf("error adding lead %d: %w", i, err)
		}
		created[benchPhone(i)] = arrival{at: now, tenant: t.ID.String()}
	}
	// Wait for the last leads' texts: a poll interval, a scheduler tick and
	// then some.
	texted, err := waitTexts(ctx, fk, n, time.Now().Add(pollInterval+w.ScheduleInterval+30*time.Second), 200*time.Millisecond)
	if err != nil {
		return err
	}
	cpu := meter.stop()
	timings, err := jobTimings(ctx, pool)
	if err != nil {
		return err
	}
	polls, err := livePollEnds(ctx, pool)
	if err != nil {
		return err
	}
	lat, pipe := latencies(created, texted, polls)
	r := b.latencyFigures(n, lat, pipe)
	r.CPU, r.Jobs, r.HTTP = cpu, timings, fk.stats()
	res.Latency = r
	b.say("latency: p50 %.2fs, p90 %.2fs, p99 %.2fs, max %.2fs (%d of %d leads texted); from the poll's claim to the text p50 %.2fs, p99 %.2fs; CPU: %s",
		r.P50, r.P90, r.P99, r.Max, r.Texted, r.Leads, r.PipelineP50, r.PipelineP99, cpu)
	b.say("  jobs: %s", timingsString(timings))
	b.say("  provider HTTP: %s", r.HTTP)
	if r.Texted < n {
		return fmt.Errorf("only %d of %d leads were texted", r.Texted, n)
	}
	return nil
}

// latencyFigures is the run's settings and its latencies' percentiles.
func (b *bench) latencyFigures(n int, lat, pipe []float64) *latencyResult {
	o, w := b.o, b.o.worker
	r := &latencyResult{
		Rate: o.latRate, Duration: o.latDuration.String(), Tenants: o.latTenants, Replicas: o.latReplicas,
		PollInterval: (time.Duration(w.PollIntervalSecs) * time.Second).String(), ScheduleInterval: w.ScheduleInterval.String(),
		Leads: n, Texted: len(lat), P50: percentile(lat, 50), P90: percentile(lat, 90), P99: percentile(lat, 99),
		PipelineP50: percentile(pipe, 50), PipelineP99: percentile(pipe, 99),
	}
	if len(lat) > 0 {
		r.Max = lat[len(lat)-1]
	}
	return r
}

// spreadDueTimes spreads the tenants' due times over one poll interval, as
// a fleet's are after a while: tenants created together would otherwise all
// be polled in the same scheduler tick, and their leads would arrive at the
// workers in one burst every interval.
func spreadDueTimes(ctx context.Context, pool *pgxpool.Pool, pollInterval time.Duration, tenants int) error {
	_, err := pool.Exec(ctx, `
		UPDATE tenants t SET next_poll_at = now() + make_interval(secs => s.i * $1::float8 / $2::float8)
		FROM (SELECT id, row_number() OVER (ORDER BY name) - 1 AS i FROM tenants) s
		WHERE t.id = s.id`, pollInterval.Seconds(), tenants)
	return err
}

// arrival is when a latency lead appeared in its tenant's CRM.
type arrival struct {
	at     time.Time
	tenant string
}

// waitTexts waits until the Twilio fake has n texts or deadline passes,
// looking every so often, and returns when each number was texted.
func waitTexts(ctx context.Context, fk *fakes, n int, deadline time.Time, every time.Duration) (map[string]time.Time, error) {
	for {
		texted := fk.textTimes()
		if len(texted) >= n || time.Now().After(deadline) {
			return texted, nil
		}
		if err := sleepCtx(ctx, every); err != nil {
			return nil, err
		}
	}
}

// latencies are, sorted, each texted lead's seconds from appearing to its
// text (lat) and from the claim of the poll that found it to its text
// (pipe).
func latencies(created map[string]arrival, texted map[string]time.Time, polls map[string][]time.Time) (lat, pipe []float64) {
	for phone, a := range created {
		sent, ok := texted[phone]
		if !ok {
			continue
		}
		lat = append(lat, sent.Sub(a.at).Seconds())
		// The first live poll of the tenant whose window ended after the
		// lead appeared is the one that found it.
		ends := polls[a.tenant]
		if i, _ := slices.BinarySearchFunc(ends, a.at, func(e, t time.Time) int { return e.Compare(t) }); i < len(ends) {
			pipe = append(pipe, sent.Sub(ends[i]).Seconds())
		}
	}
	slices.Sort(lat)
	slices.Sort(pipe)
	return lat, pipe
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank-1, 0), len(sorted)-1)]
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// livePollEnds returns, per tenant id, the window ends of its live polls in
// order: each is the scheduler's clock when it claimed the tenant.
func livePollEnds(ctx context.Context, pool *pgxpool.Pool) (map[string][]time.Time, error) {
	rows, err := pool.Query(ctx, `
		SELECT args->>'tenant_id', (args->>'until')::timestamptz
		FROM river_job WHERE kind = 'poll_crm' AND (args->>'live')::boolean
		ORDER BY 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]time.Time{}
	for rows.Next() {
		var tenant string
		var until time.Time
		if err := rows.Scan(&tenant, &until); err != nil {
			return nil, err
		}
		out[tenant] = append(out[tenant], until)
	}
	return out, rows.Err()
}
