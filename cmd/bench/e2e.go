package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// e2eResult is one end-to-end run.
type e2eResult struct {
	Replicas int `json:"replicas"`
	Leads    int `json:"leads"`
	Tenants  int `json:"tenants"`
	// Seconds runs from inserting the polls to the last job finalised
	// (every lead texted and emailed, every run of every job recorded).
	Seconds     float64 `json:"seconds"`
	LeadsPerSec float64 `json:"leads_per_sec"`
	// MessagesSeconds is until the fakes had every text and email.
	MessagesSeconds float64        `json:"messages_seconds"`
	Jobs            int            `json:"jobs"`
	JobsPerSec      float64        `json:"jobs_per_sec"`
	JobsByKind      map[string]int `json:"jobs_by_kind"`
	Texts           int            `json:"texts"`
	Emails          int            `json:"emails"`
	LeadsStored     int            `json:"leads_stored"`
	// Retried counts jobs that needed more than one run; NotCompleted
	// jobs cancelled or discarded. Both should be zero.
	Retried      int        `json:"retried"`
	NotCompleted int        `json:"not_completed"`
	PeakRSS      int64      `json:"peak_rss_bytes"`
	RSS          []int64    `json:"rss_bytes_per_replica"`
	CPU          cpuSplit   `json:"cpu"`
	PG           pgActivity `json:"pg_activity"`
	// Statements per lead counts every statement Postgres ran for the
	// run (BEGIN and COMMIT included), River's own among them.
	Statements        *pgStatements `json:"pg_stat_statements,omitempty"`
	StatementsPerLead float64       `json:"statements_per_lead,omitempty"`
	Timings           []kindTiming  `json:"jobs_timing"`
	HTTP              httpStats     `json:"provider_http"`
	// Telemetry is set on the runs with tracing exported and metrics
	// scraped (the telemetry phase).
	Telemetry *telemetryStats `json:"telemetry,omitempty"`
}

func (b *bench) runE2E(ctx context.Context, res *results) error {
	for _, r := range b.o.replicas {
		out, err := b.runE2EOnce(ctx, r, false)
		if err != nil {
			return fmt.Errorf("%d replicas: %w", r, err)
		}
		res.E2E = append(res.E2E, out)
	}
	return nil
}

// runE2ETelemetry measures what an operator's monitoring costs: every
// span exported to an OTLP collector and every replica's /metrics scraped
// (telemetry.go). One pair of end-to-end runs differs from the next by
// more than the 5% the issue allows (the machine's other work, Postgres's
// checkpoints and autovacuum), so the phase runs -telemetry-pairs pairs
// at -telemetry-replicas, each pair one run without and one with, in
// alternating order so that a drift over the phase falls on both sides
// alike, and compares the medians (report.go).
func (b *bench) runE2ETelemetry(ctx context.Context, res *results) error {
	r := b.o.telemetryReplicas
	for i := range b.o.telemetryPairs {
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, telemetry := range order {
			out, err := b.runE2EOnce(ctx, r, telemetry)
			if err != nil {
				return fmt.Errorf("pair %d, %d replicas: %w", i+1, r, err)
			}
			if telemetry {
				res.E2ETelemetry = append(res.E2ETelemetry, out)
			} else {
				res.E2ETelemetryOff = append(res.E2ETelemetryOff, out)
			}
		}
	}
	return nil
}

// Long because it is one run's story in order (database, fakes, seed,
// fleet, quiet, measure, count), each step's cleanup beside it.
func (b *bench) runE2EOnce(ctx context.Context, replicas int, telemetry bool) (*e2eResult, error) {
	n, nTenants := b.o.leads, b.o.tenants
	label := "end to end"
	if telemetry {
		label = "end to end with telemetry"
	}
	b.say("%s, %d replica(s): seeding %d leads over %d tenants ...", label, replicas, n, nTenants)
	dbName := fmt.Sprintf("bench_e2e_%d", replicas)
	if telemetry {
		dbName += "_telemetry"
	}
	dbURL, pool, cleanup, err := b.db.fresh(ctx, dbName, 8)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	fk, err := startFakes()
	if err != nil {
		return nil, err
	}
	defer fk.close()

	seed, err := seedE2E(ctx, pool, fk, n, nTenants)
	if err != nil {
		return nil, err
	}

	var tel *telemetryLoad
	if telemetry {
		if tel, err = startTelemetrySink(); err != nil {
			return nil, err
		}
	}
	f, err := b.startFleet(ctx, replicas, dbName, func(addr string) []string {
		env := b.o.worker.env(dbURL, fk.urls, addr, time.Hour)
		if tel != nil {
			env = append(env, tel.workerEnv()...)
		}
		return env
	})
	if err != nil {
		if tel != nil {
			tel.close()
		}
		return nil, err
	}
	defer f.stop(b.procs)
	if tel != nil {
		tel.scrape(f.metricsURLs)
	}
	// The scheduler's first round (RunOnStart, once a leader is elected)
	// finds nothing due; let it finish so that it is not part of the
	// figure.
	if err := waitFirstSchedule(ctx, pool, 15*time.Second); err != nil {
		return nil, err
	}
	if err := waitQuiet(ctx, pool, 10*time.Second); err != nil {
		return nil, err
	}

	out, start, err := b.timeE2E(ctx, pool, fk, f, seed, dbName)
	if tel != nil {
		stats := tel.close()
		if out != nil {
			out.Telemetry = &stats
		}
	}
	if err != nil {
		return nil, err
	}
	out.Replicas, out.Leads, out.Tenants = replicas, n, nTenants
	out.LeadsPerSec = float64(n) / out.Seconds
	if out.Statements != nil {
		out.StatementsPerLead = float64(out.Statements.Calls) / float64(n)
	}
	if err := countE2E(ctx, pool, start, out); err != nil {
		return nil, err
	}
	if out.Telemetry != nil {
		b.say("  telemetry: %s", out.Telemetry)
	}
	b.say(label+", %d replica(s): %.1f leads/s (%d leads in %.2fs; messages done at %.2fs), %d jobs (%.0f jobs/s), peak RSS %s; CPU: %s",
		replicas, out.LeadsPerSec, n, out.Seconds, out.MessagesSeconds, out.Jobs, out.JobsPerSec, mb(out.PeakRSS), out.CPU)
	if out.Texts != n || out.Emails != n || out.LeadsStored != n || out.Retried > 0 || out.NotCompleted > 0 {
		b.say("  WARNING: texts %d, emails %d, leads stored %d (want %d each); %d jobs retried, %d cancelled or discarded",
			out.Texts, out.Emails, out.LeadsStored, n, out.Retried, out.NotCompleted)
	}
	return out, nil
}

// timeE2E is the measured part of an end-to-end run: it inserts the seed's
// polls and waits until every lead is texted and emailed and every run is
// recorded, with the CPU meter, the Postgres sampler and perf running. It
// returns the figures it measured and when it started.
func (b *bench) timeE2E(ctx context.Context, pool *pgxpool.Pool, fk *fakes, f *fleet, seed *e2eSeed, dbName string) (*e2eResult, time.Time, error) {
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, time.Time{}, err
	}
	params := seed.polls()
	n := b.o.leads

	b.db.resetStatements(ctx)
	perf := b.startPerf(fmt.Sprintf("%d", len(f.workers)))
	meter := startCPUMeter(f.pids(), b.db.postmasterPID())
	sampler := startPGSampler(ctx, b.db.adminURL, dbName)
	start := time.Now()
	if _, err := inserter.InsertMany(ctx, params); err != nil {
		sampler.stop()
		perf.stop()
		return nil, start, fmt.Errorf("error inserting polls: %w", err)
	}

	messagesDone, err := waitE2EDone(ctx, pool, fk, n, b.o.e2eTimeout)
	if err != nil {
		sampler.stop()
		perf.stop()
		return nil, start, err
	}
	cpu := meter.stop()
	pg := sampler.stop()
	perf.stop()
	peak, rss := f.peakRSS()
	statements := b.db.statementsOf(ctx, dbName)

	var end time.Time
	if err := pool.QueryRow(ctx, `SELECT max(finalized_at) FROM river_job WHERE created_at >= $1`, start.Add(-time.Second)).Scan(&end); err != nil {
		return nil, start, err
	}
	return &e2eResult{
		Seconds:         end.Sub(start).Seconds(),
		MessagesSeconds: messagesDone.Sub(start).Seconds(),
		Texts:           int(fk.texts.Load()), Emails: int(fk.emails.Load()),
		PeakRSS: peak, RSS: rss, CPU: cpu, PG: pg, JobsByKind: map[string]int{}, HTTP: fk.stats(),
		Statements: statements,
	}, start, nil
}

// countE2E fills what the database says of the run that started at start:
// jobs by kind and per second, retried and not completed jobs, leads
// stored, and each kind's timings.
func countE2E(ctx context.Context, pool *pgxpool.Pool, start time.Time, out *e2eResult) error {
	if err := countJobs(ctx, pool, start.Add(-time.Second), out); err != nil {
		return err
	}
	out.JobsPerSec = float64(out.Jobs) / out.Seconds
	if err := pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE attempt + coalesce((metadata->>'snoozes')::int, 0) > 1),
			count(*) FILTER (WHERE state IN ('cancelled', 'discarded'))
		FROM river_job`).Scan(&out.Retried, &out.NotCompleted); err != nil {
		return err
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM leads`).Scan(&out.LeadsStored); err != nil {
		return err
	}
	var err error
	out.Timings, err = jobTimings(ctx, pool)
	return err
}

// countJobs fills the run's job counts by kind.
func countJobs(ctx context.Context, pool *pgxpool.Pool, since time.Time, out *e2eResult) error {
	rows, err := pool.Query(ctx, `SELECT kind, count(*) FROM river_job WHERE created_at >= $1 GROUP BY kind`, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var c int
		if err := rows.Scan(&kind, &c); err != nil {
			return err
		}
		out.JobsByKind[kind] = c
		out.Jobs += c
	}
	return rows.Err()
}

// e2eSeed is the end-to-end world: tenants whose CRMs hold n leads
// created inside one hour that ended five minutes ago.
type e2eSeed struct {
	tenants          []benchTenant
	windowStart, end time.Time
}

func seedE2E(ctx context.Context, pool *pgxpool.Pool, fk *fakes, n, nTenants int) (*e2eSeed, error) {
	tenants, err := createTenants(ctx, pool, fk, nTenants, "e2e", 86400)
	if err != nil {
		return nil, err
	}
	// Park the scheduler's own polls: the run inserts one poll per tenant
	// covering the seeded window.
	if _, err := pool.Exec(ctx, `UPDATE tenants SET next_poll_at = now() + interval '1 day'`); err != nil {
		return nil, err
	}
	s := &e2eSeed{tenants: tenants, end: time.Now().Add(-5 * time.Minute)}
	s.windowStart = s.end.Add(-time.Hour)
	step := time.Hour / time.Duration(n)
	for i := range n {
		t := tenants[i%nTenants]
		if _, err := t.crm.AddLead(t.CRMLocationID, fakeshopmonkey.LeadSpec{
			Phone: benchPhone(i), Email: benchEmail(i), CreatedAt: s.windowStart.Add(time.Duration(i) * step),
		}); err != nil {
			return nil, fmt.Errorf("error seeding lead %d: %w", i, err)
		}
	}
	return s, nil
}

// polls is one backfill-style poll per tenant over the whole window, with
// messages on.
func (s *e2eSeed) polls() []river.InsertManyParams {
	params := make([]river.InsertManyParams, 0, len(s.tenants))
	for _, t := range s.tenants {
		params = append(params, river.InsertManyParams{Args: jobs.PollCRMArgs{
			TenantID: t.ID, Since: s.windowStart.Add(-time.Minute), Until: s.end.Add(time.Minute), Live: false, SendMessages: true,
		}})
	}
	return params
}

// waitE2EDone waits until the fakes have n texts and n emails and every
// job is finished with every run recorded; it returns when the messages
// were all in.
func waitE2EDone(ctx context.Context, pool *pgxpool.Pool, fk *fakes, n int, timeout time.Duration) (time.Time, error) {
	var messagesDone time.Time
	deadline := time.Now().Add(timeout)
	for {
		if messagesDone.IsZero() && fk.texts.Load() >= int64(n) && fk.emails.Load() >= int64(n) {
			messagesDone = time.Now()
		}
		if !messagesDone.IsZero() {
			p, err := progress(ctx, pool)
			if err != nil {
				return messagesDone, err
			}
			if p.unfinished == 0 && p.unrecorded == 0 {
				return messagesDone, nil
			}
		}
		if time.Now().After(deadline) {
			p, _ := progress(ctx, pool)
			return messagesDone, fmt.Errorf("not done after %s: %d/%d texts, %d/%d emails, %d jobs unfinished, %d finished jobs with unrecorded runs",
				timeout, fk.texts.Load(), n, fk.emails.Load(), n, p.unfinished, p.unrecorded)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return messagesDone, err
		}
	}
}

// jobProgress is how far the fleet is: jobs not finished yet, and finished
// jobs whose runs do not all have a job_executions row (the SQL of
// internal/jobs' unrecordedRuns: one row per run, runs = attempt +
// snoozes).
type jobProgress struct {
	unfinished, unrecorded int
}

func progress(ctx context.Context, db *pgxpool.Pool) (jobProgress, error) {
	var p jobProgress
	err := db.QueryRow(ctx, `
		SELECT
			count(*) FILTER (WHERE j.state NOT IN ('completed', 'cancelled', 'discarded')),
			count(*) FILTER (WHERE j.state IN ('completed', 'cancelled', 'discarded')
				AND (SELECT count(*) FROM job_executions e WHERE e.job_id = j.id)
					<> j.attempt + coalesce((j.metadata->>'snoozes')::int, 0))
		FROM river_job j`).Scan(&p.unfinished, &p.unrecorded)
	if err != nil {
		return p, fmt.Errorf("error checking progress: %w", err)
	}
	return p, nil
}

// waitFirstSchedule waits until the elected leader has run the scheduler
// once, or limit passes (then the round may land inside the measurement;
// it is one small job).
func waitFirstSchedule(ctx context.Context, db *pgxpool.Pool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'schedule_polls' AND finalized_at IS NOT NULL`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// waitQuiet waits until no job is unfinished (the scheduler's first round
// and its record).
func waitQuiet(ctx context.Context, db *pgxpool.Pool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		p, err := progress(ctx, db)
		if err != nil {
			return err
		}
		if p.unfinished == 0 && p.unrecorded == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the fleet did not settle in %s: %d jobs unfinished", limit, p.unfinished)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// benchTenant is a tenant and its own ShopMonkey account in the fakes.
type benchTenant struct {
	lead.Tenant
	crm *fakeshopmonkey.API
}

// benchKeys seals the bench tenants' secrets with the sandbox's key, which
// the workers hold too (sandbox.BaseURLs.WorkerEnv).
var benchKeys = func() *credentials.Keyring {
	k, err := credentials.ParseKeyring(sandbox.DevCredentialsKeys)
	if err != nil {
		panic(err)
	}
	return k
}()

// createTenant seals secret for t and creates it. Bench shops may make as
// many CRM requests as the fakes answer: the benchmark measures the
// pipeline, not a shop's rate limit (each request still pays for its
// budget check).
func createTenant(ctx context.Context, st *store.Store, t lead.Tenant, secret lead.Secret) (lead.Tenant, error) {
	t.CRMRateLimit = lead.MaxCRMRateLimit
	// The benchmark runs at any hour, and measures the first answer to a
	// lead: follow-ups are jobs due days later.
	t.QuietHours, t.QuietRule = lead.AllDay, lead.QuietRuleNone
	t.Sequence = lead.Sequence{{Name: lead.StepInitial, Channel: lead.ChannelSMS}, {Name: lead.StepInitial, Channel: lead.ChannelEmail}}
	if err := benchKeys.SealFor(&t, secret); err != nil {
		return lead.Tenant{}, err
	}
	return st.CreateTenant(ctx, t)
}

// createTenants creates n ShopMonkey tenants, each with an account of its
// own in the fakes.
func createTenants(ctx context.Context, db *pgxpool.Pool, fk *fakes, n int, prefix string, pollSecs int) ([]benchTenant, error) {
	st := store.New(db)
	out := make([]benchTenant, 0, n)
	for i := range n {
		name := fmt.Sprintf("%s-shop-%04d", prefix, i)
		key, loc := "sm_key_"+name, "loc-"+name
		crm := fk.addShop(key, loc)
		t, err := createTenant(ctx, st, lead.Tenant{
			Name: name, CRMKind: "shopmonkey", CRMLocationID: loc,
			// UTC keeps the run independent of the hour it runs at
			// (quiet hours are not implemented yet, but will be).
			TimeZone: "UTC", PollInterval: time.Duration(pollSecs) * time.Second,
			SMSFrom: "+15125550100", EmailFrom: "service@" + name + ".example.com", EmailFromName: name, Enabled: true,
		}, lead.Secret(key))
		if err != nil {
			return nil, err
		}
		out = append(out, benchTenant{Tenant: t, crm: crm})
	}
	return out, nil
}

// benchPhone is lead i's mobile number, unique for 8 million leads.
func benchPhone(i int) string {
	return fmt.Sprintf("+1512%03d%04d", 200+(i/10_000)%800, i%10_000)
}

func benchEmail(i int) string { return fmt.Sprintf("lead%d@example.com", i) }

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// perfRecording is a `perf record` of the whole machine, when -perf asks.
type perfRecording struct {
	cmd *exec.Cmd
}

func (b *bench) startPerf(suffix string) *perfRecording {
	if b.o.perf == "" {
		return &perfRecording{}
	}
	out := b.o.perf + "." + suffix
	cmd := exec.Command("perf", "record", "-F", "499", "-a", "-g", "-o", out)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.say("  perf record did not start: %v", err)
		return &perfRecording{}
	}
	b.say("  recording perf into %s", out)
	return &perfRecording{cmd: cmd}
}

func (p *perfRecording) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}
