package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

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
	if footer := lead.EmailFooter(t.Name, t.Compliance, c.deps.unsubscribeURL(t.ID, l.ID, step, string(l.Email))); footer != "" {
		body = strings.TrimRight(body, "\n") + "\n\n" + footer
	}
	return lead.Message{LeadID: l.ID, Step: step.Name, Channel: lead.ChannelEmail, To: string(l.Email),
		From: t.EmailFrom, FromName: t.EmailFromName, Subject: subject, Body: body}, nil
}

// send asks SendGrid to send the stored email, from its stored sender.
// An email to a customer carries its one-click unsubscribe (the same URL
// as the body's, made again from the row: the token is deterministic)
// and the shop's SendGrid unsubscribe group as the shop has it now.
func (c emailChannel) send(ctx context.Context, m lead.Message) (string, error) {
	step := lead.Step{Name: m.Step, Channel: lead.ChannelEmail}
	var group int
	if step.ToCustomerByEmail() {
		t, err := store.New(c.deps.Pool).GetTenant(ctx, m.TenantID)
		if err != nil {
			// Nothing went to SendGrid: the retry sends.
			return "", &messaging.SendError{Class: messaging.ClassRetry, Err: fmt.Errorf("error reading the unsubscribe group of tenant %s: %w", m.TenantID, err)}
		}
		group = t.Compliance.ASMGroupID
	}
	start := time.Now()
	id, err := c.deps.Email.SendEmail(ctx, messaging.Email{
		To: m.To, From: m.From, FromName: m.FromName, Subject: m.Subject, Text: m.Body, ReplyTo: m.ReplyTo,
		UnsubscribeURL: c.deps.unsubscribeURL(m.TenantID, m.LeadID, step, m.To), ASMGroupID: group,
		// An opt-out word to the reply address suppresses the address
		// (emailKind), so it is the mailto of List-Unsubscribe too.
		UnsubscribeMailto: m.ReplyTo,
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

// skipReason is the email's own guard, checked under the outbox row's
// lock with the others (applyGuards): a follow-up email goes only with the
// shop's postal address and an unsubscribe link to carry.
func (c emailChannel) skipReason(t lead.Tenant, step lead.Step) string {
	return t.Compliance.EmailSkipReason(step, c.deps.PublicURL != "")
}

// unsubscribeURL is the one-click unsubscribe of step's email to address:
// PublicURL + "/unsubscribe/" + its token (credentials'
// UnsubscribeToken), or "" when the email carries none (the fleet has no
// public URL, or it is a notice to the shop).
func (d *Deps) unsubscribeURL(tenantID, leadID uuid.UUID, step lead.Step, address string) string {
	if d.PublicURL == "" || address == "" || !step.ToCustomerByEmail() {
		return ""
	}
	return strings.TrimRight(d.PublicURL, "/") + "/unsubscribe/" + d.Credentials.UnsubscribeToken(tenantID, leadID, step.Name, address)
}
