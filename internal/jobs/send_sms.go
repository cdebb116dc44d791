package jobs

import (
	"context"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// SendSMSArgs texts one step of one lead.
type SendSMSArgs struct {
	TenantID uuid.UUID `json:"tenant_id" river:"unique"`
	LeadID   uuid.UUID `json:"lead_id" river:"unique"`
	Step     string    `json:"step" river:"unique"`
	// Resend is zero for the scheduled send; an operator's resend of an
	// ambiguous message (`enqueue resend`) sets it to the message's attempt
	// count, so it is a new job, and asking twice queues it once.
	Resend int `json:"resend,omitempty" river:"unique"`
}

// Kind is the River job kind.
func (SendSMSArgs) Kind() string { return "send_sms" }

// InsertOpts: one job per lead and step, ever.
func (SendSMSArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueSMS, MaxAttempts: callMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SendSMSWorker runs send_sms.
type SendSMSWorker struct {
	river.WorkerDefaults[SendSMSArgs]
	deps *Deps
	ch   channel
}

// NewSendSMSWorker returns the worker.
func NewSendSMSWorker(deps *Deps) *SendSMSWorker {
	return &SendSMSWorker{deps: deps, ch: smsChannel{deps: deps}}
}

// Work delivers the text through the outbox.
func (w *SendSMSWorker) Work(ctx context.Context, job *river.Job[SendSMSArgs]) error {
	return deliver(ctx, w.deps, job, job.Args.TenantID, job.Args.LeadID, job.Args.Step, w.ch)
}
