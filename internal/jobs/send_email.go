package jobs

import (
	"context"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
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
	w := &SendEmailWorker{deps: deps}
	w.ch = channel{
		kind: lead.ChannelEmail,
		compose: func(t lead.Tenant, l lead.Lead, step lead.Step) (lead.Message, error) {
			tmpl := step.Wording(t.Templates.Or(deps.Templates))
			data := lead.NewMessageData(t, l)
			subject, err := lead.RenderTemplate(step.Name+".email_subject", tmpl.EmailSubject, data)
			if err != nil {
				return lead.Message{}, err
			}
			body, err := lead.RenderTemplate(step.Name+".email_text", tmpl.EmailText, data)
			if err != nil {
				return lead.Message{}, err
			}
			return lead.Message{LeadID: l.ID, Step: step.Name, Channel: lead.ChannelEmail, To: string(l.Email),
				From: t.EmailFrom, Subject: subject, Body: body}, nil
		},
		send: func(ctx context.Context, t lead.Tenant, m lead.Message) (string, error) {
			return deps.Email.SendEmail(ctx, messaging.Email{
				To: m.To, From: t.EmailFrom, FromName: t.EmailFromName, Subject: m.Subject, Text: m.Body,
				// Events come back with these, which is how a bounce or
				// an unsubscribe finds its message and tenant.
				CustomArgs: map[string]string{
					"tenant_id": t.ID.String(), "lead_id": m.LeadID.String(), "message_id": m.ID.String(),
				},
			})
		},
		find: func(ctx context.Context, _ lead.Tenant, m lead.Message) (string, verdict, error) {
			return confirmEmail(ctx, deps, m)
		},
	}
	return w
}

// confirmEmail reconciles an interrupted email. SendGrid has no lookup by
// our ids (short of the paid Email Activity API), but every email it
// accepts produces a "processed" event carrying our message id in its
// custom args. That event arriving proves the email went out (found). Its
// absence proves nothing: SendGrid neither orders its events nor redelivers
// a rejected batch promptly, so a later send's event can arrive long before
// this one's. So without the event the verdict stays unknown; the caller
// waits up to ConfirmWait and then marks the message ambiguous for an
// operator. An event that arrives later still marks it sent.
func confirmEmail(ctx context.Context, deps *Deps, m lead.Message) (string, verdict, error) {
	id, found, err := store.New(deps.Pool).ProcessedEvent(ctx, m.TenantID, m.ID)
	if err != nil {
		return "", verdictUnknown, err
	}
	if found {
		return id, verdictFound, nil
	}
	return "", verdictUnknown, nil
}

// Work delivers the email through the outbox.
func (w *SendEmailWorker) Work(ctx context.Context, job *river.Job[SendEmailArgs]) error {
	return deliver(ctx, w.deps, job, job.Args.TenantID, job.Args.LeadID, job.Args.Step, w.ch)
}
