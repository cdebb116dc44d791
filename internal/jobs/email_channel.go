package jobs

import (
	"context"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// compose renders the step's subject and text and chooses the sender: the
// shop's address and display name as they are now, stored on the outbox
// row for every attempt. bookingURL is as smsChannel.compose's.
func (c emailChannel) compose(t lead.Tenant, l lead.Lead, step lead.Step, bookingURL string) (lead.Message, error) {
	data := lead.NewMessageData(t, l)
	data.BookingURL = bookingURL
	tmpl := step.Wording(t.Templates.Or(c.deps.Templates))
	subject, err := lead.RenderTemplate(step.Name+".email_subject", tmpl.EmailSubject, data)
	if err != nil {
		return lead.Message{}, err
	}
	body, err := lead.RenderTemplate(step.Name+".email_text", tmpl.EmailText, data)
	if err != nil {
		return lead.Message{}, err
	}
	if shop := shopAddress(t); shop != "" && c.deps.replyDomain(t) != "" {
		// Replies come to us and reach the shop; the shop's own address
		// is the way round it if they do not.
		body = strings.TrimRight(body, "\n") + "\n\nReply to this email, or write to " + t.Name + " at " + shop + ".\n"
	}
	return lead.Message{LeadID: l.ID, Step: step.Name, Channel: lead.ChannelEmail, To: string(l.Email),
		From: t.EmailFrom, FromName: t.EmailFromName, Subject: subject, Body: body}, nil
}

// send asks SendGrid to send the stored email, from its stored sender.
func (c emailChannel) send(ctx context.Context, m lead.Message) (string, error) {
	start := time.Now()
	id, err := c.deps.Email.SendEmail(ctx, messaging.Email{
		To: m.To, From: m.From, FromName: m.FromName, Subject: m.Subject, Text: m.Body, ReplyTo: m.ReplyTo,
		// Events come back with these, which is how a bounce or an
		// unsubscribe finds its message and tenant.
		CustomArgs: map[string]string{
			"tenant_id": m.TenantID.String(), "lead_id": m.LeadID.String(), "message_id": m.ID.String(),
		},
	})
	c.deps.observeProvider(c.deps.emailProvider(), metrics.OperationSend, start, err)
	return id, err
}

// find reconciles an interrupted email. SendGrid has no lookup by our ids
// (short of the paid Email Activity API), but every email it accepts
// produces a "processed" event carrying our message id in its custom args.
// That event arriving proves the email went out (found). Its absence
// proves nothing: SendGrid neither orders its events nor redelivers a
// rejected batch promptly, so a later send's event can arrive long before
// this one's. So without the event the verdict stays unknown; the caller
// waits up to ConfirmWait and then marks the message ambiguous for an
// operator. An event that arrives later still marks it sent.
func (c emailChannel) find(ctx context.Context, m lead.Message) (string, verdict, error) {
	id, found, err := store.New(c.deps.Pool).ProcessedEvent(ctx, m.TenantID, m.ID)
	if err != nil {
		return "", verdictUnknown, err
	}
	if found {
		return id, verdictFound, nil
	}
	return "", verdictUnknown, nil
}

func (emailChannel) kind() lead.Channel { return lead.ChannelEmail }

// shopAddress is where a customer can write to the shop itself: its
// notification address (the shop's inbox), else its sending address.
func shopAddress(t lead.Tenant) string {
	if t.NotifyEmail != "" {
		return t.NotifyEmail
	}
	return t.EmailFrom
}
