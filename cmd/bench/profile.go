package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// profileResult is the end-to-end case run with the jobs inside the bench
// process (one River client built by jobs.NewClient, as one replica
// would), under a CPU profile. The profile also holds the provider fakes,
// which serve from the same process (internal/sandbox frames).
type profileResult struct {
	File        string   `json:"file"`
	Leads       int      `json:"leads"`
	Seconds     float64  `json:"seconds"`
	LeadsPerSec float64  `json:"leads_per_sec"`
	CPU         cpuSplit `json:"cpu"`
}

func (p *profileResult) String() string {
	return fmt.Sprintf("%d leads in %.2fs (%.1f leads/s, one in-process client); CPU: %s; profile in %s (go tool pprof -top %s)",
		p.Leads, p.Seconds, p.LeadsPerSec, p.CPU, p.File, p.File)
}

func (b *bench) runProfile(ctx context.Context, res *results) error {
	const dbName = "bench_profile"
	n, nTenants, w := b.o.leads, b.o.tenants, b.o.worker
	b.say("in-process profile: %d leads over %d tenants, CPU profile into %s ...", n, nTenants, b.o.profile)
	if _, err := b.db.clone(ctx, dbName); err != nil {
		return err
	}
	defer b.db.drop(dbName)
	fk, err := startFakes()
	if err != nil {
		return err
	}
	defer fk.close()
	pool, err := b.db.pool(ctx, dbName, int32(w.MaxConns))
	if err != nil {
		return err
	}
	defer pool.Close()
	seed, err := seedE2E(ctx, pool, fk, n, nTenants)
	if err != nil {
		return err
	}

	// The fleet's defaults (templates, timeouts, poll settings) exactly as a
	// worker with no config file would have them.
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		return err
	}
	sms, err := twilio.NewSender(twilio.SenderOpts{
		AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken,
		BaseURL: fk.urls.Twilio, Timeout: cfg.Twilio.Timeout,
	})
	if err != nil {
		return err
	}
	email, err := sendgrid.NewSender(sendgrid.SenderOpts{APIKey: fakesendgrid.DefaultAPIKey, BaseURL: fk.urls.SendGrid, Timeout: cfg.SendGrid.Timeout})
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	deps := &jobs.Deps{
		Pool:        pool,
		CRM:         crmset.NewRegistry(crmset.Opts{Settings: map[string]crm.Settings{"shopmonkey": {BaseURL: fk.urls.ShopMonkey, Timeout: cfg.ShopMonkey.Timeout}}}),
		Credentials: benchKeys,
		SMS:         sms,
		Email:       email,
		Templates: lead.Templates{
			SMS: cfg.Templates.SMS, EmailSubject: cfg.Templates.EmailSubject, EmailText: cfg.Templates.EmailText,
		},
		PollOverlap:    cfg.Poll.Overlap,
		PollMaxWindow:  cfg.Poll.MaxWindow,
		ReconcileAfter: 2 * cfg.Twilio.Timeout,
		Logger:         logger,
	}
	stop, err := b.startProfileClient(ctx, deps, cfg)
	if err != nil {
		return err
	}
	defer stop()
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: logger})
	if err != nil {
		return err
	}

	p, err := b.profileE2E(ctx, pool, fk, inserter, seed)
	if err != nil {
		return err
	}
	res.Profile = p
	b.say("in-process profile: %s", p)
	return nil
}

// startProfileClient starts the one in-process River client, built by
// jobs.NewClient with the replicas' queue and fetch settings; stop stops it.
func (b *bench) startProfileClient(ctx context.Context, deps *jobs.Deps, cfg *config.Config) (stop func(), err error) {
	w := b.o.worker
	client, err := jobs.NewClient(deps, jobs.ClientOpts{
		MaxWorkers: map[string]int{
			jobs.QueueCRM: w.CRMWorkers, jobs.QueueSMS: w.SMSWorkers, jobs.QueueEmail: w.EmailWorkers, jobs.QueueBookkeeping: w.BookkeepingWorkers,
		},
		FetchCooldown:     w.FetchCooldown,
		FetchPollInterval: w.FetchPollInterval,
		JobTimeout:        cfg.River.JobTimeout,
	})
	if err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	return func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}, nil
}

// profileE2E is the measured part, under the CPU profile: it inserts the
// seed's polls and waits until every lead is texted and emailed and every
// run recorded.
func (b *bench) profileE2E(ctx context.Context, pool *pgxpool.Pool, fk *fakes, inserter *river.Client[pgx.Tx], seed *e2eSeed) (*profileResult, error) {
	n := b.o.leads
	f, err := os.Create(b.o.profile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, err
	}
	meter := startCPUMeter(nil, b.db.postmasterPID())
	start := time.Now()
	if _, err := inserter.InsertMany(ctx, seed.polls()); err != nil {
		pprof.StopCPUProfile()
		return nil, err
	}
	_, err = waitE2EDone(ctx, pool, fk, n, b.o.e2eTimeout)
	pprof.StopCPUProfile()
	cpu := meter.stop()
	if err != nil {
		return nil, err
	}
	var end time.Time
	if err := pool.QueryRow(ctx, `SELECT max(finalized_at) FROM river_job WHERE created_at >= $1`, start.Add(-time.Second)).Scan(&end); err != nil {
		return nil, err
	}
	p := &profileResult{File: b.o.profile, Leads: n, Seconds: end.Sub(start).Seconds(), CPU: cpu}
	p.LeadsPerSec = float64(n) / p.Seconds
	return p, nil
}
