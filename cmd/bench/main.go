// Command bench is `make bench`: it measures, in one run on one machine,
// what the orchestrator can do and prints one table of figures (also
// written as JSON):
//
//  1. the bare River rate: no-op jobs through a River client of the bench's
//     own, on the same Postgres with the workers' fetch settings;
//  2. leads per second end to end: leads seeded in the provider sandbox,
//     worker replicas (separate processes) poll, ingest, text, email and
//     record every run, timed until the last execution row is written; the
//     headline is its ratio to the bare River rate;
//  3. lead-to-text latency (p50, p99) at a steady rate well under
//     saturation, with live polls from the scheduler;
//  4. schedule lag (p50, p99) of many tenants polled every minute;
//  5. the bulk enqueue rate of the real `enqueue backfill`;
//  6. peak RSS of a worker replica during the end-to-end run;
//  7. end-to-end throughput with 1, 2 and 4 replicas;
//  8. webhook-to-text latency (p50, p99): signed ShopMonkey webhooks posted
//     round-robin to the replicas at a steady rate, polls parked.
//
// Every measurement gets its own database, cloned from a migrated
// template, on a private Postgres cluster under .data/bench-pg (wiped at
// start) or on the server of BENCH_DATABASE_URL. Ctrl-C stops every child
// process and the cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// benchOpts is the command line.
type benchOpts struct {
	quick   bool
	out     string
	dataDir string
	binDir  string
	only    string

	bareJobs    int
	bareWorkers int

	leads      int
	tenants    int
	replicas   []int
	e2eTimeout time.Duration

	latRate     float64
	latDuration time.Duration
	latTenants  int
	latReplicas int

	webhookRate     float64
	webhookDuration time.Duration
	webhookTenants  int
	webhookReplicas int

	schedTenants  int
	schedInterval time.Duration
	schedDuration time.Duration
	schedReplicas int

	enqueueWindows int

	worker workerSettings

	profile string

	telemetryPairs, telemetryReplicas int
	perf                              string
	statements                        bool
}

func parseOpts(args []string, stdout io.Writer) (*benchOpts, error) {
	o := &benchOpts{worker: defaultWorkerSettings()}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stdout)
	replicas, extra := o.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (every value needs its flag)", fs.Arg(0))
	}
	if o.quick {
		o.shrink(fs)
	}
	var err error
	if o.replicas, err = parseInts(*replicas); err != nil {
		return nil, fmt.Errorf("-replicas: %w", err)
	}
	if o.worker.Extra, err = parseWorkerEnv(*extra); err != nil {
		return nil, err
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// register defines every flag on fs; the two it returns are parsed after
// fs.Parse (lists).
func (o *benchOpts) register(fs *flag.FlagSet) (replicas, extra *string) {
	fs.BoolVar(&o.quick, "quick", false, "a 1-2 minute smoke run: small sizes everywhere (explicit flags still win)")
	fs.StringVar(&o.out, "out", "bench-results.json", "where to write the figures as JSON")
	fs.StringVar(&o.dataDir, "data", ".data", "folder for the private Postgres (bench-pg, wiped at start), logs and binaries")
	fs.StringVar(&o.binDir, "bin", "", "folder with worker and enqueue binaries (default: go build them into DATA/bench-bin)")
	fs.StringVar(&o.only, "only", "", "comma-separated subset of phases to run: bare,e2e,telemetry,latency,webhook,schedule,enqueue")

	fs.IntVar(&o.bareJobs, "bare-jobs", 50_000, "no-op jobs for the bare River rate")
	fs.IntVar(&o.bareWorkers, "bare-workers", 0, "MaxWorkers of the bare River queue (0: the largest worker queue setting)")

	fs.IntVar(&o.leads, "leads", 5_000, "leads seeded for each end-to-end run")
	fs.IntVar(&o.tenants, "tenants", 20, "tenants the end-to-end leads are spread over")
	replicas = fs.String("replicas", "1,2,4", "worker replica counts of the end-to-end runs")
	fs.DurationVar(&o.e2eTimeout, "e2e-timeout", 4*time.Minute, "give up on an end-to-end run after this long")

	fs.Float64Var(&o.latRate, "lat-rate", 20, "new leads per second during the latency run")
	fs.DurationVar(&o.latDuration, "lat-duration", 60*time.Second, "how long leads keep arriving in the latency run")
	fs.IntVar(&o.latTenants, "lat-tenants", 10, "tenants of the latency run")
	fs.IntVar(&o.latReplicas, "lat-replicas", 2, "worker replicas of the latency run")

	fs.Float64Var(&o.webhookRate, "webhook-rate", 20, "webhooks (new leads) per second during the webhook run")
	fs.DurationVar(&o.webhookDuration, "webhook-duration", 30*time.Second, "how long webhooks keep arriving in the webhook run")
	fs.IntVar(&o.webhookTenants, "webhook-tenants", 10, "tenants of the webhook run")
	fs.IntVar(&o.webhookReplicas, "webhook-replicas", 2, "worker replicas of the webhook run (posts go to them round-robin)")

	fs.IntVar(&o.schedTenants, "sched-tenants", 10_000, "tenants of the schedule-lag run")
	fs.DurationVar(&o.schedInterval, "sched-interval", 60*time.Second, "their poll interval (due times are spread over one interval)")
	fs.DurationVar(&o.schedDuration, "sched-duration", 2*time.Minute, "how long the schedule-lag run lasts after the first due time")
	fs.IntVar(&o.schedReplicas, "sched-replicas", 2, "worker replicas of the schedule-lag run")

	fs.IntVar(&o.enqueueWindows, "enqueue-windows", 1_000_000, "windows (jobs) of the bulk enqueue backfill run")

	w := &o.worker
	fs.IntVar(&w.CRMWorkers, "crm-workers", w.CRMWorkers, "LEADORCH_QUEUES_CRM_MAX_WORKERS of each replica")
	fs.IntVar(&w.SMSWorkers, "sms-workers", w.SMSWorkers, "LEADORCH_QUEUES_SMS_MAX_WORKERS of each replica")
	fs.IntVar(&w.EmailWorkers, "email-workers", w.EmailWorkers, "LEADORCH_QUEUES_EMAIL_MAX_WORKERS of each replica")
	fs.IntVar(&w.BookkeepingWorkers, "bookkeeping-workers", w.BookkeepingWorkers, "LEADORCH_QUEUES_BOOKKEEPING_MAX_WORKERS of each replica")
	fs.DurationVar(&w.FetchCooldown, "fetch-cooldown", w.FetchCooldown, "LEADORCH_RIVER_FETCH_COOLDOWN")
	fs.DurationVar(&w.FetchPollInterval, "fetch-poll-interval", w.FetchPollInterval, "LEADORCH_RIVER_FETCH_POLL_INTERVAL")
	fs.IntVar(&w.MaxConns, "max-conns", w.MaxConns, "LEADORCH_DATABASE_MAX_CONNS of each replica")
	fs.DurationVar(&w.ScheduleInterval, "schedule-interval", w.ScheduleInterval, "LEADORCH_RIVER_SCHEDULE_INTERVAL of the latency and schedule-lag runs")
	fs.IntVar(&w.PollIntervalSecs, "poll-interval", w.PollIntervalSecs, "tenants' poll_interval_seconds in the latency run (5..)")
	extra = fs.String("worker-env", "", "extra worker environment, comma-separated KEY=VALUE (e.g. LEADORCH_POLL_OVERLAP=30s)")

	fs.IntVar(&o.telemetryPairs, "telemetry-pairs", 3, "pairs of end-to-end runs (without, with telemetry) the telemetry phase compares")
	fs.IntVar(&o.telemetryReplicas, "telemetry-replicas", 2, "worker replicas of the telemetry phase's runs")

	fs.StringVar(&o.profile, "profile", "", "also run the end-to-end case in-process with a CPU profile written to this file")
	fs.BoolVar(&o.statements, "pg-stat-statements", true, "load pg_stat_statements in the private cluster and report the end-to-end runs' top statements")
	fs.StringVar(&o.perf, "perf", "", "during each end-to-end run, record the whole machine with perf record -a -g into `FILE`.<replicas>")
	return replicas, extra
}

// shrink is -quick: small sizes for every size flag not given explicitly.
func (o *benchOpts) shrink(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	quick := map[string]func(){
		"bare-jobs":        func() { o.bareJobs = 10_000 },
		"leads":            func() { o.leads = 1_000 },
		"tenants":          func() { o.tenants = 10 },
		"lat-rate":         func() { o.latRate = 10 },
		"lat-duration":     func() { o.latDuration = 10 * time.Second },
		"webhook-rate":     func() { o.webhookRate = 10 },
		"webhook-duration": func() { o.webhookDuration = 10 * time.Second },
		"sched-tenants":    func() { o.schedTenants = 2_000 },
		"sched-duration":   func() { o.schedDuration = 30 * time.Second },
		"enqueue-windows":  func() { o.enqueueWindows = 100_000 },
		"e2e-timeout":      func() { o.e2eTimeout = 90 * time.Second },
		"telemetry-pairs":  func() { o.telemetryPairs = 1 },
	}
	for name, apply := range quick {
		if !set[name] {
			apply()
		}
	}
}

// parseWorkerEnv is -worker-env: comma-separated LEADORCH_KEY=VALUE.
func parseWorkerEnv(extra string) ([]string, error) {
	var env []string
	for _, kv := range strings.Split(extra, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if !strings.HasPrefix(kv, "LEADORCH_") || !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("-worker-env: %q is not LEADORCH_KEY=VALUE", kv)
		}
		env = append(env, kv)
	}
	return env, nil
}

// validate checks the flags' values, all problems at once.
func (o *benchOpts) validate() error {
	var problems []string
	check := func(ok bool, format string, a ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, a...))
		}
	}
	check(o.bareJobs >= 1, "-bare-jobs must be at least 1, got %d", o.bareJobs)
	check(o.leads >= 1, "-leads must be at least 1, got %d", o.leads)
	check(o.tenants >= 1 && o.tenants <= o.leads, "-tenants must be 1..leads, got %d", o.tenants)
	for _, r := range o.replicas {
		check(r >= 1 && r <= 16, "-replicas: each must be 1..16, got %d", r)
	}
	check(o.telemetryPairs >= 1 && o.telemetryPairs <= 10, "-telemetry-pairs must be 1..10, got %d", o.telemetryPairs)
	check(o.telemetryReplicas >= 1 && o.telemetryReplicas <= 16, "-telemetry-replicas must be 1..16, got %d", o.telemetryReplicas)
	check(o.latRate > 0 && o.latRate <= 1000, "-lat-rate must be in (0, 1000], got %g", o.latRate)
	check(o.latDuration >= time.Second, "-lat-duration must be at least 1s, got %s", o.latDuration)
	check(o.latTenants >= 1, "-lat-tenants must be at least 1, got %d", o.latTenants)
	check(o.webhookRate > 0 && o.webhookRate <= 1000, "-webhook-rate must be in (0, 1000], got %g", o.webhookRate)
	check(o.webhookDuration >= time.Second, "-webhook-duration must be at least 1s, got %s", o.webhookDuration)
	check(o.webhookTenants >= 1, "-webhook-tenants must be at least 1, got %d", o.webhookTenants)
	check(o.webhookReplicas >= 1 && o.webhookReplicas <= 16, "-webhook-replicas must be 1..16, got %d", o.webhookReplicas)
	check(o.schedTenants >= 1, "-sched-tenants must be at least 1, got %d", o.schedTenants)
	check(o.schedInterval >= 5*time.Second, "-sched-interval must be at least 5s (the tenants' minimum), got %s", o.schedInterval)
	check(o.schedInterval%time.Second == 0, "-sched-interval must be whole seconds, got %s", o.schedInterval)
	check(o.schedDuration >= 10*time.Second, "-sched-duration must be at least 10s, got %s", o.schedDuration)
	check(o.enqueueWindows >= 1 && o.enqueueWindows <= 2_500_000, "-enqueue-windows must be 1..2500000 (enqueue allows 5 years of 1m windows), got %d", o.enqueueWindows)
	check(o.worker.PollIntervalSecs >= 5, "-poll-interval must be at least 5 (seconds), got %d", o.worker.PollIntervalSecs)
	check(o.worker.ScheduleInterval >= time.Second, "-schedule-interval must be at least 1s, got %s", o.worker.ScheduleInterval)
	for _, p := range strings.Split(o.only, ",") {
		p = strings.TrimSpace(p)
		check(p == "" || p == "bare" || p == "e2e" || p == "telemetry" || p == "latency" || p == "webhook" || p == "schedule" || p == "enqueue",
			"-only: unknown phase %q (want bare, e2e, telemetry, latency, webhook, schedule or enqueue)", p)
	}
	if len(problems) > 0 {
		return errors.New("invalid flags:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

func (o *benchOpts) runs(phase string) bool {
	if o.only == "" {
		return true
	}
	for _, p := range strings.Split(o.only, ",") {
		if strings.TrimSpace(p) == phase {
			return true
		}
	}
	return false
}

// run is the whole program; main only adds the process's signals,
// environment and exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parseOpts(args, stdout)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	started := time.Now()
	say := func(format string, a ...any) {
		fmt.Fprintf(stdout, "[%6.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, a...))
	}

	unlock, err := lockDataDir(o.dataDir)
	if err != nil {
		return err
	}
	defer unlock()

	logDir := filepath.Join(o.dataDir, "bench-logs")
	if err := os.RemoveAll(logDir); err != nil {
		return err
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	procs := newProcs(logDir)
	defer procs.stopAll()

	if err := o.findBinaries(ctx, say); err != nil {
		return err
	}

	db, err := openDatabase(ctx, o.dataDir, getenv("BENCH_DATABASE_URL"), o.statements, say)
	if err != nil {
		return err
	}
	defer db.close()

	res := &results{
		StartedAt: started.UTC(),
		Quick:     o.quick,
		Machine:   describeMachine(ctx, db),
		Worker:    o.worker.report(),
		Targets:   defaultTargets(),
	}
	say("machine: %s", res.Machine.String())

	b := &bench{o: o, db: db, procs: procs, say: say, logDir: logDir}
	failed, err := b.runPhases(ctx, res)
	if err != nil {
		return err
	}
	res.Took = jsonDuration(time.Since(started))

	fmt.Fprintln(stdout)
	printTable(stdout, res)
	if err := res.write(o.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nfigures written to %s; worker logs in %s\n", o.out, logDir)
	if len(failed) > 0 {
		return fmt.Errorf("phases failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// findBinaries builds the worker and enqueue binaries unless -bin names
// where they are, and makes sure both are there.
func (o *benchOpts) findBinaries(ctx context.Context, say func(format string, a ...any)) error {
	if o.binDir == "" {
		o.binDir = filepath.Join(o.dataDir, "bench-bin")
		say("building worker and enqueue into %s ...", o.binDir)
		if err := goBuild(ctx, o.binDir); err != nil {
			return err
		}
	}
	for _, b := range []string{"worker", "enqueue"} {
		if _, err := os.Stat(filepath.Join(o.binDir, b)); err != nil {
			return fmt.Errorf("-bin %s: no %s binary there: %w", o.binDir, b, err)
		}
	}
	return nil
}

// runPhases runs the phases -only selects, in order, and the profile; a
// phase that fails is recorded in res and named in failed, and the next one
// runs. Only a cancelled ctx stops it early.
func (b *bench) runPhases(ctx context.Context, res *results) (failed []string, err error) {
	o, say := b.o, b.say
	phases := []struct {
		name string
		fn   func(context.Context, *results) error
	}{
		{"bare", b.runBare},
		{"e2e", b.runE2E},
		{"telemetry", b.runE2ETelemetry},
		{"latency", b.runLatency},
		{"webhook", b.runWebhook},
		{"schedule", b.runSchedule},
		{"enqueue", b.runEnqueue},
	}
	for _, p := range phases {
		if !o.runs(p.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := p.fn(ctx, res); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			say("%s FAILED: %v", p.name, err)
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", p.name, err))
			failed = append(failed, p.name)
		}
	}
	if o.profile != "" && o.runs("e2e") {
		if err := b.runProfile(ctx, res); err != nil {
			say("profile FAILED: %v", err)
			res.Errors = append(res.Errors, fmt.Sprintf("profile: %v", err))
		}
	}
	return failed, nil
}

// bench is what every phase works with.
type bench struct {
	o      *benchOpts
	db     *database
	procs  *procs
	say    func(format string, a ...any)
	logDir string
}

// lockDataDir makes sure one bench at a time uses dataDir: a second one
// would wipe the first one's Postgres cluster under it. The lock is a
// flock, so a bench that dies releases it.
func lockDataDir(dataDir string) (func(), error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, "bench.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		return nil, fmt.Errorf("another bench (pid %s) is using %s; wait for it to finish, or pass -data with another folder",
			strings.TrimSpace(string(holder)), dataDir)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	return func() { f.Close() }, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(f, "%d", &n); err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("want at least one number")
	}
	return out, nil
}
