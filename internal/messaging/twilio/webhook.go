package twilio

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/webhookfield"
)

// Webhooks verifies and decodes Twilio's webhooks for one account: the
// incoming-message webhook of a shop's number and the status callbacks of
// the texts we send. It is the messaging.SMSWebhooks of Twilio.
type Webhooks struct {
	authToken string
}

var _ messaging.SMSWebhooks = (*Webhooks)(nil)

// NewWebhooks returns the webhooks of the account whose auth token signs
// them. An empty token verifies nothing.
func NewWebhooks(authToken string) *Webhooks {
	return &Webhooks{authToken: authToken}
}

// ParseInbound verifies an incoming-message webhook (see verify) and reads
// its form. The first value of each parameter is read. Errors name the
// field.
func (w *Webhooks) ParseInbound(url string, h http.Header, body []byte) (messaging.InboundText, error) {
	form, err := w.verify(url, h, body)
	if err != nil {
		return messaging.InboundText{}, err
	}
	r := formReader{form: form}
	m := messaging.InboundText{
		ProviderID: r.text("MessageSid", true),
		AccountID:  r.text("AccountSid", true),
		From:       r.text("From", true),
		To:         r.text("To", true),
		Body:       r.freeText("Body"),
		NumMedia:   r.count("NumMedia"),
		// OptOutType is STOP, START or HELP when Advanced Opt-Out matched
		// a keyword. Twilio has already blocked (or unblocked) the sender
		// by then; we keep our own suppression list too.
		OptOutType: r.text("OptOutType", false),
	}
	if r.err != nil {
		return messaging.InboundText{}, fmt.Errorf("twilio inbound message: %w", r.err)
	}
	return m, nil
}

// statuses are Twilio's message statuses, as status callbacks report them.
var statuses = []string{
	"accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed",
	"delivered", "undelivered", "receiving", "received", "read", "partially_delivered",
}

// ParseStatus verifies a status callback (see verify) and reads its form.
// An unknown MessageStatus is an error naming it rather than a guess.
// Errors name the field.
func (w *Webhooks) ParseStatus(url string, h http.Header, body []byte) (messaging.SMSStatus, error) {
	form, err := w.verify(url, h, body)
	if err != nil {
		return messaging.SMSStatus{}, err
	}
	r := formReader{form: form}
	s := messaging.SMSStatus{
		ProviderID: r.text("MessageSid", true),
		AccountID:  r.text("AccountSid", false),
		Status:     r.text("MessageStatus", true),
		// ErrorCode is Twilio's error (30003 unreachable, 30007 filtered,
		// 30034 unregistered 10DLC, ...), 0 when there is none.
		ErrorCode: r.count("ErrorCode"),
	}
	s.Verdict = carrierVerdict(s.ErrorCode)
	if r.err == nil && !slices.Contains(statuses, s.Status) {
		r.fail("MessageStatus", "is not a Twilio message status: "+webhookfield.Excerpt(s.Status))
	}
	if r.err != nil {
		return messaging.SMSStatus{}, fmt.Errorf("twilio status callback: %w", r.err)
	}
	return s, nil
}
