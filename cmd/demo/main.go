// Command demo is `make demo`: the whole product on one machine with no
// accounts anywhere. It starts a private Postgres under .data/ (unless
// DATABASE_URL is set), migrates it, starts the provider sandbox with demo
// shops and a steady trickle of new leads, adds a tenant per demo shop,
// starts two worker replicas, prints River UI's address and credentials,
// and then a live count of leads ingested and messages sent. The sandbox
// announces each new lead to the workers by signed webhook, as the shops'
// CRMs would, and about 20 seconds in one customer answers their first
// text: the demo shows the lead move to replied, its follow-ups cancelled
// and the shop's notification email. Ctrl-C stops everything it started.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
		sbArgs = append(sbArgs, "-sendgrid-webhook", "http://"+workerAddrs[i]+"/webhooks/sendgrid/events", "-worker", "http://"+workerAddrs[i])
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

	// 5. Worker replicas.
	var uiURL string
	for i := 1; i <= *replicas; i++ {
		addr := workerAddrs[i-1]
		if i == 1 {
			uiURL = "http://" + addr + "/riverui/"
		}
		// Twilio signs the exact URL it calls: each replica's public URL
		// is its own address, which the sandbox calls.
		w, err := start(ctx, filepath.Join(*binDir, "worker"), filepath.Join(logDir, fmt.Sprintf("worker-%d.log", i)),
			append(env, "LEADORCH_HTTP_ADDR="+addr, "LEADORCH_HTTP_PUBLIC_URL=http://"+addr), "run")
		if err != nil {
			return err
		}
		defer stopProcess(w)
		if err := devnet.WaitOK(ctx, "http://"+addr+"/readyz", time.Minute, nil); err != nil {
			return fmt.Errorf("worker %d did not become ready (see %s/worker-%d.log): %w", i, logDir, i, err)
		}
	}

	// 6. The sandbox plays each shop's CRM webhooks and customers: it
	// needs the tenants' webhook credentials, which it never shows.
	for i, t := range tenants {
		if err := registerWithSandbox(ctx, base, t, hooks[i]); err != nil {
			return err
		}
	}

	say("")
	say("Lead Orchestrator demo is running: %d worker replicas, %d shops, %.1f new leads/s.", *replicas, len(tenants), *rate)
	for i, t := range tenants {
		say("  Shop:      %s on %s (%s), texts from %s, replies emailed to %s; %s", t.Name, t.CRMKind, t.TimeZone, t.SMSFrom, t.NotifyEmail, hooks[i].describe())
	}
	say("  River UI:  %s  (user demo, password %s)", uiURL, password)
	say("  Sandbox:   %s/_sandbox/messages shows every text and email the providers received", base)
	say("  Replies:   in about %s a customer answers their first text; answer as any customer yourself with", replyAfter)
	say(`             curl -d '{"from": "+1...", "body": "Can you do Friday?"}' %s/_sandbox/simulate/reply`, base)
	say("  Logs:      %s/", logDir)
	say("Ctrl-C stops everything.")
	say("")

	scene := &replyScene{pool: pool, base: base, tenants: tenants, at: time.Now().Add(replyAfter)}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			say("\nstopping ...")
			return nil
		case <-tick.C:
			say("%s", counts(ctx, pool, tenants, base))
			for _, line := range scene.step(ctx) {
				say("%s  %s", time.Now().Format("15:04:05"), line)
			}
		}
	}
}

// ensureTenant creates the demo shop's tenant, or brings the one an earlier
// run of the demo left on the same .data up to date (the demo shops
// change between versions: a shop may have moved to another CRM).
func ensureTenant(ctx context.Context, st *store.Store, keys *credentials.Keyring, shop sandbox.DemoShop, i int) (lead.Tenant, error) {
	domain := strings.Fields(strings.ToLower(shop.Name))[0] + ".example.com"
	t := lead.Tenant{
		Name: shop.Name, CRMKind: shop.CRM, CRMLocationID: shop.LocationID, CRMClientID: shop.ClientID,
		TimeZone: shop.TimeZone, PollInterval: 5 * time.Second,
		// The demo runs at any hour.
		QuietHours: lead.AllDay, QuietRule: lead.QuietRuleNone,
		SMSFrom:   fmt.Sprintf("+1512555%04d", 100+i),
		EmailFrom: "service@" + domain, EmailFromName: shop.Name,
		// Where a customer's reply is forwarded.
		NotifyEmail: "owner@" + domain,
		Enabled:     true,
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

// webhookCredentials are what a demo shop's CRM calls the workers with: a
// ShopMonkey signing secret or a Tekmetric URL token, new every run.
type webhookCredentials struct {
	secret, token string
}

func (h webhookCredentials) describe() string {
	if h.token != "" {
		return "Tekmetric webhook URL token set"
	}
	return "ShopMonkey webhooks signed"
}

// giveWebhookCredentials makes t's webhook credentials and stores them as
// `enqueue tenant update` does: the signing secret sealed for t, the URL
// token only as its SHA-256.
func giveWebhookCredentials(ctx context.Context, st *store.Store, keys *credentials.Keyring, t lead.Tenant) (webhookCredentials, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails
	var (
		h      webhookCredentials
		sealed *lead.SealedSecret
		hash   []byte
	)
	switch t.CRMKind {
	case sandbox.ProviderShopMonkey:
		h.secret = "whsec_" + base64.StdEncoding.EncodeToString(raw)
		s, err := keys.SealWebhook(t.ID, lead.Secret(h.secret))
		if err != nil {
			return h, fmt.Errorf("error sealing the webhook secret of %s: %w", t.Name, err)
		}
		sealed = &s
	case sandbox.ProviderTekmetric:
		h.token = base64.RawURLEncoding.EncodeToString(raw)
		sum := sha256.Sum256([]byte(h.token))
		hash = sum[:]
	default:
		return h, fmt.Errorf("demo shop %s is on %q, which has no webhooks", t.Name, t.CRMKind)
	}
	return h, st.SetTenantWebhookCredentials(ctx, t.ID, sealed, hash)
}

// registerWithSandbox tells the sandbox what it needs to play t's CRM and
// customers against the workers.
func registerWithSandbox(ctx context.Context, base string, t lead.Tenant, h webhookCredentials) error {
	body, err := json.Marshal(map[string]string{
		"tenant_id": t.ID.String(), "crm": t.CRMKind, "location": t.CRMLocationID,
		"webhook_secret": h.secret, "webhook_token": h.token, "sms_number": t.SMSFrom,
	})
	if err != nil {
		return err
	}
	status, answer, err := postJSON(ctx, base+"/_sandbox/simulate/tenants", body)
	if err != nil {
		return fmt.Errorf("error registering %s with the sandbox: %w", t.Name, err)
	}
	if status != http.StatusCreated {
		return fmt.Errorf("the sandbox refused %s: %d %s", t.Name, status, answer)
	}
	return nil
}

// postJSON posts body to url and returns the status and the answer.
func postJSON(ctx context.Context, url string, body []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(answer)), nil
}

// replyAfter is when, after the demo starts, its customer answers.
const replyAfter = 20 * time.Second

// replyText is what the demo's customer answers.
const replyText = "Yes, can you do Tuesday at 9?"

// replyScene is the demo's customer who answers: once replyAfter has
// passed, a lead that got its first text and has follow-ups scheduled
// replies through the sandbox, and the scene reports, from the database
// and the sandbox, the worker recording the reply, cancelling the
// follow-ups and emailing the shop. It reads as the owner, like counts.
type replyScene struct {
	pool    *pgxpool.Pool
	base    string
	tenants []lead.Tenant
	at      time.Time

	// Set once the customer has answered.
	lead      uuid.UUID
	tenant    lead.Tenant
	name      string
	sid       string
	repliedAt time.Time
	pending   int // follow-ups scheduled when the customer answered

	recorded, notified, gaveUp bool
}

// step moves the scene on as far as it can now and returns what to print.
func (s *replyScene) step(ctx context.Context) []string {
	switch {
	case s.notified || s.gaveUp || time.Now().Before(s.at):
		return nil
	case s.sid == "":
		return s.reply(ctx)
	case !s.recorded:
		return s.checkRecorded(ctx)
	default:
		return s.checkNotified(ctx)
	}
}

// reply picks the newest lead that got its first text and still has
// follow-ups scheduled, and has its customer answer.
func (s *replyScene) reply(ctx context.Context) []string {
	ids := make([]string, len(s.tenants))
	for i, t := range s.tenants {
		ids[i] = t.ID.String()
	}
	var (
		tenantID    uuid.UUID
		phone, name string
	)
	err := s.pool.QueryRow(ctx, `SELECT l.id, l.tenant_id, l.phone, l.first_name || ' ' || l.last_name FROM leads l
		WHERE l.tenant_id = ANY($1::uuid[]) AND l.status = 'contacted' AND l.phone <> ''
		AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id
			AND m.channel = 'sms' AND m.status IN ('sent', 'delivered'))
		AND EXISTS (SELECT 1 FROM river_job j WHERE j.kind IN ('send_sms', 'send_email')
			AND j.args->>'lead_id' = l.id::text AND j.state = 'scheduled')
		-- The worker answers the newest lead with the number: a number two
		-- leads share would not show this one stop.
		AND NOT EXISTS (SELECT 1 FROM leads o WHERE o.tenant_id = l.tenant_id AND o.phone = l.phone AND o.id <> l.id)
		ORDER BY l.created_at DESC LIMIT 1`, ids).Scan(&s.lead, &tenantID, &phone, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.giveUpAfter(time.Minute, "no lead has got its first text yet")
	}
	if err != nil {
		return []string{"error picking a lead to reply: " + err.Error()}
	}
	for _, t := range s.tenants {
		if t.ID == tenantID {
			s.tenant = t
		}
	}
	s.name = name
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('send_sms', 'send_email')
		AND args->>'lead_id' = $1 AND state = 'scheduled'`, s.lead.String()).Scan(&s.pending); err != nil {
		return []string{"error counting follow-ups: " + err.Error()}
	}
	body, _ := json.Marshal(map[string]string{"tenant_id": tenantID.String(), "from": phone, "body": replyText})
	status, answer, err := postJSON(ctx, s.base+"/_sandbox/simulate/reply", body)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%d %s", status, answer)
	}
	var sent struct {
		MessageSid string `json:"message_sid"`
	}
	if err == nil {
		err = json.Unmarshal([]byte(answer), &sent)
	}
	if err != nil {
		s.gaveUp = true
		return []string{"the sandbox could not deliver the customer's reply: " + err.Error()}
	}
	s.sid, s.repliedAt = sent.MessageSid, time.Now()
	return []string{fmt.Sprintf("customer reply: %s (%s) texts %s %q; the lead has %d follow-up steps scheduled",
		s.name, phone, s.tenant.Name, replyText, s.pending)}
}

// checkRecorded reports the reply once the worker has recorded it.
func (s *replyScene) checkRecorded(ctx context.Context) []string {
	var (
		status         string
		inbound        int
		scheduled      int
		cancelledSteps []string
	)
	err := s.pool.QueryRow(ctx, `SELECT l.status,
		(SELECT count(*) FROM inbound_messages i WHERE i.tenant_id = l.tenant_id AND i.lead_id = l.id AND i.provider_id = $2),
		(SELECT count(*) FROM river_job j WHERE j.kind IN ('send_sms', 'send_email') AND j.args->>'lead_id' = $3 AND j.state = 'scheduled'),
		(SELECT coalesce(array_agg((j.args->>'step') || ' ' || CASE j.kind WHEN 'send_sms' THEN 'text' ELSE 'email' END
			ORDER BY j.scheduled_at), '{}') FROM river_job j
			WHERE j.kind IN ('send_sms', 'send_email') AND j.args->>'lead_id' = $3 AND j.state = 'cancelled')
		FROM leads l WHERE l.id = $1`, s.lead, s.sid, s.lead.String()).Scan(&status, &inbound, &scheduled, &cancelledSteps)
	if err != nil {
		return []string{"error reading the replied lead: " + err.Error()}
	}
	if status != string(lead.StatusReplied) || inbound == 0 {
		return s.giveUpAfter(time.Minute, "the worker has not recorded the reply (lead status "+status+"); see the worker logs")
	}
	s.recorded = true
	return []string{fmt.Sprintf("reply recorded in %s: lead status replied, reply stored; sequence stopped: %d pending follow-up steps cancelled (%s), %d still scheduled",
		time.Since(s.repliedAt).Round(100*time.Millisecond), len(cancelledSteps), strings.Join(cancelledSteps, ", "), scheduled)}
}

// checkNotified reports the shop's notification email once the sandbox
// has it.
func (s *replyScene) checkNotified(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/_sandbox/messages", nil)
	if err != nil {
		return []string{err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil // the next tick asks again
	}
	defer resp.Body.Close()
	var got struct {
		Emails []struct {
			To      string `json:"to"`
			Subject string `json:"subject"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return []string{"error reading the sandbox's messages: " + err.Error()}
	}
	for _, e := range got.Emails {
		if e.To == s.tenant.NotifyEmail && e.Subject == "Reply from "+s.name {
			s.notified = true
			return []string{fmt.Sprintf("shop notified: email %q to %s arrived %s after the reply",
				e.Subject, e.To, time.Since(s.repliedAt).Round(100*time.Millisecond))}
		}
	}
	return s.giveUpAfter(time.Minute, "no notification email to "+s.tenant.NotifyEmail+" yet; see the worker logs")
}

// giveUpAfter ends the scene with why, once wait has passed since the
// step it is on could start.
func (s *replyScene) giveUpAfter(wait time.Duration, why string) []string {
	since := s.at
	if !s.repliedAt.IsZero() {
		since = s.repliedAt
	}
	if time.Since(since) < wait {
		return nil
	}
	s.gaveUp = true
	return []string{"reply scene stopped: " + why}
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
