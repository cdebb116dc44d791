package jobs

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// NotifyShopArgs tells a shop, by email to its notification address, that
// a customer replied (Reason "" or NoticeReply; MessageSID names the
// reply's inbound message), that a call was missed (NoticeMissedCall;
// MessageSID is "call:" and the call's CallSid), or that a customer
// booked, moved or cancelled online (NoticeBooking; MessageSID is
// bookingEvent's).
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

// NotifyShopWorker sends the notice, through the outbox like every
// message: the shop gets each notice at most once, whatever crashes.
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
	if a.Reason == NoticeBooking {
		// Composed from the booking, not from any inbound message.
		notice := lead.Message{LeadID: l.ID, Step: lead.NoticeStep(a.Reason, a.MessageSID), Channel: lead.ChannelEmail,
			To: t.NotifyEmail, From: t.EmailFrom, FromName: "Lead Orchestrator"}
		if notice.Subject, notice.Body, err = bookingNotice(ctx, st, t, l, a.MessageSID); err != nil {
			return err
		}
		return w.sendNotice(ctx, job, t, notice)
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
	notice := lead.Message{LeadID: l.ID, Step: lead.NoticeStep(a.Reason, a.MessageSID), Channel: lead.ChannelEmail,
		To: t.NotifyEmail, From: t.EmailFrom, FromName: "Lead Orchestrator"}
	if a.Reason == NoticeMissedCall {
		notice.Subject = "Missed call from " + string(l.Phone)
		notice.Body = fmt.Sprintf("%s called %s and nobody answered. They were sent your missed-call text (unless they opted out or were texted about a missed call in the last 24 hours).\n\nCall them back or answer their reply.\n",
			l.Phone, t.Name)
		return w.sendNotice(ctx, job, t, notice)
	}
	about := ""
	if v := l.Vehicle.Name(); v != "" {
		about = " about " + v
	}
	notice.Subject = "Reply from " + name
	notice.Body = fmt.Sprintf("%s (%s) replied by %s to your automatic messages%s:\n\n%s\n\nThe follow-up sequence for this lead has stopped; answer them directly.\n",
		name, l.Phone, by, about, body)
	// The notice's own reply address brings the shop's answer back, to be
	// texted to the customer.
	if notice.ReplyTo, err = w.deps.replyAddress(ctx, t, l.ID, lead.ReplyShop); err != nil {
		return err
	}
	if notice.ReplyTo != "" && l.Phone != "" {
		notice.Body += "\nReply to this email and your answer goes to " + l.FirstName + " as a text from your number.\n"
	}
	return w.sendNotice(ctx, job, t, notice)
}

// sendNotice emails the notice through the outbox, as every message goes
// (lead.NoticeStep names its row): claimed before the call, sent at most
// once, reconciled after a crash, and a notice whose send was interrupted
// waits for SendGrid's confirmation instead of reaching the shop twice.
func (w *NotifyShopWorker) sendNotice(ctx context.Context, job *river.Job[NotifyShopArgs], t lead.Tenant, notice lead.Message) error {
	return deliverDraft(ctx, w.deps, job, t, lead.Step{Name: notice.Step, Channel: lead.ChannelEmail}, notice, emailChannel{deps: w.deps})
}
