// Package jobs is the path of a lead as River jobs, one file per kind:
// schedule_polls finds tenants due a poll, poll_crm lists what changed in a
// window, ingest_lead stores one lead and schedules its messages, send_sms
// and send_email deliver them through the outbox. Every run of every job
// gets one job_executions row: a completed run writes it in its own
// transaction, any other run through a record_job_execution job.
//
// Each step's writes, the jobs it inserts and its own completion commit in
// one transaction (river.JobCompleteTx), so a crash at any point leaves
// either all of a step or none of it.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// Queues, one per concern, so that a slow CRM cannot hold back texts and
// bookkeeping cannot hold back either.
const (
	QueueCRM         = "crm"
	QueueSMS         = "sms"
	QueueEmail       = "email"
	QueueBookkeeping = "bookkeeping"
)

// StepInitial is the immediate speed-to-lead message of a new lead.
const StepInitial = "initial"

// Deps is everything the workers need. main builds it once and passes it to
// NewWorkers; nothing in this package reaches for globals.
type Deps struct {
	Pool  *pgxpool.Pool
	CRM   *crm.Registry
	SMS   messaging.SMSSender
	Email messaging.EmailSender

	// Templates are the fleet's default message templates; a tenant's own
	// override them field by field.
	Templates lead.Templates
	// StatusCallbackURL is where Twilio posts delivery updates; empty means
	// none are asked for.
	StatusCallbackURL string

	// PollOverlap is how far before the cursor each live poll starts;
	// PollMaxWindow the longest window one poll covers.
	PollOverlap   time.Duration
	PollMaxWindow time.Duration
	// ReconcileAfter is how long after a send was claimed a later attempt
	// waits before asking the provider whether it went out. It must exceed
	// the provider call's timeout, so a rescued duplicate job does not ask
	// while the first call is still in flight.
	ReconcileAfter time.Duration
	// ConfirmWait bounds how long an interrupted send whose fate is unknown
	// waits for proof either way before it is marked ambiguous.
	ConfirmWait time.Duration

	// Now is the clock; tests set it.
	Now    func() time.Time
	Logger *slog.Logger
}

func (d *Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// inTx runs fn in a transaction and commits it. fn ends with completeTx,
// so the commit also completes the job.
func (d *Deps) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("error committing: %w", err)
	}
	return nil
}

// crmError turns an adapter error into what the job should do next: snooze
// on a rate limit (no attempt spent), cancel on bad credentials or a bad
// record (retrying cannot fix either), retry on anything else.
func crmError(action string, err error) error {
	var (
		limited *crm.RateLimitedError
		invalid *crm.InvalidRecordError
		vErr    *lead.ValidationError
		status  *crm.StatusError
	)
	switch {
	case errors.As(err, &limited):
		return river.JobSnooze(limited.RetryAfter)
	case errors.Is(err, crm.ErrUnauthorized):
		return river.JobCancel(fmt.Errorf("%s: the CRM rejected the tenant's credentials; fix them with `enqueue tenant` and retry: %w", action, err))
	case errors.As(err, &invalid), errors.As(err, &vErr):
		return river.JobCancel(fmt.Errorf("%s: %w", action, err))
	case errors.Is(err, crm.ErrNotFound):
		return river.JobCancel(fmt.Errorf("%s: %w", action, err))
	case errors.As(err, &status) && !status.Temporary():
		return river.JobCancel(fmt.Errorf("%s: %w", action, err))
	}
	return fmt.Errorf("%s: %w", action, err)
}
