// Command chaos is `make chaos`: it runs a fleet under fire and then checks
// every invariant the orchestrator promises.
//
// It starts a private Postgres, the provider sandbox with faults on (errors
// before and after processing, 429s with and without Retry-After, dropped
// connections, timeouts, latency, a CRM that repeats and drops rows), and
// several worker replicas as separate processes, while leads arrive at a
// steady rate. For -duration it SIGKILLs a random replica every few seconds
// and starts it again, and restarts Postgres once in immediate (crash)
// mode. Then it clears the faults, lets the fleet drain, and prints one
// table: leads created, ingested, duplicated, lost; texts and emails due,
// sent, sent twice, ambiguous, undelivered; job runs against execution rows.
// It exits non-zero on any violation.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/devnet"
	"github.com/leadorch/lead-orchestrator/internal/devpg"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// opts are the knobs of one run.
type opts struct {
	duration     time.Duration
	rate         float64
	replicas     int
	shops        int
	killEvery    time.Duration
	drainTimeout time.Duration
	seed         uint64
	bin          string
	data         string
}

func parseOpts(args []string) (opts, error) {
	var o opts
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", time.Minute, "how long faults, kills and new leads go on")
	fs.Float64Var(&o.rate, "rate", 5, "new leads per second")
	fs.IntVar(&o.replicas, "replicas", 3, "worker replicas")
	fs.IntVar(&o.shops, "shops", 4, "tenants, alternately ShopMonkey locations and Tekmetric shops")
	fs.DurationVar(&o.killEvery, "kill-every", 5*time.Second, "mean time between SIGKILLs of a random replica")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 0, "longest wait for the fleet to finish its work after the faults stop (0: the bound the replicas' settings promise, see drainBound)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the fault and kill schedule")
	fs.StringVar(&o.bin, "bin", "bin", "folder of the worker binary")
	fs.StringVar(&o.data, "data", ".data/chaos", "folder for the private Postgres and the logs (wiped at start)")
	if err := fs.Parse(args[1:]); err != nil {
		return o, err
	}
	switch {
	case o.duration < 10*time.Second:
		return o, fmt.Errorf("-duration must be at least 10s, got %s", o.duration)
	case o.rate <= 0 || o.rate > 200:
		return o, fmt.Errorf("-rate must be in (0, 200], got %v", o.rate)
	case o.replicas < 2 || o.replicas > 8:
		return o, fmt.Errorf("-replicas must be 2..8 (one is always up while another is killed), got %d", o.replicas)
	case o.shops < 1 || o.shops > 50:
		return o, fmt.Errorf("-shops must be 1..50, got %d", o.shops)
	case o.killEvery < time.Second:
		return o, fmt.Errorf("-kill-every must be at least 1s, got %s", o.killEvery)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	o, err := parseOpts(args)
	if err != nil {
		return 0, err
	}
	say := func(format string, a ...any) {
		fmt.Fprintf(stdout, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	if err := os.RemoveAll(o.data); err != nil {
		return 0, err
	}
	logDir := filepath.Join(o.data, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return 0, err
	}

	// Postgres, the one shared thing, restarted once mid-run.
	cluster, err := devpg.Start(ctx, filepath.Join(o.data, "pg"))
	if err != nil {
		return 0, err
	}
	defer cluster.Stop("fast") //nolint:errcheck
	if err := cluster.CreateDatabase(ctx, "chaos"); err != nil {
		return 0, err
	}
	dbURL := cluster.URL("chaos")

	sb, urls, stopSandbox, err := startSandbox(o.seed)
	if err != nil {
		return 0, err
	}
	defer stopSandbox()
	f, err := newFleet(ctx, &o, logDir, dbURL, urls)
	if err != nil {
		return 0, err
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer pool.Close()

	// The last shop's sending window opens a third of the way into the run.
	quiet, err := newQuietShop(o.shops-1, time.Now(), o.duration)
	if err != nil {
		return 0, err
	}
	// The clock shop's customers are at night and at midday; its own
	// clock at midday.
	midday, err := middayZone(time.Now())
	if err != nil {
		return 0, err
	}
	tenants, err := createShops(ctx, pool, sb, o.shops, quiet, midday)
	if err != nil {
		return 0, err
	}
	var cast clockCast
	if i := clockShop(o.shops); i >= 0 {
		// Night and day must hold until the checks, after the drain.
		if cast, err = castClock(tenants[i], time.Now(), o.duration+o.drainTimeout+time.Hour); err != nil {
			return 0, err
		}
	}
	g := &game{o: o, say: say, logDir: logDir, cluster: cluster, sb: sb, f: f, pool: pool, tenants: tenants, quiet: quiet, cast: cast}
	return g.play(ctx, stdout)
}

// startSandbox serves the providers in-process, so the harness sees
// everything they got, with the faults seeded; stop closes the server.
func startSandbox(seed uint64) (sb *sandbox.Server, urls sandbox.BaseURLs, stop func(), err error) {
	sb = sandbox.NewServer(sandbox.ServerOpts{})
	sb.SeedFaults(int64(seed))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, urls, nil, err
	}
	sbSrv := &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second}
	go sbSrv.Serve(ln) //nolint:errcheck
	urls = sandbox.URLs("http://" + ln.Addr().String())
	return sb, urls, func() { sbSrv.Close() }, nil
}

// newFleet sets up the replicas' environment and migrates the database;
// it sets o.drainTimeout from the replicas' config when none was given.
func newFleet(ctx context.Context, o *opts, logDir, dbURL string, urls sandbox.BaseURLs) (*fleet, error) {
	// The replicas run config.yaml's defaults: only where things are, the
	// secrets that have no default, and the two settings below differ
	// (the README says why).
	f := &fleet{bin: o.bin, logDir: logDir, env: append(urls.WorkerEnv(),
		"LEADORCH_DATABASE_MIGRATE_URL="+dbURL,
		"LEADORCH_RIVERUI_PASSWORD=chaos-password-not-secret",
		// The sandbox posts SendGrid's events within half a second; the
		// shipped 10m allows for the real service's delays. At 10m every
		// run would wait ten minutes after the chaos for the emails that
		// never reached SendGrid to be marked ambiguous.
		"LEADORCH_SENDGRID_CONFIRM_WAIT=30s",
		// Info logs of 3 replicas under fire fill the disk, and say
		// nothing the check does not.
		"LEADORCH_LOG_LEVEL=warn",
		// Email replies come back through the sandbox's Inbound Parse.
		"LEADORCH_SENDGRID_INBOUND_PUBLIC_KEY="+fakesendgrid.InboundPublicKey,
		"LEADORCH_SENDGRID_REPLY_DOMAIN=reply.chaos.example",
	)}
	if err := f.migrate(ctx); err != nil {
		return nil, err
	}
	// Replicas run as the application role, under row-level security; the
	// harness reads as the owner, across tenants.
	appURL, err := store.DevAppURL(ctx, dbURL, "leadorch_worker")
	if err != nil {
		return nil, err
	}
	f.env = append(f.env, "LEADORCH_DATABASE_URL="+appURL)
	if o.drainTimeout == 0 {
		cfg, err := config.Load("", f.getenv)
		if err != nil {
			return nil, fmt.Errorf("the replicas' config: %w", err)
		}
		o.drainTimeout = drainBound(cfg)
	}
	return f, nil
}

// createShops creates the tenants, alternately a ShopMonkey location and a
// Tekmetric shop of the sandbox, all served by the same replicas.
func createShops(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, shops int, quiet quietShop, midday *time.Location) ([]lead.Tenant, error) {
	keys, err := credentials.ParseKeyring(sandbox.DevCredentialsKeys)
	if err != nil {
		return nil, err
	}
	var tenants []lead.Tenant
	for i := range shops {
		name := fmt.Sprintf("chaos-shop-%d", i+1)
		kind, key, loc, clientID, zone := sandbox.ProviderShopMonkey, "sm_chaos_"+strconv.Itoa(i+1), "loc-chaos-"+strconv.Itoa(i+1), "", "America/Chicago"
		if i%2 == 1 {
			kind, key, loc, clientID, zone = sandbox.ProviderTekmetric, "tm_chaos_"+strconv.Itoa(i+1), strconv.Itoa(100+i), "chaos-client-"+strconv.Itoa(i+1), "America/Denver"
		}
		if i == quiet.index {
			zone = quiet.loc.String()
		}
		if i == clockShop(shops) {
			zone = midday.String()
		}
		// The fake CRM writes zone-less times in the shop's zone, as the
		// real one does: both must agree on it.
		if err := sb.AddCRMShop(kind, loc, clientID, key, zone); err != nil {
			return nil, err
		}
		t := lead.Tenant{
			Name: name, CRMKind: kind, CRMLocationID: loc, CRMClientID: clientID,
			TimeZone: zone, PollInterval: 5 * time.Second,
			// Chaos tests crashes, not rate limits (the tests of package
			// jobs do): at 5 leads/s and polls every 5s, the CRMs' default
			// budgets (300 a minute) would leave a growing backlog.
			CRMRateLimit: 3000,
			QuietHours:   lead.AllDay, QuietRule: lead.QuietRuleNone,
			// The first answer only: follow-ups are due days later, after
			// the run has drained.
			Sequence: lead.Sequence{
				{Name: lead.StepInitial, Channel: lead.ChannelSMS},
				{Name: lead.StepInitial, Channel: lead.ChannelEmail},
			},
			SMSFrom: fmt.Sprintf("+1512555%04d", 200+i), EmailFrom: fmt.Sprintf("service@shop%d.example.com", i+1),
			EmailFromName: name, Enabled: true,
			// Notices of replies, which the harness answers.
			NotifyEmail: fmt.Sprintf("desk@shop%d.example.com", i+1),
			// Their texts offer a booking link, which the harness opens.
			Booking: chaosBooking(),
			// Follow-up emails need the shop's postal address.
			Compliance: lead.Compliance{PostalAddress: fmt.Sprintf("%d Main Street, Austin, TX 78701", 100+i)},
		}
		if i == callShop(shops) {
			// Calls to this shop's number ring here and go unanswered.
			t.ShopPhone = fmt.Sprintf("+1512558%04d", i)
			t.AllowFirstReplyWithoutConsent = true
		}
		if i == quiet.index {
			t.QuietHours = quiet.window
		}
		if i == clockShop(shops) {
			// Texts keep the federal hours on the customer's clock, for
			// customers the world over.
			t.QuietRule = lead.QuietRuleFederal
			t.Compliance.PhoneRegions = clockRegions
		}
		if i == nudgeShop {
			// This shop nudges 20s after the first text unless the customer
			// replied: the harness has some reply, and checks no nudge
			// went out after a reply.
			t.Sequence = append(t.Sequence, lead.Step{Name: "nudge", Channel: lead.ChannelSMS, Delay: nudgeDelay,
				Condition: lead.ConditionNoReply, Template: lead.Templates{SMS: "{{.Shop.Name}}: still there? Reply to book."}})
			nudgeFrom = t.SMSFrom
		}
		if err := keys.SealFor(&t, lead.Secret(key)); err != nil {
			return nil, err
		}
		t, err := store.New(pool).CreateTenant(ctx, t)
		if err != nil {
			return nil, err
		}
		tenants = append(tenants, t)
	}
	return tenants, nil
}

// game is one run's world, once it is set up: what play needs.
type game struct {
	o       opts
	say     func(string, ...any)
	logDir  string
	cluster *devpg.Cluster
	sb      *sandbox.Server
	f       *fleet
	pool    *pgxpool.Pool
	tenants []lead.Tenant
	quiet   quietShop
	cast    clockCast
}

// play starts the replicas, runs the chaos, drains and checks, and returns
// the exit code: 1 on any violation.
func (g *game) play(ctx context.Context, stdout io.Writer) (int, error) {
	o, say, logDir, sb, f, pool, tenants, quiet := g.o, g.say, g.logDir, g.sb, g.f, g.pool, g.tenants, g.quiet
	for i := range o.replicas {
		if err := f.start(i); err != nil {
			return 0, err
		}
	}
	defer f.stopAll()
	for i := range o.replicas {
		if err := devnet.WaitOK(ctx, "http://"+f.replica(i).addr+"/readyz", time.Minute, f.replica(i).done); err != nil {
			return 0, fmt.Errorf("replica %d did not become ready (see %s): %w", i+1, logDir, err)
		}
	}
	poster := fakesendgrid.NewEventPoster(sb.SendGrid, f.webhookURLs()...)
	posterCtx, stopPoster := context.WithCancel(ctx)
	defer stopPoster()
	go poster.Run(posterCtx, 500*time.Millisecond)

	if err := injectFaults(sb); err != nil {
		return 0, err
	}
	say("fleet up: %d replicas, %d shops (%d ShopMonkey, %d Tekmetric), %.1f leads/s, faults on; chaos for %s (seed %d)",
		o.replicas, o.shops, (o.shops+1)/2, o.shops/2, o.rate, o.duration, o.seed)

	// Under fire: leads arrive, replicas die, Postgres crashes once.
	fire := g.underFire(ctx)
	kills, pgRestarts, stops, replies := fire.kills, fire.pgRestarts, fire.stops, fire.replies
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}

	// Drain: faults off, every replica up, wait for the work to finish.
	sb.ClearFaults()
	for i := range o.replicas {
		if !f.replica(i).alive() {
			if err := f.start(i); err != nil {
				return 0, err
			}
		}
	}
	say("chaos over (%d kills, %d Postgres restarts); faults cleared, draining (at most %s)", kills, pgRestarts, o.drainTimeout)
	drained := drain(ctx, pool, sb, tenants, o.drainTimeout, say)

	// Stop new polls so the last records settle, then count.
	if _, err := pool.Exec(ctx, `UPDATE tenants SET enabled = false`); err != nil {
		return 0, err
	}
	time.Sleep(3 * time.Second)
	r, err := check(ctx, pool, sb, tenants, fire.clock)
	if err != nil {
		return 0, err
	}
	r.kills, r.pgRestarts, r.drained = kills, pgRestarts, drained
	if r.followUp, err = checkFollowUp(ctx, pool, quiet, tenants[quiet.index], stops, replies); err != nil {
		return 0, err
	}
	if r.conversation, err = checkConversation(ctx, pool, sb, fire.conversation); err != nil {
		return 0, err
	}
	if r.booking, err = checkBookings(ctx, pool, sb, fire.booking); err != nil {
		return 0, err
	}
	r.textCap.repeatCustomers = fire.repeatCustomers
	r.print(stdout)
	if n := r.violations(); n > 0 {
		fmt.Fprintf(stdout, "\nFAIL: %d invariant(s) violated (logs in %s)\n", n, logDir)
		return 1, nil
	}
	fmt.Fprintln(stdout, "\nPASS: every invariant held")
	return 0, nil
}

// fireReport is what the chaos phase did.
type fireReport struct {
	kills, pgRestarts, stops, replies int
	conversation                      conversationPlay
	booking                           bookingPlay
	repeatCustomers                   int
	clock                             clockPlay
}

// underFire runs the chaos for o.duration: leads arrive, STOPs and replies
// are texted, replicas die and Postgres crashes once.
func (g *game) underFire(ctx context.Context) fireReport {
	o, say, sb, f, tenants, cluster := g.o, g.say, g.sb, g.f, g.tenants, g.cluster
	chaosCtx, stopChaos := context.WithTimeout(ctx, o.duration)
	var wg sync.WaitGroup
	wg.Go(func() { addLeads(chaosCtx, sb, tenants, o.rate) })
	var stops int
	wg.Go(func() { stops = sendStops(chaosCtx, sb, f, tenants, say) })
	var replies int
	wg.Go(func() { replies = sendReplies(chaosCtx, sb, f, tenants[nudgeShop], say) })
	var conversation conversationPlay
	wg.Go(func() { conversation = playConversation(chaosCtx, f, sb, tenants, say) })
	var booking bookingPlay
	wg.Go(func() { booking = playBookings(chaosCtx, f, sb) })
	var repeats int
	wg.Go(func() { repeats = playRepeatCustomers(chaosCtx, sb, tenants, say) })
	var clock clockPlay
	wg.Go(func() { clock = playClockCustomers(chaosCtx, sb, tenants, g.cast, say) })
	var kills, pgRestarts int
	wg.Go(func() {
		kills, pgRestarts = f.wreak(chaosCtx, cluster, o, say)
	})
	wg.Wait()
	stopChaos()
	return fireReport{kills: kills, pgRestarts: pgRestarts, stops: stops, replies: replies, conversation: conversation, booking: booking, repeatCustomers: repeats, clock: clock}
}

// drainBound is how long, once the faults stop, the fleet may take to
// finish everything, by what the replicas' settings (cfg) promise; a run
// that needs longer has found work that waits longer than it should. The
// longest chain: a replica killed in the last second of the chaos leaves
// jobs running, which resume within jobs.CrashResumeBound; a job that
// failed just before the faults cleared tries again within the retry
// policy's longest wait (plus River's 5s scheduler); an email whose send
// was interrupted waits sendgrid.confirm_wait for SendGrid's event; and
// the last text may be followed by the nudge step. (A 429 without a wait
// snoozes 1s, 2s, 4s ...: six in a row would be needed to exceed the retry
// wait, at the faults' 2-4% rates about one in a billion.)
func drainBound(cfg *config.Config) time.Duration {
	return jobs.CrashResumeBound(cfg.River.RescueStuckJobsAfter) +
		jobs.MaxCallRetryWait() + 5*time.Second +
		cfg.SendGrid.ConfirmWait +
		nudgeDelay
}

// injectFaults turns on the run's provider faults. Each applies to a share
// of requests (Rate) so that work still gets through between them.
func injectFaults(sb *sandbox.Server) error {
	post := "POST"
	twilio := []fake.Fault{
		{Latency: 20 * time.Millisecond, Rate: 0.3},
		{Status: 500, Rate: 0.04, Method: post},                               // refused before processing
		{Status: 500, After: true, Rate: 0.04, Method: post},                  // created, answer lost
		{Hang: 5 * time.Second, After: true, Rate: 0.02, Method: post},        // created, client times out
		{Reset: true, Rate: 0.02},                                             // connection reset
		{Status: 429, RetryAfter: time.Second, Rate: 0.03, Method: post},      // rate limited, says when
		{Status: 429, EmptyBody: true, Rate: 0.02, Method: post},              // rate limited, says nothing
		{Status: 503, EmptyBody: true, After: true, Rate: 0.02, Method: post}, // gateway after processing
	}
	sendgrid := []fake.Fault{
		{Latency: 20 * time.Millisecond, Rate: 0.3},
		{Status: 500, After: true, Rate: 0.05},
		{Hang: 5 * time.Second, After: true, Rate: 0.02},
		{Reset: true, After: true, Rate: 0.02},
		{Status: 429, RetryAfter: time.Second, Rate: 0.03},
		{Status: 429, EmptyBody: true, Rate: 0.02},
		{Reset: true, Rate: 0.02},
	}
	shopmonkey := []fake.Fault{
		{Latency: 10 * time.Millisecond, Rate: 0.3},
		{Status: 429, RetryAfter: time.Second, Rate: 0.04},
		{Status: 500, Rate: 0.03},
		{Reset: true, Rate: 0.01},
	}
	// Tekmetric's 429 has an empty body and no Retry-After, always.
	tekmetric := []fake.Fault{
		{Latency: 10 * time.Millisecond, Rate: 0.3},
		{Status: 429, EmptyBody: true, Rate: 0.04},
		{Status: 500, Rate: 0.03},
		{Reset: true, Rate: 0.01},
	}
	for provider, fs := range map[string][]fake.Fault{"twilio": twilio, "sendgrid": sendgrid, "shopmonkey": shopmonkey, "tekmetric": tekmetric} {
		if err := sb.SetFaults(provider, fs...); err != nil {
			return err
		}
	}
	// The fake Tekmetric's own limit sits above the shops' budget, so its
	// 429s come from the faults above.
	sb.Tekmetric.SetRateLimit(4000)
	sb.ShopMonkey.SetDuplicatePageRate(0.2)
	sb.ShopMonkey.SetDropRecordRate(0.1)
	return nil
}

// addLeads adds leads at rate per second, round-robin over the shops.
func addLeads(ctx context.Context, sb *sandbox.Server, tenants []lead.Tenant, rate float64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t := tenants[i%len(tenants)]
			_, _ = sb.AddCRMLead(t.CRMKind, t.CRMLocationID, i%4 == 3, time.Time{})
		}
	}
}

// fleet is the worker replicas, each a separate process.
type fleet struct {
	bin    string
	logDir string
	env    []string

	mu       sync.Mutex
	replicas []*replica
}

type replica struct {
	index int
	addr  string
	// operatorAddr is the replica's operator listener (metrics, River UI).
	operatorAddr string
	cmd          *exec.Cmd
	done         chan struct{}
}

func (r *replica) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// getenv is the environment a replica starts with (see start), for
// config.Load: the fleet's settings over the harness's own.
func (f *fleet) getenv(key string) string {
	for i := len(f.env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(f.env[i], "="); ok && k == key {
			return v
		}
	}
	return os.Getenv(key)
}

func (f *fleet) replica(i int) *replica {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replicas[i]
}

func (f *fleet) migrate(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, filepath.Join(f.bin, "worker"), "migrate")
	cmd.Env = append(os.Environ(), f.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("worker migrate: %w\n%s", err, out)
	}
	return nil
}

// start (re)starts replica i on its own fixed address, so the webhook URLs
// stay valid across restarts.
func (f *fleet) start(i int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.replicas) <= i {
		addr, err := devnet.FreeAddr()
		if err != nil {
			return err
		}
		operatorAddr, err := devnet.FreeAddr()
		if err != nil {
			return err
		}
		f.replicas = append(f.replicas, &replica{index: len(f.replicas), addr: addr, operatorAddr: operatorAddr, done: closedChan()})
	}
	r := f.replicas[i]
	logFile, err := os.OpenFile(filepath.Join(f.logDir, fmt.Sprintf("worker-%d.log", i+1)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(f.bin, "worker"), "run")
	// Twilio signs the URL it calls: each replica is its own public URL.
	cmd.Env = append(append(os.Environ(), f.env...), "LEADORCH_HTTP_ADDR="+r.addr, "LEADORCH_HTTP_PUBLIC_URL=http://"+r.addr,
		"LEADORCH_OPERATOR_ADDR="+r.operatorAddr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("error starting replica %d: %w", i+1, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(done) }()
	r.cmd, r.done = cmd, done
	return nil
}

func (f *fleet) kill(i int) {
	r := f.replica(i)
	if r.alive() {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		<-r.done
	}
}

func (f *fleet) stopAll() {
	f.mu.Lock()
	rs := append([]*replica(nil), f.replicas...)
	f.mu.Unlock()
	for _, r := range rs {
		if r.alive() {
			_ = r.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, r := range rs {
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			_ = r.cmd.Process.Kill()
		}
	}
}

func (f *fleet) webhookURLs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.replicas))
	for _, r := range f.replicas {
		out = append(out, webhookurl.URL("http://"+r.addr, webhookurl.SendGridEvents()))
	}
	return out
}

// wreak kills a random replica every killEvery (±50%) and starts it again a
// moment later, and crashes Postgres once half way through.
func (f *fleet) wreak(ctx context.Context, cluster *devpg.Cluster, o opts, say func(string, ...any)) (kills, pgRestarts int) {
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x5eed))
	pgAt := time.Now().Add(o.duration / 2)
	for {
		wait := time.Duration(float64(o.killEvery) * (0.5 + rng.Float64()))
		select {
		case <-ctx.Done():
			return kills, pgRestarts
		case <-time.After(wait):
		}
		if pgRestarts == 0 && time.Now().After(pgAt) {
			say("crashing Postgres (immediate stop)")
			if err := cluster.Stop("immediate"); err != nil {
				say("error stopping Postgres: %v", err)
			}
			time.Sleep(2 * time.Second)
			if err := cluster.Restart(context.Background()); err != nil {
				say("error restarting Postgres: %v", err)
			}
			pgRestarts++
			say("Postgres back")
			continue
		}
		i := rng.IntN(o.replicas)
		f.kill(i)
		kills++
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		if err := f.start(i); err != nil {
			say("error restarting replica %d: %v", i+1, err)
		}
	}
}

// drain waits until every lead the CRM has is ingested, every message due
// is final (or ambiguous), and no lead, message or booking job is left to
// run (a booking job whose replica died stays running until River's
// rescuer hands it on: the 10-minute run caught the checks reading its
// booking before that).
func drain(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, tenants []lead.Tenant, timeout time.Duration, say func(string, ...any)) bool {
	deadline := time.Now().Add(timeout)
	crmLeads := 0
	for _, t := range tenants {
		crmLeads += len(sb.CRMLeads(t.CRMKind, t.CRMLocationID))
	}
	last := time.Time{}
	for {
		var ingested, open, jobs int
		err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM leads),
			(SELECT count(*) FROM messages WHERE status IN ('pending', 'sending') AND NOT starts_with(last_error, $1)
				AND NOT starts_with(last_error, $3)),
			(SELECT count(*) FROM river_job WHERE kind IN ('ingest_lead', 'send_sms', 'send_email', 'record_email_event_batch',
				'book_appointment', 'change_booking')
				AND state NOT IN ('completed', 'cancelled', 'discarded')
				-- a text the cap holds waits hours for its window (its row is
				-- held, any other row of a snoozed job still counts open),
				-- and one for its customer's clock may wait past the drain
				-- (the checks judge it)
				AND NOT (kind = 'send_sms' AND state = 'scheduled' AND scheduled_at > least(now() + interval '1 hour', $2)))`,
			lead.TextCapHeldPrefix, deadline, lead.WindowHeldPrefix).Scan(&ingested, &open, &jobs)
		if err == nil && ingested >= crmLeads && open == 0 && jobs == 0 {
			say("drained: %d leads ingested, no message or job left open", ingested)
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			say("drain timed out: %d/%d leads ingested, %d messages open, %d jobs open (err %v)", ingested, crmLeads, open, jobs, err)
			return false
		}
		if time.Since(last) > 10*time.Second {
			say("draining: %d/%d leads ingested, %d messages open, %d jobs open", ingested, crmLeads, open, jobs)
			last = time.Now()
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
