package jobs

import (
	"context"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// SendEmailArgs emails one step of one lead.
type SendEmailArgs struct {
	TenantID uuid.UUID `json:"tenant_id" river:"unique"`
	LeadID   uuid.UUID `json:"lead_id" river:"unique"`
	Step     string    `json:"step" river:"unique"`
	// Resend is zero for the scheduled send; an operator's resend of an
	// ambiguous message (`enqueue resend`) sets it to the message's attempt
	// count, so it is a new job, and asking twice queues it once.
	Resend int `json:"resend,omitempty" river:"unique"`
}

// Kind is the River job kind.
func (SendEmailArgs) Kind() string { return "send_email" }

// InsertOpts: one job per lead and step, ever.
func (SendEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEmail, MaxAttempts: callMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SendEmailWorker runs send_email.
type SendEmailWorker struct {
	river.WorkerDefaults[SendEmailArgs]
	deps *Deps
	ch   channel
}

// NewSendEmailWorker returns the worker.
func NewSendEmailWorker(deps *Deps) *SendEmailWorker {
	return &SendEmailWorker{deps: deps, ch: emailChannel{deps: deps}}
}

// Work delivers the email through the outbox.
func (w *SendEmailWorker) Work(ctx context.Context, job *river.Job[SendEmailArgs]) error {
	return deliver(ctx, w.deps, job, job.Args.TenantID, job.Args.LeadID, job.Args.Step, w.ch)
}
