package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// ClientOpts are the River settings of one worker replica.
type ClientOpts struct {
	// MaxWorkers per queue (QueueCRM, QueueSMS, QueueEmail,
	// QueueBookkeeping); a queue left out is not worked by this client.
	MaxWorkers map[string]int
	// FetchCooldown and FetchPollInterval tune how fast idle queues notice
	// new jobs; zero keeps River's defaults.
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// PollOnly finds new jobs and leadership changes by polling instead of
	// LISTEN, which a pooler in transaction mode (PgBouncer) cannot carry:
	// a LISTEN belongs to a session, and such a pooler gives the session to
	// another client after each transaction.
	PollOnly bool
	// JobTimeout bounds one run; zero keeps River's default (1 minute).
	JobTimeout time.Duration
	// ScheduleInterval is how often the leader looks for due polls; zero
	// disables the scheduler (tests that drive polls by hand).
	ScheduleInterval time.Duration
	// RescueStuckJobsAfter hands a job whose worker vanished to another
	// replica after this long; zero keeps River's default (1 hour).
	RescueStuckJobsAfter time.Duration
	// OutboxSweepInterval is how often the leader settles outbox rows
	// whose send job is gone (sweep_outbox); zero disables the sweep.
	OutboxSweepInterval time.Duration
	// PruneInterval is how often the leader deletes webhook receipts and
	// inbound messages older than WebhookReceiptRetention and
	// InboundMessageRetention (prune_expired); zero disables the prune.
	PruneInterval           time.Duration
	WebhookReceiptRetention time.Duration
	InboundMessageRetention time.Duration
	// ID names the client in River's tables and logs; empty lets River pick.
	ID string
}

// NewWorkers registers every job kind's worker.
func NewWorkers(deps *Deps) *river.Workers {
	workers := river.NewWorkers()
	river.AddWorker(workers, NewSchedulePollsWorker(deps))
	river.AddWorker(workers, NewPollCRMWorker(deps))
	river.AddWorker(workers, NewIngestLeadWorker(deps))
	river.AddWorker(workers, NewSendSMSWorker(deps))
	river.AddWorker(workers, NewSendEmailWorker(deps))
	river.AddWorker(workers, NewRecordJobExecutionWorker(deps))
	river.AddWorker(workers, NewRecordEmailEventsWorker(deps))
	river.AddWorker(workers, NewHandleInboundWorker(deps))
	river.AddWorker(workers, NewHandleInboundEmailWorker(deps))
	river.AddWorker(workers, NewHandleMissedCallWorker(deps))
	river.AddWorker(workers, NewNotifyShopWorker(deps))
	river.AddWorker(workers, NewBookAppointmentWorker(deps))
	river.AddWorker(workers, NewChangeBookingWorker(deps))
	river.AddWorker(workers, NewRecordSMSStatusWorker(deps))
	river.AddWorker(workers, NewLegacyHandleInboundWorker(deps))
	river.AddWorker(workers, NewLegacyRecordEmailEventsWorker(deps))
	river.AddWorker(workers, NewSweepOutboxWorker(deps))
	river.AddWorker(workers, NewPruneExpiredWorker(deps))
	return workers
}

// NewClient builds the River client of one replica: the queues, every
// worker, the execution recorder and the periodic scheduler.
func NewClient(deps *Deps, opts ClientOpts) (*river.Client[pgx.Tx], error) {
	queues := map[string]river.QueueConfig{}
	for name, n := range opts.MaxWorkers {
		queues[name] = river.QueueConfig{MaxWorkers: n}
	}
	cfg := &river.Config{
		ID:                   opts.ID,
		Queues:               queues,
		Workers:              NewWorkers(deps),
		Middleware:           []rivertype.Middleware{NewRunMetrics(deps), NewExecutionRecorder(deps)},
		Plugins:              tracePlugins(deps.TracerProvider),
		FetchCooldown:        opts.FetchCooldown,
		FetchPollInterval:    opts.FetchPollInterval,
		PollOnly:             opts.PollOnly,
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueStuckJobsAfter,
		RetryPolicy:          NewRetryPolicy(nil),
		Logger:               deps.Logger,
		ErrorHandler:         &errorHandler{logger: deps.Logger},
	}
	if opts.ScheduleInterval > 0 {
		cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(opts.ScheduleInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SchedulePollsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "schedule_polls", RunOnStart: true},
		)}
	}
	if opts.OutboxSweepInterval > 0 {
		cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(
			river.PeriodicInterval(opts.OutboxSweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SweepOutboxArgs{}, nil },
			&river.PeriodicJobOpts{ID: "sweep_outbox", RunOnStart: true},
		))
	}
	if opts.PruneInterval > 0 {
		prune := PruneExpiredArgs{
			WebhookReceipts: opts.WebhookReceiptRetention.String(),
			InboundMessages: opts.InboundMessageRetention.String(),
		}
		cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(
			river.PeriodicInterval(opts.PruneInterval),
			func() (river.JobArgs, *river.InsertOpts) { return prune, nil },
			&river.PeriodicJobOpts{ID: "prune_expired", RunOnStart: true},
		))
	}
	return river.NewClient(riverpgxv5.New(deps.Pool), cfg)
}

// errorHandler logs failed runs with what an operator needs to find them.
// River calls it outside the run, after the run's span has ended, so its
// lines carry the trace the job was inserted in, read from the job's
// metadata (their span_id is the inserting span's).
type errorHandler struct {
	logger *slog.Logger
}

func (h *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	ctx = jobTraceContext(ctx, job)
	h.logger.WarnContext(ctx, "job failed", slog.String("kind", job.Kind), slog.Int64("job_id", job.ID),
		slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts), slog.String("error", err.Error()))
	return nil
}

func (h *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	ctx = jobTraceContext(ctx, job)
	h.logger.ErrorContext(ctx, "job panicked", slog.String("kind", job.Kind), slog.Int64("job_id", job.ID),
		slog.Int("attempt", job.Attempt), slog.Any("panic", panicVal), slog.String("trace", trace))
	return nil
}
