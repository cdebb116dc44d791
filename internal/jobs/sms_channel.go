package jobs

import (
	"context"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// compose renders the step's text and chooses its sender: the shop's
// number and its Messaging Service as they are now. Both are stored on the
// outbox row, so a retry after the shop changed them still sends, and looks
// at Twilio, as the first attempt did. bookingURL is the lead's booking
// link for {{.BookingURL}} ("" for none), made by the caller so compose
// stays pure.
func (c smsChannel) compose(t lead.Tenant, l lead.Lead, step lead.Step, bookingURL string) (lead.Message, error) {
	tmpl := step.Wording(t.Templates.Or(c.deps.Templates))
	data := lead.NewMessageData(t, l)
	data.BookingURL = bookingURL
	body, err := lead.RenderTemplate(step.Name+".sms", tmpl.SMS, data)
	if err != nil {
		return lead.Message{}, err
	}
	return lead.Message{LeadID: l.ID, Step: step.Name, Channel: lead.ChannelSMS, To: string(l.Phone),
		From: t.SMSFrom, MessagingServiceSID: t.MessagingServiceSID, Body: body}, nil
}

// send asks Twilio to send the stored text, from its stored sender.
func (c smsChannel) send(ctx context.Context, m lead.Message) (string, error) {
	sms := outboundSMS(m)
	sms.StatusCallback = c.deps.statusCallbackURL(m.TenantID)
	start := time.Now()
	sid, err := c.deps.SMS.SendSMS(ctx, sms)
	c.deps.observeProvider(c.deps.smsProvider(), metrics.OperationSend, start, err)
	return sid, err
}

// find reconciles an interrupted text with Twilio's message list, the
// record of what it accepted: a message from the shop to this number with
// exactly this body, created since the claim and not already recorded as
// another message of ours, is this one.
func (c smsChannel) find(ctx context.Context, m lead.Message) (string, verdict, error) {
	start := time.Now()
	sids, err := c.deps.SMS.FindSMS(ctx, outboundSMS(m), m.SendingAt)
	c.deps.observeProvider(c.deps.smsProvider(), metrics.OperationLookup, start, err)
	if err != nil {
		return "", verdictUnknown, err
	}
	if len(sids) == 0 {
		return "", verdictAbsent, nil
	}
	taken, err := store.New(c.deps.Pool).RecordedProviderIDs(ctx, m.TenantID, sids)
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

// outboundSMS is the stored text as Twilio is asked to send it, and as a
// reconcile looks for it.
func outboundSMS(m lead.Message) messaging.SMS {
	return messaging.SMS{To: m.To, From: m.From, MessagingServiceSID: m.MessagingServiceSID, Body: m.Body}
}

func (smsChannel) kind() lead.Channel { return lead.ChannelSMS }
