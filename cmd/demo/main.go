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
	"syscall"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/devnet"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
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

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dataDir := fs.String("data", ".data", "folder for the private Postgres and the logs")
	binDir := fs.String("bin", "", "folder of the worker and sandbox binaries (default: next to this one)")
	rate := fs.Float64("rate", 2, "new leads per second the sandbox adds")
	replicas := fs.Int("replicas", 2, "worker replicas to start")
	duration := fs.Duration("duration", 0, "stop after this long (0 = until Ctrl-C)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *replicas < 1 || *replicas > 8 {
		return fmt.Errorf("-replicas must be 1..8, got %d", *replicas)
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	if *binDir == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		*binDir = filepath.Dir(exe)
	}
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
	if db.Fresh {
		say("database: %s (fresh for this run)", redactURL(dbURL))
	} else {
		say("database: %s (DATABASE_URL: used as it is, with what it already holds)", redactURL(dbURL))
	}

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
	env := append(urls.WorkerEnv(),
		"LEADORCH_DATABASE_MIGRATE_URL="+dbURL,
		"LEADORCH_RIVERUI_USERNAME=demo",
		"LEADORCH_RIVERUI_PASSWORD="+password,
		"LEADORCH_RIVER_SCHEDULE_INTERVAL=1s",
		"LEADORCH_LOG_LEVEL=info",
		// No load balancer to drain for: Ctrl-C stops the replicas at once.
		"LEADORCH_HTTP_DRAIN_DELAY=0s",
	)

	// 3. Schema.
	say("migrating ...")
	migrate := exec.CommandContext(ctx, filepath.Join(*binDir, "worker"), "migrate")
	migrate.Env = append(os.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("worker migrate failed: %w\n%s", err, out)
	}
	// The workers and the CLI connect as a role that row-level security
	// binds; the owner (dbURL) only migrates and shows the counts below.
	appURL, err := store.DevAppURL(ctx, dbURL, "leadorch_worker")
	if err != nil {
		return err
	}
	env = append(env, "LEADORCH_DATABASE_URL="+appURL)
	keys, err := credentials.ParseKeyring(sandbox.DevCredentialsKeys)
	if err != nil {
		return err
	}

	// 4. A tenant per demo shop.
	pool, err := store.NewPool(ctx, dbURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	var (
		tenants []lead.Tenant
		hooks   []webhookCredentials
	)
	for i, shop := range sandbox.DemoShops() {
		t, err := ensureTenant(ctx, store.New(pool), keys, shop, i)
		if err != nil {
			return err
		}
		h, err := giveWebhookCredentials(ctx, store.New(pool), keys, t)
		if err != nil {
			return err
		}
		tenants = append(tenants, t)
		hooks = append(hooks, h)
	}

	// 5. Worker replicas, all started before any is waited for.
	say("starting %d worker replicas ...", *replicas)
	var workers []*child
	defer func() { stopAll(workers) }()
	for i := 1; i <= *replicas; i++ {
		addr := workerAddrs[i-1]
		// Twilio signs the exact URL it calls: each replica's public URL
		// is its own address, which the sandbox calls.
		w, err := start(fmt.Sprintf("worker %d", i), filepath.Join(*binDir, "worker"), filepath.Join(logDir, fmt.Sprintf("worker-%d.log", i)),
			append(env, "LEADORCH_HTTP_ADDR="+addr, "LEADORCH_HTTP_PUBLIC_URL=http://"+addr), "run")
		if err != nil {
			return err
		}
		workers = append(workers, w)
	}
	for i, w := range workers {
		if err := devnet.WaitOK(ctx, "http://"+workerAddrs[i]+"/readyz", time.Minute, w.done); err != nil {
			return fmt.Errorf("worker %d did not become ready (see %s/worker-%d.log): %w", i+1, logDir, i+1, err)
		}
	}
	uiURL := "http://" + workerAddrs[0] + "/riverui/"

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

	say("")
	say("Lead Orchestrator demo is running: %d worker replicas, %d shops, %.1f new leads/s.", *replicas, len(tenants), *rate)
	for i, t := range tenants {
		say("  Shop:      %s on %s (%s), texts from %s, replies emailed to %s; %s", t.Name, t.CRMKind, t.TimeZone, t.SMSFrom, t.NotifyEmail, hooks[i].describe())
	}
	say("  River UI:  %s  (user demo, password %s)", uiURL, password)
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

	scene := &replyScene{pool: pool, base: base, tenants: tenants, at: time.Now().Add(replyAfter)}
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
			return nil
		case <-tick.C:
			say("%s", counts(ctx, pool, tenants, base))
			now := time.Now().Format("15:04:05")
			for _, line := range scene.step(ctx) {
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
