// Command demo is `make demo`: the whole product on one machine with no
// accounts anywhere. It starts a private Postgres under .data/ (unless
// DATABASE_URL is set) with a fresh database every run, migrates it,
// starts the provider sandbox with demo shops and a steady trickle of new
// leads, adds a tenant per demo shop, starts two worker replicas, prints
// River UI's address and credentials and the environment to run
// bin/enqueue against it, and then a live count of leads ingested and
// messages sent. The sandbox announces each new lead to the workers by
// signed webhook, as the shops' CRMs would, and about 20 seconds in one
// customer answers their first text: the demo shows the lead move to
// replied, its follow-ups cancelled and the shop's notification email.
// What a person plays through the sandbox's customer routes shows too.
// Ctrl-C, SIGTERM or a closed terminal (SIGHUP) stops everything it
// started.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/devnet"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

func main() {
	// SIGHUP too: closing the terminal left Postgres, the sandbox and both
	// workers running, and the next `make demo` failed on the orphaned
	// Postgres ("another server might be running").
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// demoOpts is the command line.
type demoOpts struct {
	dataDir, binDir string
	rate            float64
	replicas        int
	duration        time.Duration
}

func parseOpts(args []string) (*demoOpts, error) {
	o := &demoOpts{}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&o.dataDir, "data", ".data", "folder for the private Postgres and the logs")
	fs.StringVar(&o.binDir, "bin", "", "folder of the worker and sandbox binaries (default: next to this one)")
	fs.Float64Var(&o.rate, "rate", 2, "new leads per second the sandbox adds")
	fs.IntVar(&o.replicas, "replicas", 2, "worker replicas to start")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0 = until Ctrl-C)")
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if o.replicas < 1 || o.replicas > 8 {
		return nil, fmt.Errorf("-replicas must be 1..8, got %d", o.replicas)
	}
	if o.binDir == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.binDir = filepath.Dir(exe)
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	o, err := parseOpts(args)
	if err != nil {
		return err
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	dataDir, binDir, rate, replicas := &o.dataDir, &o.binDir, &o.rate, &o.replicas
	logDir := filepath.Join(*dataDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }

	// 1. Postgres: a fresh database every run.
	db, err := openDatabase(ctx, *dataDir, getenv, say)
	if err != nil {
		return err
	}
	defer db.close() // deferred first: stops last, after every child
	dbURL := db.URL
	say("database: %s", describeDatabase(db))

	// 2. The provider sandbox, posting SendGrid's signed events and the
	// CRMs' webhooks to the replicas (their addresses are chosen now,
	// before they start).
	sandboxAddr, err := devnet.FreeAddr()
	if err != nil {
		return err
	}
	workerAddrs := make([]string, *replicas)
	sbArgs := []string{"-addr", sandboxAddr, "-leads", "5", "-rate", strconv.FormatFloat(*rate, 'f', -1, 64)}
	for i := range workerAddrs {
		if workerAddrs[i], err = devnet.FreeAddr(); err != nil {
			return err
		}
		sbArgs = append(sbArgs, "-sendgrid-webhook", webhookurl.URL("http://"+workerAddrs[i], webhookurl.SendGridEvents()), "-worker", "http://"+workerAddrs[i])
	}
	say("starting the sandbox providers ...")
	sb, err := start("sandbox", filepath.Join(*binDir, "sandbox"), filepath.Join(logDir, "sandbox.log"), nil, sbArgs...)
	if err != nil {
		return err
	}
	defer sb.stop()
	base := "http://" + sandboxAddr
	if err := devnet.WaitOK(ctx, base+"/_sandbox/stats", time.Minute, sb.done); err != nil {
		return fmt.Errorf("sandbox did not start (see %s): %w", filepath.Join(logDir, "sandbox.log"), err)
	}
	urls := sandbox.URLs(base)

	password := randomPassword()
	env := workerEnv(urls, dbURL, password)

	// 3. Schema.
	say("migrating ...")
	appURL, err := migrate(ctx, *binDir, dbURL, env)
	if err != nil {
		return err
	}
	env = append(env, "LEADORCH_DATABASE_URL="+appURL)

	// 4. A tenant per demo shop.
	pool, err := store.NewPool(ctx, dbURL, store.PoolOpts{MaxConns: 4})
	if err != nil {
		return err
	}
	defer pool.Close()
	tenants, hooks, err := createTenants(ctx, pool)
	if err != nil {
		return err
	}
	d := &demo{o: o, say: say, logDir: logDir, env: env, workerAddrs: workerAddrs, appURL: appURL, password: password,
		base: base, pool: pool, tenants: tenants, hooks: hooks}
	return d.serve(ctx)
}

// demo is what serve needs of the set-up: the options, where the logs,
// the database and the sandbox are, the replicas' environment and
// addresses, and the tenants.
type demo struct {
	o                              *demoOpts
	say                            func(string, ...any)
	logDir, appURL, password, base string
	env, workerAddrs               []string
	pool                           *pgxpool.Pool
	tenants                        []lead.Tenant
	hooks                          []webhookCredentials
}

// serve starts the replicas, hands the tenants' webhook credentials to the
// sandbox, tells the person at the terminal what runs, and watches until
// ctx ends.
func (d *demo) serve(ctx context.Context) error {
	say, logDir, env, workerAddrs, appURL, password, base := d.say, d.logDir, d.env, d.workerAddrs, d.appURL, d.password, d.base
	o, pool, tenants, hooks := d.o, d.pool, d.tenants, d.hooks
	dataDir, binDir, replicas := &o.dataDir, &o.binDir, &o.replicas

	// 5. Worker replicas, all started before any is waited for.
	say("starting %d worker replicas ...", *replicas)
	var workers []*child
	defer func() { stopAll(workers) }()
	operatorAddrs, err := startWorkers(ctx, &workers, *binDir, logDir, env, workerAddrs)
	if err != nil {
		return err
	}
	uiURL := "http://" + operatorAddrs[0] + "/riverui/"
	metricsURLs := make([]string, len(operatorAddrs))
	for i, a := range operatorAddrs {
		metricsURLs[i] = "http://" + a + "/metrics"
	}

	// 6. The sandbox plays each shop's CRM webhooks and customers: it
	// needs the tenants' webhook credentials, which it never shows.
	for i, t := range tenants {
		if err := registerWithSandbox(ctx, base, t, hooks[i]); err != nil {
			return err
		}
	}

	cli := cliEnv(appURL, base)
	envFile := filepath.Join(*dataDir, "demo.env")
	if err := writeCLIEnv(envFile, cli); err != nil {
		return err
	}

	banner{o: o, tenants: tenants, hooks: hooks, uiURL: uiURL, metricsURLs: metricsURLs, password: password, base: base, envFile: envFile, logDir: logDir, cli: cli}.print(say)
	watch(ctx, say, pool, tenants, base)
	return nil
}

// describeDatabase says which database the demo uses, without its
// password.
func describeDatabase(db *demoDatabase) string {
	if db.Fresh {
		return redactURL(db.URL) + " (fresh for this run)"
	}
	return redactURL(db.URL) + " (DATABASE_URL: used as it is, with what it already holds)"
}

// workerEnv is the replicas' environment: where the sandbox and the
// database are, River UI's login, and the demo's own settings.
func workerEnv(urls sandbox.BaseURLs, dbURL, password string) []string {
	return append(urls.WorkerEnv(),
		"LEADORCH_DATABASE_MIGRATE_URL="+dbURL,
		"LEADORCH_RIVERUI_USERNAME=demo",
		"LEADORCH_RIVERUI_PASSWORD="+password,
		"LEADORCH_RIVER_SCHEDULE_INTERVAL=1s",
		"LEADORCH_LOG_LEVEL=info",
		// No load balancer to drain for: Ctrl-C stops the replicas at once.
		"LEADORCH_HTTP_DRAIN_DELAY=0s",
		// Email replies come back through the sandbox's Inbound Parse.
		"LEADORCH_SENDGRID_INBOUND_PUBLIC_KEY="+fakesendgrid.InboundPublicKey,
		"LEADORCH_SENDGRID_REPLY_DOMAIN=reply.demo.example",
	)
}

// migrate applies the schema with `worker migrate` and returns the URL the
// workers and the CLI connect with: as a role that row-level security
// binds; the owner (dbURL) only migrates and shows the counts.
func migrate(ctx context.Context, binDir, dbURL string, env []string) (appURL string, err error) {
	migrate := exec.CommandContext(ctx, filepath.Join(binDir, "worker"), "migrate")
	migrate.Env = append(os.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		return "", fmt.Errorf("worker migrate failed: %w\n%s", err, out)
	}
	return store.DevAppURL(ctx, dbURL, "leadorch_worker")
}

// createTenants makes sure there is a tenant per demo shop, with webhook
// credentials, and returns them.
func createTenants(ctx context.Context, pool *pgxpool.Pool) ([]lead.Tenant, []webhookCredentials, error) {
	keys, err := credentials.ParseKeyring(sandbox.DevCredentialsKeys)
	if err != nil {
		return nil, nil, err
	}
	var (
		tenants []lead.Tenant
		hooks   []webhookCredentials
	)
	for i, shop := range sandbox.DemoShops() {
		t, err := ensureTenant(ctx, store.New(pool), keys, shop, i)
		if err != nil {
			return nil, nil, err
		}
		h, err := giveWebhookCredentials(ctx, store.New(pool), keys, t)
		if err != nil {
			return nil, nil, err
		}
		tenants = append(tenants, t)
		hooks = append(hooks, h)
	}
	return tenants, hooks, nil
}

// startWorkers starts a replica per address, adding each to workers as it
// starts (so the caller stops every one started), then waits until every
// one is ready.
func startWorkers(ctx context.Context, workers *[]*child, binDir, logDir string, env, workerAddrs []string) (operatorAddrs []string, err error) {
	for i := 1; i <= len(workerAddrs); i++ {
		addr := workerAddrs[i-1]
		// Each replica's operator listener (metrics, River UI) needs a
		// port of its own.
		operatorAddr, err := devnet.FreeAddr()
		if err != nil {
			return nil, err
		}
		operatorAddrs = append(operatorAddrs, operatorAddr)
		// Twilio signs the exact URL it calls: each replica's public URL
		// is its own address, which the sandbox calls.
		w, err := start(fmt.Sprintf("worker %d", i), filepath.Join(binDir, "worker"), filepath.Join(logDir, fmt.Sprintf("worker-%d.log", i)),
			append(env, "LEADORCH_HTTP_ADDR="+addr, "LEADORCH_HTTP_PUBLIC_URL=http://"+addr, "LEADORCH_OPERATOR_ADDR="+operatorAddr), "run")
		if err != nil {
			return nil, err
		}
		*workers = append(*workers, w)
	}
	for i, w := range *workers {
		if err := devnet.WaitOK(ctx, "http://"+workerAddrs[i]+"/readyz", time.Minute, w.done); err != nil {
			return nil, fmt.Errorf("worker %d did not become ready (see %s/worker-%d.log): %w", i+1, logDir, i+1, err)
		}
	}
	return operatorAddrs, nil
}

// banner tells the person at the terminal what runs and where to look.
type banner struct {
	o                                      *demoOpts
	tenants                                []lead.Tenant
	hooks                                  []webhookCredentials
	uiURL, password, base, envFile, logDir string
	metricsURLs                            []string
	cli                                    []string
}

func (b banner) print(say func(string, ...any)) {
	tenants, hooks, uiURL, password, base, envFile, logDir, cli := b.tenants, b.hooks, b.uiURL, b.password, b.base, b.envFile, b.logDir, b.cli
	say("")
	say("Lead Orchestrator demo is running: %d worker replicas, %d shops, %.1f new leads/s.", b.o.replicas, len(tenants), b.o.rate)
	for i, t := range tenants {
		say("  Shop:      %s on %s (%s), texts from %s, replies emailed to %s; %s", t.Name, t.CRMKind, t.TimeZone, t.SMSFrom, t.NotifyEmail, hooks[i].describe())
	}
	say("  River UI:  %s  (user demo, password %s)", uiURL, password)
	say("  Metrics:   %s  (Prometheus; one per replica)", strings.Join(b.metricsURLs, "  "))
	say("  Sandbox:   %s/_sandbox/messages shows every text and email the providers received", base)
	say("  Replies:   in about %s a customer answers their first text; the console then shows how to play one yourself", replyAfter)
	say("  CLI:       bin/enqueue against this demo needs this environment (also in %s: run `. %s` first):", envFile, envFile)
	for _, line := range exportLines(cli) {
		say("               %s", line)
	}
	say("             for example: bin/enqueue tenant list")
	say("  Logs:      %s/", logDir)
	say("Ctrl-C (or closing the terminal) stops everything.")
	say("")
}

// watch prints the live counts every two seconds, plays the reply scene
// and reports what customers do, until ctx ends.
func watch(ctx context.Context, say func(string, ...any), pool *pgxpool.Pool, tenants []lead.Tenant, base string) {
	scene := &replyScene{pool: pool, base: base, tenants: tenants, at: time.Now().Add(replyAfter)}
	conversation := &conversationScene{pool: pool, base: base, tenants: tenants, start: time.Now(), skip: func() uuid.UUID { return scene.lead }}
	booking := &bookingScene{pool: pool, tenants: tenants, start: time.Now(),
		skip: func() []uuid.UUID { return []uuid.UUID{scene.lead, conversation.lead} }}
	events := &customerEvents{pool: pool, base: base, tenants: tenants,
		skip: func(e sandbox.SimulatedEvent) bool {
			return e.Text != nil && scene.sid != "" && e.Text.MessageSid == scene.sid
		}}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			say("\nstopping ...")
			return
		case <-tick.C:
			say("%s", counts(ctx, pool, tenants, base))
			now := time.Now().Format("15:04:05")
			for _, line := range scene.step(ctx) {
				say("%s  %s", now, line)
			}
			for _, line := range conversation.step(ctx) {
				say("%s  %s", now, line)
			}
			for _, line := range booking.step(ctx) {
				say("%s  %s", now, line)
			}
			for _, line := range events.step(ctx) {
				say("%s  %s", now, line)
			}
			for _, line := range events.invite(ctx) {
				say("%s  %s", now, line)
			}
		}
	}
}

func randomPassword() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
