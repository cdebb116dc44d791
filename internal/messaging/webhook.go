package messaging

import (
	"errors"
	"net/http"
	"time"
)

// ErrWebhookUnverified is wrapped by a provider webhook parser's error
// when the request did not prove it came from the provider (a missing or
// wrong signature, a stale timestamp, a body that cannot be checked). The
// route answers every one with the same 401; the error's text, which must
// never hold a secret or a signature, goes to the log. Any other parser
// error is a verified request the provider sent malformed: 400, naming the
// field.
var ErrWebhookUnverified = errors.New("webhook did not verify")

// ErrUnknownReplyAddress is wrapped by the intake's error when an inbound
// email is addressed to no reply address we gave out (a made-up or
// mistyped token): it is refused, and nothing is stored.
var ErrUnknownReplyAddress = errors.New("not a reply address of ours")

// InboundText is a text a customer sent to a shop's number, as the SMS
// provider's verified webhook carried it. It is the one type of an
// inbound text from the route to the store.
type InboundText struct {
	// ProviderID is the provider's id of the message (Twilio's
	// MessageSid): a redelivery carries the same one.
	ProviderID string
	AccountID  string
	// From and To are as the provider sent them: E.164 for SMS.
	From string
	To   string
	// Body may be empty (a picture with no text). Bytes that could not be
	// stored are U+FFFD.
	Body     string
	NumMedia int
	// OptOutType is the provider's own reading of an opt-out keyword
	// (STOP, START, HELP) when it matched one, else empty; it wins over
	// ours.
	OptOutType string
	// ReceivedAt is when the route received it (set by the route, not the
	// parser).
	ReceivedAt time.Time
}

// SMSStatus is one delivery report for a text we sent. Reports repeat and
// arrive out of order: a later one may carry an earlier status.
type SMSStatus struct {
	ProviderID string
	AccountID  string
	Status     string
	// ErrorCode is the provider's error (Twilio's 30003 unreachable,
	// 30007 filtered, ...), 0 when there is none.
	ErrorCode int
	// Verdict is the provider's reading of ErrorCode.
	Verdict Verdict
}

// SMSWebhooks verifies and decodes an SMS provider's webhooks. url is the
// exact public URL the provider called (signatures cover it); body is the
// raw request body.
type SMSWebhooks interface {
	ParseInbound(url string, header http.Header, body []byte) (InboundText, error)
	ParseStatus(url string, header http.Header, body []byte) (SMSStatus, error)
}

// EmailEventWebhook verifies and decodes an email provider's signed event
// webhook. deliveryKey names the signed delivery, the same for a replay of
// it, so that a replay stores nothing.
type EmailEventWebhook interface {
	ParseEvents(header http.Header, body []byte, now time.Time) (deliveryKey string, events []EmailEvent, err error)
}

// InboundEmail is an email that arrived at one of our reply addresses, as
// the email provider's verified inbound webhook carried it.
type InboundEmail struct {
	// Recipients are the envelope's SMTP recipients, which route the mail
	// (the To header can name anyone).
	Recipients []string
	// From is the sender's address (the From header's, lower-cased
	// domain; the envelope sender when the header has none).
	From    string
	Subject string
	// Text is the text part as sent, quoted history included (the HTML
	// part reduced to text when there is no text part).
	Text string
	// MessageID is the Message-ID header, the provider id of the inbound
	// row: a redelivery carries the same one. When the mail has none it is
	// a digest of what was signed.
	MessageID string
	// Automatic says the mail was sent by a program (an out-of-office, an
	// auto-responder, a bounce), naming the header that says so; empty
	// for a person's mail.
	Automatic string
	// ReceivedAt is when the route received it (set by the route).
	ReceivedAt time.Time
}

// InboundEmailWebhook verifies and decodes an email provider's inbound
// webhook (SendGrid Inbound Parse) over the raw request body. An
// unverified request is an error wrapping ErrWebhookUnverified.
type InboundEmailWebhook interface {
	ParseInboundEmail(header http.Header, body []byte, now time.Time) (InboundEmail, error)
}
