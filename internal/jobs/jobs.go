// Package jobs is the path of a lead as River jobs, one file per kind:
// schedule_polls finds tenants due a poll, poll_crm lists what changed in a
// window, ingest_lead stores one lead and schedules its messages, send_sms
// and send_email deliver them through the outbox. Every run of every job
// gets one job_executions row: a completed run writes it in its own
// transaction, any other run through a record_job_execution job. The
// leader's housekeeping runs beside them: sweep_outbox settles outbox rows
// no send job is left to finish, prune_expired deletes rows past retention.
//
// Each step's writes, the jobs it inserts and its own completion commit in
// one transaction (river.JobCompleteTx), so a crash at any point leaves
// either all of a step or none of it.
package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// Queues, one per concern, so that a slow CRM cannot hold back texts and
// bookkeeping cannot hold back either. Historic work (backfills) has a
// queue of its own: however large a backfill, and however slow that shop's
// CRM, it never takes a worker that a live lead is waiting for.
const (
	QueueCRM         = "crm"
	QueueCRMBackfill = "crm_backfill"
	QueueSMS         = "sms"
	QueueEmail       = "email"
	QueueBookkeeping = "bookkeeping"
)

// StepInitial is the immediate speed-to-lead message of a new lead.
const StepInitial = lead.StepInitial

// Deps is everything the workers need. main builds it once and passes it to
// NewWorkers; nothing in this package reaches for globals.
type Deps struct {
	Pool *pgxpool.Pool
	CRM  *crm.Registry
	// Credentials opens tenants' sealed CRM secrets, only to build an
	// adapter for one job.
	Credentials *credentials.Keyring
	SMS         messaging.SMSSender
	Email       messaging.EmailSender

	// Templates are the fleet's default message templates; a tenant's own
	// override them field by field.
	Templates lead.Templates
	// ReceiveReplies says the inbound email route is on (Inbound Parse
	// posts to us); without it emails carry no reply address, since a
	// reply to it would be lost. ReplyDomain is the fleet's receiving
	// domain (sendgrid.reply_domain) for tenants that set none.
	ReceiveReplies bool
	ReplyDomain    string
	// StatusCallbackURL is where Twilio posts a tenant's delivery updates;
	// nil or an empty answer means none are asked for.
	StatusCallbackURL func(tenantID uuid.UUID) string
	// PublicURL is the worker's public listener as customers reach it
	// ("https://book.example.com"): booking links are PublicURL +
	// "/book/" + token. Empty: messages carry no booking link.
	PublicURL string

	// PollOverlap is how far before the cursor each live poll starts;
	// PollMaxWindow the longest window one poll covers.
	PollOverlap   time.Duration
	PollMaxWindow time.Duration
	// ReconcileAfter is how long after a send was claimed a later attempt
	// waits before asking the provider whether it went out. It must exceed
	// the provider call's timeout, so a rescued duplicate job does not ask
	// while the first call is still in flight.
	ReconcileAfter time.Duration
	// CRMReconcileAfter is ReconcileAfter for a booking's CRM call (zero:
	// ReconcileAfter): longer than the CRM client's timeout.
	CRMReconcileAfter time.Duration
	// ConfirmWait bounds how long an interrupted send whose fate is unknown
	// waits for proof either way before it is marked ambiguous.
	ConfirmWait time.Duration

	// Metrics records what the jobs do for Prometheus; nil records
	// nothing. SMSProvider and EmailProvider name SMS's and Email's
	// provider in its labels ("twilio", "sendgrid" when empty).
	Metrics                    *metrics.Metrics
	SMSProvider, EmailProvider string
	// TracerProvider traces every run and carries each job's trace from
	// its insert to its run (trace_middleware.go); nil traces nothing.
	TracerProvider trace.TracerProvider

	// Now is the clock; tests set it.
	Now    func() time.Time
	Logger *slog.Logger
}

// adapter builds the CRM adapter of tenant t for one job. A tenant whose
// settings or secret cannot make one is an operator's problem that retries
// cannot fix: the job is cancelled with the reason.
func (d *Deps) adapter(t lead.Tenant) (crm.Adapter, error) {
	secret, err := d.Credentials.OpenFor(t)
	if err != nil {
		return nil, river.JobCancel(&tenantSettingsError{err})
	}
	a, err := d.CRM.Adapter(t, secret)
	if err != nil {
		return nil, river.JobCancel(&tenantSettingsError{err})
	}
	return a, nil
}

// tenantSettingsError is a tenant's settings or secret that cannot make an
// adapter. Its field errors look like a bad record's (*lead.ValidationError),
// so the type tells an ingest that its record is not to blame.
type tenantSettingsError struct{ err error }

func (e *tenantSettingsError) Error() string { return e.err.Error() }
func (e *tenantSettingsError) Unwrap() error { return e.err }

// rateLimitBackoff is how long a job waits after a 429 that named no time:
// 1s, 2s, 4s ... doubling with each snooze of the job, at most 5 minutes,
// with up to a quarter of jitter so that a shop's jobs do not retry in step
// (the Backoff of retry_policy.go; a snooze spends no attempt, so it counts
// snoozes where a retry counts errors). The cap is longer than a failed
// call's (30s): a CRM that is up but says "slower" is not helped by being
// asked again every 30s.
func rateLimitBackoff(job *rivertype.JobRow) time.Duration {
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &meta)
	return Backoff{Base: time.Second, Cap: 5 * time.Minute}.Delay(meta.Snoozes + 1)
}

func (d *Deps) statusCallbackURL(tenantID uuid.UUID) string {
	if d.StatusCallbackURL == nil {
		return ""
	}
	return d.StatusCallbackURL(tenantID)
}

func (d *Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// crmError turns an adapter error into what the job should do next: snooze
// on a rate limit (no attempt spent), cancel on bad credentials or a bad
// record (retrying cannot fix either), retry on anything else.
func crmError(job *rivertype.JobRow, action string, err error) error {
	var (
		limited *crm.RateLimitedError
		invalid *crm.InvalidRecordError
		vErr    *lead.ValidationError
		status  *crm.StatusError
	)
	switch {
	case errors.As(err, &limited):
		if limited.RetryAfter > 0 {
			return river.JobSnooze(limited.RetryAfter)
		}
		// The CRM did not say when (Tekmetric's 429 has an empty body):
		// back off exponentially over this job's snoozes.
		return river.JobSnooze(rateLimitBackoff(job))
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
