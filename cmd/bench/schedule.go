package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// scheduleResult is the lag of live polls of many tenants: when each
// poll_crm job started (river_job.attempted_at) minus the tenant's due
// time (its next_poll_at when the scheduler claimed it).
//
// Method: the bench adds, in its own clone of the database only, a trigger
// that copies a tenant's old next_poll_at (its due time) into
// bench_poll_claims, with the claim transaction's now(), whenever the
// scheduler moves it on. The poll job inserted in that transaction is the
// tenant's first poll_crm created at or after the claim (River stamps
// created_at with the inserting client's clock, a moment later) and within
// half an interval; that pairs them. A claim without a job is a poll the
// unique live-poll rule absorbed (the tenant's previous poll had not run
// yet); a job not started by the end counts with the lag it had then.
type scheduleResult struct {
	Tenants          int      `json:"tenants"`
	Interval         string   `json:"poll_interval"`
	Duration         string   `json:"duration"`
	Replicas         int      `json:"replicas"`
	ScheduleInterval string   `json:"schedule_interval"`
	Claims           int      `json:"polls_due"`
	Started          int      `json:"polls_started"`
	NotStarted       int      `json:"polls_not_started"`
	Absorbed         int      `json:"polls_absorbed_by_unique"`
	PollsPerSec      float64  `json:"polls_started_per_sec"`
	P50              float64  `json:"lag_p50_seconds"`
	P99              float64  `json:"lag_p99_seconds"`
	Max              float64  `json:"lag_max_seconds"`
	ClaimP50         float64  `json:"due_to_claimed_p50_seconds"`
	ClaimP99         float64  `json:"due_to_claimed_p99_seconds"`
	QueueP50         float64  `json:"claimed_to_started_p50_seconds"`
	QueueP99         float64  `json:"claimed_to_started_p99_seconds"`
	CPU              cpuSplit `json:"cpu"`
}

const claimTriggerSQL = `
CREATE TABLE bench_poll_claims (
	tenant_id  uuid NOT NULL,
	due        timestamptz NOT NULL,
	claimed_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION bench_record_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO bench_poll_claims (tenant_id, due) VALUES (OLD.id, OLD.next_poll_at);
	RETURN NEW;
END $$;
CREATE TRIGGER bench_record_claim AFTER UPDATE OF next_poll_at ON tenants
	FOR EACH ROW WHEN (OLD.next_poll_at IS DISTINCT FROM NEW.next_poll_at)
	EXECUTE FUNCTION bench_record_claim();`

func (b *bench) runSchedule(ctx context.Context, res *results) error {
	const dbName = "bench_schedule"
	o, w := b.o, b.o.worker
	b.say("schedule lag: %d tenants every %s for %s (%d replicas, schedule interval %s) ...",
		o.schedTenants, o.schedInterval, o.schedDuration, o.schedReplicas, w.ScheduleInterval)
	dbURL, pool, cleanup, err := b.db.fresh(ctx, dbName, 4)
	if err != nil {
		return err
	}
	defer cleanup()
	if _, err := pool.Exec(ctx, claimTriggerSQL); err != nil {
		return fmt.Errorf("error adding the claim trigger: %w", err)
	}
	fk, err := startFakes()
	if err != nil {
		return err
	}
	defer fk.close()
	for i := range o.schedTenants {
		fk.ShopMonkey.AddLocation(fmt.Sprintf("sm_key_sched-%d", i), fmt.Sprintf("loc-sched-%d", i))
	}

	f, err := b.startFleet(ctx, o.schedReplicas, dbName, func(addr string) []string {
		return w.env(dbURL, fk.urls, addr, w.ScheduleInterval)
	})
	if err != nil {
		return err
	}
	defer f.stop(b.procs)

	// The tenants arrive once the fleet is up, due from two seconds on.
	firstDue := time.Now().Add(2 * time.Second)
	if err := b.insertSchedTenants(ctx, pool, firstDue); err != nil {
		return err
	}
	meter := startCPUMeter(f.pids(), b.db.postmasterPID())
	end := firstDue.Add(o.schedDuration)
	if err := sleepCtx(ctx, time.Until(end)); err != nil {
		return err
	}
	cpu := meter.stop()

	r := &scheduleResult{
		Tenants: o.schedTenants, Interval: o.schedInterval.String(), Duration: o.schedDuration.String(),
		Replicas: o.schedReplicas, ScheduleInterval: w.ScheduleInterval.String(), CPU: cpu,
	}
	polls, err := pairClaims(ctx, pool, end, o.schedInterval/2)
	if err != nil {
		return err
	}
	r.tally(polls, end)
	r.PollsPerSec = float64(r.Started) / time.Since(firstDue).Seconds()
	res.Schedule = r
	b.say("schedule lag: p50 %.2fs, p99 %.2fs, max %.2fs over %d polls due (%d started, %d not started by the end, %d absorbed); due->claimed p99 %.2fs, claimed->started p99 %.2fs; CPU: %s",
		r.P50, r.P99, r.Max, r.Claims, r.Started, r.NotStarted, r.Absorbed, r.ClaimP99, r.QueueP99, cpu)
	if r.Claims == 0 {
		return fmt.Errorf("no poll was claimed: is the scheduler running? (see %s)", f.workers[0].logPath)
	}
	return nil
}

// insertSchedTenants inserts the run's tenants, due from firstDue on, spread
// evenly over one interval.
func (b *bench) insertSchedTenants(ctx context.Context, pool *pgxpool.Pool, firstDue time.Time) error {
	o := b.o
	spread := float64(o.schedInterval.Microseconds()) / float64(o.schedTenants)
	if _, err := pool.Exec(ctx, `
		INSERT INTO tenants (name, crm_kind, crm_location_id, crm_api_key, time_zone, poll_interval_seconds,
			poll_cursor, next_poll_at, sms_from, email_from, email_from_name, enabled)
		SELECT 'sched-shop-' || lpad(i::text, 6, '0'), 'shopmonkey', 'loc-sched-' || i, 'sm_key_sched-' || i, 'UTC', $1,
			now(), $2::timestamptz + make_interval(secs => i * $3::float8 / 1e6), '+15125550100',
			'service@sched' || i || '.example.com', 'Shop ' || i, true
		FROM generate_series(0, $4::int - 1) AS i`,
		int(o.schedInterval/time.Second), firstDue, spread, o.schedTenants); err != nil {
		return fmt.Errorf("error inserting tenants: %w", err)
	}
	return nil
}

// tally counts the claimed polls by outcome and fills the lags'
// percentiles; a poll not started by end counts with the lag it had then.
func (r *scheduleResult) tally(polls []claimedPoll, end time.Time) {
	var lags, claims, queues []float64
	for _, p := range polls {
		r.Claims++
		claim := p.claimedAt.Sub(p.due).Seconds()
		claims = append(claims, claim)
		switch {
		case p.created.IsZero():
			r.Absorbed++
		case p.attempted.IsZero():
			r.NotStarted++
			lags = append(lags, end.Sub(p.due).Seconds())
		default:
			r.Started++
			queues = append(queues, p.attempted.Sub(p.claimedAt).Seconds())
			lags = append(lags, p.attempted.Sub(p.due).Seconds())
		}
	}
	slices.Sort(lags)
	slices.Sort(claims)
	slices.Sort(queues)
	r.P50, r.P99 = percentile(lags, 50), percentile(lags, 99)
	if len(lags) > 0 {
		r.Max = lags[len(lags)-1]
	}
	r.ClaimP50, r.ClaimP99 = percentile(claims, 50), percentile(claims, 99)
	r.QueueP50, r.QueueP99 = percentile(queues, 50), percentile(queues, 99)
}

// claimedPoll is one claim of a tenant by the scheduler and the poll job
// it inserted (zero times when there is none, or it has not started).
type claimedPoll struct {
	due, claimedAt     time.Time
	created, attempted time.Time
}

// pairClaims pairs each claim up to end with its tenant's first poll_crm
// job created within window after it.
func pairClaims(ctx context.Context, pool *pgxpool.Pool, end time.Time, window time.Duration) ([]claimedPoll, error) {
	type job struct {
		created, attempted time.Time
		used               bool
	}
	jobs := map[string][]*job{}
	rows, err := pool.Query(ctx, `
		SELECT args->>'tenant_id', created_at, coalesce(attempted_at, 'epoch')
		FROM river_job WHERE kind = 'poll_crm' ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var tenant string
		j := &job{}
		if err := rows.Scan(&tenant, &j.created, &j.attempted); err != nil {
			rows.Close()
			return nil, err
		}
		if j.attempted.Unix() == 0 {
			j.attempted = time.Time{}
		}
		jobs[tenant] = append(jobs[tenant], j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = pool.Query(ctx, `
		SELECT tenant_id::text, due, claimed_at FROM bench_poll_claims
		WHERE claimed_at <= $1 ORDER BY claimed_at`, end)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []claimedPoll
	for rows.Next() {
		var tenant string
		var p claimedPoll
		if err := rows.Scan(&tenant, &p.due, &p.claimedAt); err != nil {
			return nil, err
		}
		for _, j := range jobs[tenant] {
			if j.used || j.created.Before(p.claimedAt) {
				continue
			}
			if j.created.Before(p.claimedAt.Add(window)) {
				j.used = true
				p.created, p.attempted = j.created, j.attempted
			}
			break
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
