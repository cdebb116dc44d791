// Command worker is one member of the fleet: it runs the River client that
// works every queue, the public HTTP server (webhooks, /healthz, /readyz)
// and the operator HTTP server (/metrics, River UI, /healthz, /readyz).
// `worker migrate` applies the schema; `worker config` prints the effective
// configuration with secrets masked.
//
// Any number of replicas can run against one Postgres; they share nothing
// else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/tracing"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

const usage = `usage: worker [-config FILE] [run | migrate | config]

  run       work every queue and serve HTTP (the default)
  migrate   apply the app's and River's schema, then exit (safe to run from
            several replicas at once)
  config    print the effective configuration, secrets masked

The configuration is config.yaml (or -config FILE, or LEADORCH_CONFIG)
overridden by LEADORCH_* environment variables.
`

// run is the whole program; main only adds the process's signals,
// environment and exit code, so tests can run several workers in one
// process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "", "configuration file")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	cmd := "run"
	switch fs.NArg() {
	case 0:
	case 1:
		cmd = fs.Arg(0)
	default:
		return fmt.Errorf("too many arguments: %v\n%s", fs.Args(), usage)
	}
	cfg, err := config.Load(resolveConfigPath(*configPath, getenv), getenv)
	if err != nil {
		return err
	}
	logger := cfg.Log.NewLogger(stdout)

	switch cmd {
	case "run":
		if err := cfg.ValidateForWorker(); err != nil {
			return err
		}
		return serve(ctx, cfg, logger)
	case "migrate":
		return migrate(ctx, cfg, logger)
	case "config":
		_, err := fmt.Fprintln(stdout, cfg.String())
		return err
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// resolveConfigPath picks the file: -config, else LEADORCH_CONFIG, else
// config.yaml when it exists in the working directory, else none (defaults
// and environment only).
func resolveConfigPath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := getenv("LEADORCH_CONFIG"); p != "" {
		return p
	}
	if _, err := os.Stat("config.yaml"); err == nil {
		return "config.yaml"
	}
	return ""
}

// migrate applies the schema as the tables' owner (database.migrate_url,
// else database.url), then seals any CRM key stored in plaintext before
// secrets were encrypted.
func migrate(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	url := cfg.Database.MigrateURL
	if url == "" {
		url = cfg.Database.URL
	}
	// Straight to Postgres, never through a pooler in transaction mode:
	// the migration lock (and golang-migrate's own) is a session advisory
	// lock, which such a pooler would leave on a server connection it then
	// hands to someone else. So pgx's default exec mode is right here.
	pool, err := store.NewPool(ctx, url, store.PoolOpts{MaxConns: int32(cfg.Database.MaxConns)})
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, logger); err != nil {
		return err
	}
	var seal func(uuid.UUID, lead.Secret) (lead.SealedSecret, error)
	if cfg.Credentials.Keys != "" {
		keys, err := credentials.ParseKeyring(cfg.Credentials.Keys)
		if err != nil {
			return fmt.Errorf("invalid credentials.keys: %w", err)
		}
		seal = keys.Seal
	}
	sealed, err := store.SealLegacySecrets(ctx, pool, seal)
	if err != nil {
		return err
	}
	if sealed > 0 {
		logger.InfoContext(ctx, "sealed plaintext CRM keys", slog.Int("tenants", sealed))
	}
	version, _, err := store.SchemaVersion(ctx, pool)
	if err != nil {
		return err
	}
	logger.InfoContext(ctx, "database is up to date", slog.Int64("app_schema_version", version))
	return nil
}

// serve runs the replica until ctx is done, then stops in order (see
// stopInOrder).
func serve(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	logger.InfoContext(ctx, "starting worker", slog.Any("config", cfg))
	traces, err := newTracing(ctx, cfg)
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: the spans of the jobs that finished
	// during the stop are exported too.
	defer flushTraces(traces, logger)
	logger = traceLogger(logger, traces)
	pool, err := store.NewPool(ctx, cfg.Database.URL, poolOpts(cfg))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := checkDatabase(ctx, pool); err != nil {
		return err
	}
	deps, err := newDeps(cfg, pool, logger, traces, newMetrics(cfg, pool))
	if err != nil {
		return err
	}
	client, err := newRiverClient(cfg, deps)
	if err != nil {
		return err
	}
	ui, err := newRiverUI(client, logger)
	if err != nil {
		return err
	}
	var started, stopping atomic.Bool
	ready := readiness(pool, &started, &stopping)
	handler, err := newHandler(cfg, deps, client, ready)
	if err != nil {
		return err
	}
	operatorHandler, err := httpapi.NewOperatorHandler(httpapi.OperatorOpts{Logger: logger, Ready: ready,
		Metrics: deps.Metrics.Handler(), RiverUI: ui, RiverUIUsername: cfg.RiverUI.Username, RiverUIPassword: cfg.RiverUI.Password})
	if err != nil {
		return err
	}

	// River's and the UI's background work must outlive ctx (the signal)
	// until their own orderly stop below.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	if err := ui.Start(workCtx); err != nil {
		return fmt.Errorf("error starting River UI: %w", err)
	}
	if err := client.Start(workCtx); err != nil {
		return fmt.Errorf("error starting River client: %w", err)
	}
	started.Store(true)

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("error listening on http.addr %s: %w", cfg.HTTP.Addr, err)
	}
	srv := httpapi.NewServer(handler, httpapi.ServerOpts{
		ReadTimeout:  cfg.HTTP.ReadTimeout,
		WriteTimeout: cfg.HTTP.WriteTimeout,
		IdleTimeout:  cfg.HTTP.IdleTimeout,
	})
	op, err := startOperator(cfg, operatorHandler)
	if err != nil {
		_ = ln.Close()
		return err
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	logger.InfoContext(ctx, "worker ready", slog.String("http", ln.Addr().String()), slog.String("operator", op.addr),
		slog.String("metrics", "http://"+op.addr+"/metrics"), slog.String("riverui", "http://"+op.addr+"/riverui/"))
	return stopInOrder(ctx, cfg, logger, srv, httpErr, client, &stopping, op)
}

// newRiverUI builds River UI over client, for the operator listener.
func newRiverUI(client *river.Client[pgx.Tx], logger *slog.Logger) (*riverui.Handler, error) {
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		// Args carry only ids since migration 7, but a job list is read
		// over shoulders: show them on request. (River UI has no way to
		// withhold them: its API returns them to anyone let in.)
		JobListHideArgsByDefault: true,
		Logger:                   logger,
		Prefix:                   "/riverui",
	})
	if err != nil {
		return nil, fmt.Errorf("error building River UI: %w", err)
	}
	return ui, nil
}

// poolOpts are the worker's pool settings: its size, and the query exec
// mode that database.url's path to Postgres can carry (exec behind
// PgBouncer in transaction mode).
func poolOpts(cfg *config.Config) store.PoolOpts {
	return store.PoolOpts{MaxConns: int32(cfg.Database.MaxConns), QueryExecMode: cfg.Database.QueryExecMode}
}

// checkDatabase refuses to serve a database whose schema is behind this
// build, or that serves the tables' owner rather than the app's role.
func checkDatabase(ctx context.Context, pool *pgxpool.Pool) error {
	if version, dirty, err := store.SchemaVersion(ctx, pool); err != nil || dirty || version < store.LatestSchemaVersion() {
		return fmt.Errorf("database schema is not ready (run `worker migrate`): version=%d (want %d) dirty=%v err=%v",
			version, store.LatestSchemaVersion(), dirty, err)
	}
	return store.CheckAppRole(ctx, pool)
}

// newRiverClient builds the River client that works every queue.
func newRiverClient(cfg *config.Config, deps *jobs.Deps) (*river.Client[pgx.Tx], error) {
	client, err := jobs.NewClient(deps, jobs.ClientOpts{
		MaxWorkers: map[string]int{
			jobs.QueueCRM:         cfg.Queues.CRM.MaxWorkers,
			jobs.QueueCRMBackfill: cfg.Queues.CRMBackfill.MaxWorkers,
			jobs.QueueSMS:         cfg.Queues.SMS.MaxWorkers,
			jobs.QueueEmail:       cfg.Queues.Email.MaxWorkers,
			jobs.QueueBookkeeping: cfg.Queues.Bookkeeping.MaxWorkers,
		},
		FetchCooldown:           cfg.River.FetchCooldown,
		FetchPollInterval:       cfg.River.FetchPollInterval,
		PollOnly:                cfg.River.PollOnly,
		JobTimeout:              cfg.River.JobTimeout,
		ScheduleInterval:        cfg.River.ScheduleInterval,
		RescueStuckJobsAfter:    cfg.River.RescueStuckJobsAfter,
		OutboxSweepInterval:     cfg.Outbox.SweepInterval,
		PruneInterval:           cfg.Retention.PruneInterval,
		WebhookReceiptRetention: cfg.Retention.WebhookReceipts,
		InboundMessageRetention: cfg.Retention.InboundMessages,
	})
	if err != nil {
		return nil, fmt.Errorf("error building River client: %w", err)
	}
	return client, nil
}

// newHandler wires the HTTP routes to their ports: the intake, the tenant
// lookup and the booking desk in jobs, the CRM kinds of the registry, and
// the providers' webhook parsers when they are configured.
func newHandler(cfg *config.Config, deps *jobs.Deps, client *river.Client[pgx.Tx], ready func(*http.Request) error) (http.Handler, error) {
	intake := &jobs.WebhookIntake{Pool: deps.Pool, Client: client, Logger: deps.Logger,
		IntakePerMinute: cfg.Webhooks.IntakePerMinute, IntakeBurst: cfg.Webhooks.IntakeBurst}
	opts := httpapi.Opts{
		Logger:         deps.Logger,
		Ready:          ready,
		Metrics:        deps.Metrics,
		Intake:         intake,
		Tenants:        jobs.WebhookTenants{Pool: deps.Pool, Keys: deps.Credentials},
		CRMKinds:       deps.CRM,
		PublicURL:      cfg.HTTP.PublicURL,
		TracerProvider: deps.TracerProvider,
		// The customers' booking page (/book/{token}), on this public
		// listener: its links (Deps.PublicURL) point here.
		Booking: jobs.NewBookingDesk(deps, client),
		// Emails' one-click unsubscribe (/unsubscribe/{token}), here too.
		Unsubscribe: jobs.NewUnsubscribeDesk(deps),
	}
	if cfg.Twilio.AuthToken != "" {
		webhooks := twilio.NewWebhooks(cfg.Twilio.AuthToken)
		opts.SMS = webhooks
		// The same account signs its numbers' Voice URLs (missed calls).
		opts.Voice, opts.Calls = webhooks, intake
	}
	if cfg.SendGrid.WebhookPublicKey != "" {
		events, err := sendgrid.NewEventWebhook(cfg.SendGrid.WebhookPublicKey)
		if err != nil {
			return nil, fmt.Errorf("sendgrid.webhook_public_key: %w", err)
		}
		opts.EmailEvents = events
	}
	if cfg.SendGrid.InboundPublicKey != "" {
		inbound, err := sendgrid.NewInboundWebhook(cfg.SendGrid.InboundPublicKey)
		if err != nil {
			return nil, fmt.Errorf("sendgrid.inbound_public_key: %w", err)
		}
		opts.InboundEmail = inbound
	}
	return httpapi.NewHandler(opts)
}

// stopInOrder waits for ctx (the signal) or the HTTP server's failure,
// then stops in order: readiness goes false while HTTP is still served for
// http.drain_delay, then the listener closes and in-flight requests
// finish, running jobs finish for river.soft_stop_timeout, the rest are
// cancelled (River hands them back to the queue), then the operator
// listener closes; the caller closes the pool last.
func stopInOrder(ctx context.Context, cfg *config.Config, logger *slog.Logger, srv *http.Server, httpErr <-chan error, client *river.Client[pgx.Tx], stopping *atomic.Bool, op *operatorListener) error {
	select {
	case <-ctx.Done():
		// Unready first, still serving: a load balancer needs a few
		// probes' time to stop sending, and a webhook sent to a closed
		// listener is a provider's retry at best.
		stopping.Store(true)
		logger.InfoContext(ctx, "stopping: unready, draining HTTP", slog.Duration("drain_delay", cfg.HTTP.DrainDelay))
		drain := time.NewTimer(cfg.HTTP.DrainDelay)
		select {
		case <-drain.C:
		case err := <-httpErr:
			drain.Stop()
			logger.ErrorContext(ctx, "http server failed while draining", slog.String("error", err.Error()))
		}
	case err := <-httpErr:
		stopping.Store(true)
		logger.ErrorContext(ctx, "http server failed; stopping", slog.String("error", err.Error()))
	}
	logger.Info("stopping: closing HTTP, finishing running jobs", slog.Duration("soft_stop_timeout", cfg.River.SoftStopTimeout))

	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("http server did not stop cleanly", slog.String("error", err.Error()))
	}

	softCtx, cancelSoft := context.WithTimeout(context.Background(), cfg.River.SoftStopTimeout)
	defer cancelSoft()
	if err := client.Stop(softCtx); err != nil {
		logger.Warn("jobs still running after the soft stop timeout; cancelling them (they go back to the queue)")
		hardCtx, cancelHard := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancelHard()
		if err := client.StopAndCancel(hardCtx); err != nil {
			op.shutdown(logger, cfg.HTTP.ShutdownTimeout)
			return fmt.Errorf("error stopping River client: %w", err)
		}
	}
	op.shutdown(logger, cfg.HTTP.ShutdownTimeout)
	logger.Info("worker stopped")
	return nil
}

func readiness(pool *pgxpool.Pool, started, stopping *atomic.Bool) func(*http.Request) error {
	return func(r *http.Request) error {
		if stopping.Load() {
			return errors.New("shutting down")
		}
		if !started.Load() {
			return errors.New("job client not started")
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			return errors.New("database unreachable")
		}
		return nil
	}
}

// newDeps builds the providers and the jobs' dependencies from config;
// with tracing on, every provider and CRM request gets a client span.
func newDeps(cfg *config.Config, pool *pgxpool.Pool, logger *slog.Logger, traces *tracing.Provider, m *metrics.Metrics) (*jobs.Deps, error) {
	sms, err := twilio.NewSender(twilio.SenderOpts{
		AccountSID: cfg.Twilio.AccountSID,
		AuthToken:  cfg.Twilio.AuthToken,
		BaseURL:    cfg.Twilio.BaseURL,
		Timeout:    cfg.Twilio.Timeout,
		HTTPClient: tracedClient(traces, tracing.PeerTwilio, messaging.NewTransport()),
	})
	if err != nil {
		return nil, err
	}
	email, err := sendgrid.NewSender(sendgrid.SenderOpts{
		APIKey:      cfg.SendGrid.APIKey,
		BaseURL:     cfg.SendGrid.BaseURL,
		Timeout:     cfg.SendGrid.Timeout,
		SandboxMode: cfg.SendGrid.SandboxMode,
		HTTPClient:  tracedClient(traces, tracing.PeerSendGrid, messaging.NewTransport()),
	})
	if err != nil {
		return nil, err
	}
	keys, err := credentials.ParseKeyring(cfg.Credentials.Keys)
	if err != nil {
		return nil, fmt.Errorf("invalid credentials.keys: %w", err)
	}
	return &jobs.Deps{
		Pool:          pool,
		CRM:           crmset.NewRegistry(crmOpts(cfg, pool, traces, m)),
		Metrics:       m,
		Credentials:   keys,
		SMS:           sms,
		Email:         email,
		SMSProvider:   metrics.ProviderTwilio,
		EmailProvider: metrics.ProviderSendGrid,
		Templates: lead.Templates{
			SMS:          cfg.Templates.SMS,
			EmailSubject: cfg.Templates.EmailSubject,
			EmailText:    cfg.Templates.EmailText,
		},
		// Replies are received only where Inbound Parse posts to us.
		ReceiveReplies: cfg.SendGrid.InboundPublicKey != "",
		ReplyDomain:    cfg.SendGrid.ReplyDomain,
		// Twilio calls back on the tenant's signed status route, when this
		// service has a public URL at all.
		StatusCallbackURL: func(tenantID uuid.UUID) string {
			if cfg.HTTP.PublicURL == "" {
				return ""
			}
			return webhookurl.URL(cfg.HTTP.PublicURL, webhookurl.TwilioStatus(tenantID.String()))
		},
		// Booking links in messages point at this service's public
		// listener, where the booking page is served.
		PublicURL:      cfg.HTTP.PublicURL,
		PollOverlap:    cfg.Poll.Overlap,
		PollMaxWindow:  cfg.Poll.MaxWindow,
		ReconcileAfter: 2 * max(cfg.Twilio.Timeout, cfg.SendGrid.Timeout),
		// A booking's create may still be in flight for a CRM timeout.
		CRMReconcileAfter: 2 * max(cfg.ShopMonkey.Timeout, cfg.Tekmetric.Timeout),
		// Without the event webhook nothing can confirm an interrupted
		// email, so waiting would only delay the operator's view.
		ConfirmWait:    confirmWait(cfg),
		Logger:         logger,
		TracerProvider: tracerOf(traces),
	}, nil
}

// crmOpts are the fleet-wide CRM settings of cfg, with every tenant's
// request budget kept in the database.
func crmOpts(cfg *config.Config, pool *pgxpool.Pool, traces *tracing.Provider, m *metrics.Metrics) crmset.Opts {
	return crmset.Opts{Settings: cfg.CRMs(), Budget: store.NewCRMBudget(pool, nil), Metrics: m,
		HTTPClient: tracedClient(traces, tracing.PeerCRM, crmTransport())}
}

// confirmWait is how long an interrupted send waits for confirmation:
// sendgrid.confirm_wait with the event webhook, else only as long as it
// takes to reconcile at all.
func confirmWait(cfg *config.Config) time.Duration {
	if cfg.SendGrid.WebhookPublicKey == "" {
		return 0
	}
	return cfg.SendGrid.ConfirmWait
}
