package jobs

import (
	"context"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
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
	w := &SendSMSWorker{deps: deps}
	w.ch = channel{
		kind: lead.ChannelSMS,
		compose: func(t lead.Tenant, l lead.Lead, step lead.Step) (lead.Message, error) {
			tmpl := step.Wording(t.Templates.Or(deps.Templates))
			body, err := lead.RenderTemplate(step.Name+".sms", tmpl.SMS, lead.NewMessageData(t, l))
			if err != nil {
				return lead.Message{}, err
			}
			from := t.SMSFrom
			if t.MessagingServiceSID != "" {
				from = t.MessagingServiceSID
			}
			return lead.Message{LeadID: l.ID, Step: step.Name, Channel: lead.ChannelSMS, To: string(l.Phone), From: from, Body: body}, nil
		},
		send: func(ctx context.Context, t lead.Tenant, m lead.Message) (string, error) {
			return deps.SMS.SendSMS(ctx, messaging.SMS{
				To: m.To, From: t.SMSFrom, MessagingServiceSID: t.MessagingServiceSID, Body: m.Body,
				StatusCallback: deps.statusCallbackURL(t.ID),
			})
		},
		find: func(ctx context.Context, t lead.Tenant, m lead.Message) (string, verdict, error) {
			return findSMS(ctx, deps, t, m)
		},
	}
	return w
}

// findSMS reconciles an interrupted text with Twilio's message list, the
// record of what it accepted: a message from the shop to this number with
// exactly this body, created since the claim and not already recorded as
// another message of ours, is this one.
func findSMS(ctx context.Context, deps *Deps, t lead.Tenant, m lead.Message) (string, verdict, error) {
	sids, err := deps.SMS.FindSMS(ctx, messaging.SMS{
		To: m.To, From: t.SMSFrom, MessagingServiceSID: t.MessagingServiceSID, Body: m.Body,
	}, m.SendingAt)
	if err != nil {
		return "", verdictUnknown, err
	}
	if len(sids) == 0 {
		return "", verdictAbsent, nil
	}
	taken, err := store.New(deps.Pool).RecordedProviderIDs(ctx, t.ID, sids)
	if err != nil {
		return "", verdictUnknown, err
	}
	for _, sid := range sids {
		if !taken[sid] {
			return sid, verdictFound, nil
		}
	}
	return "", verdictAbsent, nil
}

// Work delivers the text through the outbox.
func (w *SendSMSWorker) Work(ctx context.Context, job *river.Job[SendSMSArgs]) error {
	return deliver(ctx, w.deps, job, job.Args.TenantID, job.Args.LeadID, job.Args.Step, w.ch)
}
