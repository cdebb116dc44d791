package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// NotifyShopArgs tells a shop, by email to its notification address, that
// a customer replied (Reason "" or NoticeReply; MessageSID names the
// reply's inbound message) or that a call was missed (NoticeMissedCall;
// MessageSID is "call:" and the call's CallSid).
type NotifyShopArgs struct {
	TenantID   uuid.UUID `json:"tenant_id" river:"unique"`
	LeadID     uuid.UUID `json:"lead_id" river:"unique"`
	MessageSID string    `json:"message_sid" river:"unique"`
	Reason     string    `json:"reason,omitempty"`
}

// The reasons a shop is notified.
const (
	NoticeReply      = "reply"
	NoticeMissedCall = "missed_call"
)

// Kind is the River job kind.
func (NotifyShopArgs) Kind() string { return "notify_shop" }

// InsertOpts: one notice per reply.
func (NotifyShopArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEmail, MaxAttempts: callMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// NotifyShopWorker sends the notice. It goes to the shop, not a customer,
// so it skips the outbox: a send whose outcome is unknown is retried, and
// the shop may, rarely, get the same notice twice.
type NotifyShopWorker struct {
	river.WorkerDefaults[NotifyShopArgs]
	deps *Deps
}

// NewNotifyShopWorker returns the worker.
func NewNotifyShopWorker(deps *Deps) *NotifyShopWorker { return &NotifyShopWorker{deps: deps} }

// Work emails the reply, with who sent it and about what.
func (w *NotifyShopWorker) Work(ctx context.Context, job *river.Job[NotifyShopArgs]) error {
	a := job.Args
	st := store.New(w.deps.Pool)
	t, err := loadTenant(ctx, st, a.TenantID, evenDisabled)
	if err != nil {
		return err
	}
	if t.NotifyEmail == "" {
		return river.JobCancel(fmt.Errorf("tenant %s has no notify_email any more", t.Name))
	}
	l, err := st.GetLead(ctx, a.TenantID, a.LeadID)
	if err != nil {
		return cancelIfNotFound(err)
	}
	in, err := st.ListInbound(ctx, a.TenantID, a.LeadID)
	if err != nil {
		return err
	}
	body, by := "", "text"
	for _, m := range in {
		if m.ProviderID == a.MessageSID {
			body = m.Body
			if m.Channel == string(lead.ChannelEmail) {
				by = "email"
			}
		}
	}
	name := l.FirstName + " " + l.LastName
	if a.Reason == NoticeMissedCall {
		return w.sendNotice(ctx, job, t.NotifyEmail, t.EmailFrom, "Missed call from "+string(l.Phone), fmt.Sprintf(
			"%s called %s and nobody answered. They were sent your missed-call text (unless they opted out or were texted about a missed call in the last 24 hours).\n\nCall them back or answer their reply.\n",
			l.Phone, t.Name), "", map[string]string{"tenant_id": t.ID.String(), "lead_id": l.ID.String(), "notice": NoticeMissedCall})
	}
	about := ""
	if v := l.Vehicle.Name(); v != "" {
		about = " about " + v
	}
	text := fmt.Sprintf("%s (%s) replied by %s to your automatic messages%s:\n\n%s\n\nThe follow-up sequence for this lead has stopped; answer them directly.\n",
		name, l.Phone, by, about, body)
	// The notice's own reply address brings the shop's answer back, to be
	// texted to the customer.
	replyTo, err := w.deps.replyAddress(ctx, t, l.ID, lead.ReplyShop)
	if err != nil {
		return err
	}
	if replyTo != "" && l.Phone != "" {
		text += "\nReply to this email and your answer goes to " + l.FirstName + " as a text from your number.\n"
	}
	return w.sendNotice(ctx, job, t.NotifyEmail, t.EmailFrom, "Reply from "+name, text, replyTo,
		map[string]string{"tenant_id": t.ID.String(), "lead_id": l.ID.String(), "notice": NoticeReply})
}

// sendNotice emails the shop and completes the job.
func (w *NotifyShopWorker) sendNotice(ctx context.Context, job *river.Job[NotifyShopArgs], to, from, subject, text, replyTo string, customArgs map[string]string) error {
	start := time.Now()
	_, err := w.deps.Email.SendEmail(ctx, messaging.Email{
		To: to, From: from, FromName: "Lead Orchestrator", Subject: subject, Text: text, ReplyTo: replyTo, CustomArgs: customArgs,
	})
	w.deps.observeProvider(w.deps.emailProvider(), metrics.OperationSend, start, err)
	if err != nil {
		return fmt.Errorf("error emailing the shop (%s): %w", customArgs["notice"], err)
	}
	return w.deps.inTx(ctx, func(tx pgx.Tx) error { return completeTx(ctx, tx, job) })
}
