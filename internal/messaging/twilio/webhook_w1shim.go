// W1 SHIM: a temporary copy of today's httpapi verification and parsing of
// Twilio webhooks, with W2's exported names, so branch w1 compiles and
// tests before W2's internal/messaging/twilio/webhook.go lands. The lead
// deletes this file on merge.
package twilio

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twilio/twilio-go/client"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// Webhooks verifies and decodes Twilio's webhooks (W1 shim).
type Webhooks struct {
	authToken string
}

// NewWebhooks returns Twilio's webhooks for the account's auth token.
func NewWebhooks(authToken string) *Webhooks { return &Webhooks{authToken: authToken} }

// ParseInbound verifies and reads an incoming-message webhook.
func (h *Webhooks) ParseInbound(u string, header http.Header, body []byte) (messaging.InboundText, error) {
	form, err := h.verified(u, header, body)
	if err != nil {
		return messaging.InboundText{}, err
	}
	r := shimFormReader{form: form}
	m := messaging.InboundText{
		ProviderID: r.text("MessageSid", true), AccountID: r.text("AccountSid", true),
		From: r.text("From", true), To: r.text("To", true),
		Body: r.freeText("Body"), NumMedia: r.count("NumMedia"), OptOutType: r.text("OptOutType", false),
	}
	if r.err != nil {
		return messaging.InboundText{}, fmt.Errorf("twilio inbound message: %w", r.err)
	}
	return m, nil
}

var shimStatuses = []string{
	"accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed",
	"delivered", "undelivered", "receiving", "received", "read", "partially_delivered",
}

// ParseStatus verifies and reads a status callback.
func (h *Webhooks) ParseStatus(u string, header http.Header, body []byte) (messaging.SMSStatus, error) {
	form, err := h.verified(u, header, body)
	if err != nil {
		return messaging.SMSStatus{}, err
	}
	r := shimFormReader{form: form}
	s := messaging.SMSStatus{ProviderID: r.text("MessageSid", true), AccountID: r.text("AccountSid", false),
		Status: r.text("MessageStatus", true), ErrorCode: r.count("ErrorCode")}
	if r.err == nil && !slices.Contains(shimStatuses, s.Status) {
		r.fail("MessageStatus", "is not a Twilio message status: "+strconv.Quote(s.Status))
	}
	if r.err != nil {
		return messaging.SMSStatus{}, fmt.Errorf("twilio status callback: %w", r.err)
	}
	return s, nil
}

func (h *Webhooks) verified(u string, header http.Header, body []byte) (url.Values, error) {
	const sigHeader = "X-Twilio-Signature"
	form, err := url.ParseQuery(string(body))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: the body is not a form", messaging.ErrWebhookUnverified)
	case header.Get(sigHeader) == "":
		return nil, fmt.Errorf("%w: %s is missing", messaging.ErrWebhookUnverified, sigHeader)
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	validator := client.NewRequestValidator(h.authToken)
	if h.authToken == "" || !validator.Validate(u, params, header.Get(sigHeader)) {
		return nil, fmt.Errorf("%w: %s does not verify", messaging.ErrWebhookUnverified, sigHeader)
	}
	return form, nil
}

type shimFormReader struct {
	form url.Values
	err  error
}

func (r *shimFormReader) fail(field, reason string) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: %s", field, reason)
	}
}

func (r *shimFormReader) text(field string, required bool) string {
	s := r.form.Get(field)
	switch {
	case s == "":
		if required {
			r.fail(field, "is missing")
		}
		return ""
	case len(s) > 8<<10:
		r.fail(field, "is longer than 8192 bytes")
	case !utf8.ValidString(s):
		r.fail(field, "is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		r.fail(field, "contains a NUL character")
	default:
		return s
	}
	return ""
}

func (r *shimFormReader) freeText(field string) string {
	s := r.form.Get(field)
	if len(s) > 8<<10 {
		r.fail(field, "is longer than 8192 bytes")
		return ""
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func (r *shimFormReader) count(field string) int {
	s := strings.TrimSpace(r.form.Get(field))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		r.fail(field, "is not a non-negative integer: "+strconv.Quote(s))
		return 0
	}
	return n
}
