// Command demo is `make demo`: the whole product on one machine with no
// accounts anywhere. It starts a private Postgres under .data/ (unless
// DATABASE_URL is set), migrates it, starts the provider sandbox with demo
// shops and a steady trickle of new leads, adds a tenant per demo shop,
// starts two worker replicas, prints River UI's address and credentials,
// and then a live count of leads ingested and messages sent. Ctrl-C stops
// everything it started.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/devnet"
	"github.com/leadorch/lead-orchestrator/internal/devpg"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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

	// 1. Postgres.
	dbURL := getenv("DATABASE_URL")
	if dbURL == "" {
		say("starting a private Postgres under %s/pg ...", *dataDir)
		cluster, err := devpg.Start(ctx, filepath.Join(*dataDir, "pg"))
		if err != nil {
			return err
		}
		defer func() {
			if err := cluster.Stop("fast"); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
		if err := cluster.CreateDatabase(ctx, "leadorch"); err != nil {
			return err
		}
		dbURL = cluster.URL("leadorch")
	}
	say("database: %s", redactURL(dbURL))

	// 2. The provider sandbox, posting SendGrid's signed events to the
	// replicas (their addresses are chosen now, before they start).
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
		sbArgs = append(sbArgs, "-sendgrid-webhook", "http://"+workerAddrs[i]+"/webhooks/sendgrid/events")
	}
	sb, err := start(ctx, filepath.Join(*binDir, "sandbox"), filepath.Join(logDir, "sandbox.log"), nil, sbArgs...)
	if err != nil {
		return err
	}
	defer stopProcess(sb)
	base := "http://" + sandboxAddr
	if err := devnet.WaitOK(ctx, base+"/_sandbox/stats", time.Minute, nil); err != nil {
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
	)

	// 3. Schema.
	say("migrating ...")
	migrate := exec.CommandContext(ctx, filepath.Join(*binDir, "worker"), "migrate")
	migrate.Env = append(os.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("worker migrate failed: %w\n%s", err, out)
	}
	// The workers connect as a role that row-level security binds; the
	// owner (dbURL) only migrates and shows the counts below.
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
	var tenants []lead.Tenant
	for i, shop := range sandbox.DemoShops() {
		t, err := ensureTenant(ctx, store.New(pool), keys, shop, i)
		if err != nil {
			return err
		}
		tenants = append(tenants, t)
	}

	// 5. Worker replicas.
	var uiURL string
	for i := 1; i <= *replicas; i++ {
		addr := workerAddrs[i-1]
		if i == 1 {
			uiURL = "http://" + addr + "/riverui/"
		}
		w, err := start(ctx, filepath.Join(*binDir, "worker"), filepath.Join(logDir, fmt.Sprintf("worker-%d.log", i)),
			append(env, "LEADORCH_HTTP_ADDR="+addr), "run")
		if err != nil {
			return err
		}
		defer stopProcess(w)
		if err := devnet.WaitOK(ctx, "http://"+addr+"/readyz", time.Minute, nil); err != nil {
			return fmt.Errorf("worker %d did not become ready (see %s/worker-%d.log): %w", i, logDir, i, err)
		}
	}

	say("")
	say("Lead Orchestrator demo is running: %d worker replicas, %d shops, %.1f new leads/s.", *replicas, len(tenants), *rate)
	for _, t := range tenants {
		say("  Shop:      %s on %s (%s), texts from %s", t.Name, t.CRMKind, t.TimeZone, t.SMSFrom)
	}
	say("  River UI:  %s  (user demo, password %s)", uiURL, password)
	say("  Sandbox:   %s/_sandbox/messages shows every text and email the providers received", base)
	say("  Logs:      %s/", logDir)
	say("Ctrl-C stops everything.")
	say("")

	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			say("\nstopping ...")
			return nil
		case <-tick.C:
			say("%s", counts(ctx, pool, tenants, base))
		}
	}
}

// ensureTenant creates the demo shop's tenant, or brings the one an earlier
// run of the demo left on the same .data up to date (the demo shops
// change between versions: a shop may have moved to another CRM).
func ensureTenant(ctx context.Context, st *store.Store, keys *credentials.Keyring, shop sandbox.DemoShop, i int) (lead.Tenant, error) {
	t := lead.Tenant{
		Name: shop.Name, CRMKind: shop.CRM, CRMLocationID: shop.LocationID, CRMClientID: shop.ClientID,
		TimeZone: shop.TimeZone, PollInterval: 5 * time.Second,
		// The demo runs at any hour.
		QuietHours: lead.AllDay, QuietRule: lead.QuietRuleNone,
		SMSFrom:   fmt.Sprintf("+1512555%04d", 100+i),
		EmailFrom: fmt.Sprintf("service@%s.example.com", strings.Fields(strings.ToLower(shop.Name))[0]), EmailFromName: shop.Name,
		Enabled: true,
	}
	old, err := st.FleetFindTenant(ctx, shop.Name)
	if errors.Is(err, store.ErrNotFound) {
		if err := keys.SealFor(&t, lead.Secret(shop.Secret)); err != nil {
			return lead.Tenant{}, err
		}
		return st.CreateTenant(ctx, t)
	}
	if err != nil {
		return lead.Tenant{}, err
	}
	t.ID = old.ID
	if err := keys.SealFor(&t, lead.Secret(shop.Secret)); err != nil {
		return lead.Tenant{}, err
	}
	return st.UpdateTenant(ctx, t, &t.CRMSecret)
}

// counts is one line of the live display: what the database says was done
// and what the fake providers say they received.
func counts(ctx context.Context, pool *pgxpool.Pool, tenants []lead.Tenant, base string) string {
	var (
		leads, texts, emails, pending int
		perShop                       []string
	)
	for _, t := range tenants {
		st := store.New(pool)
		n, err := st.CountLeads(ctx, t.ID)
		if err != nil {
			return "error counting: " + err.Error()
		}
		leads += n
		perShop = append(perShop, fmt.Sprintf("%s %d", t.CRMKind, n))
		m, err := st.CountMessages(ctx, t.ID)
		if err != nil {
			return "error counting: " + err.Error()
		}
		pending += m[lead.MessagePending] + m[lead.MessageSending]
	}
	var delivered int
	_ = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE channel = 'sms'), count(*) FILTER (WHERE channel = 'email'),
		count(*) FILTER (WHERE status = 'delivered')
		FROM messages WHERE status IN ('sent', 'delivered')`).Scan(&texts, &emails, &delivered)
	var jobsRun int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM job_executions`).Scan(&jobsRun)
	received := "?"
	if resp, err := http.Get(base + "/_sandbox/stats"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		received = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s  leads ingested: %d (%s) | texts sent: %d | emails sent: %d (%d delivered) | in flight: %d | job runs recorded: %d | providers received: %s",
		time.Now().Format("15:04:05"), leads, strings.Join(perShop, ", "), texts, emails, delivered, pending, jobsRun, received)
}

// child is a process the demo started.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs a binary with its output in logPath.
func start(ctx context.Context, bin, logPath string, env []string, args ...string) (*child, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: run `make build` first (make demo does): %w", bin, err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: Ctrl-C reaches the demo, which then stops
	// each child in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(c.done) }()
	return c, nil
}

// stopProcess asks a child to stop (SIGTERM: a graceful shutdown) and kills
// it if it has not stopped in 20 seconds.
func stopProcess(c *child) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func randomPassword() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at > 0 {
		if scheme := strings.Index(u, "://"); scheme > 0 {
			if colon := strings.Index(u[scheme+3:at], ":"); colon >= 0 {
				return u[:scheme+3+colon] + ":****" + u[at:]
			}
		}
	}
	return u
}
