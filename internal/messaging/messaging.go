// Package messaging is the port to the providers that reach customers:
// messaging/twilio for texts and messaging/sendgrid for email. Jobs see only
// the types here and decide what to do next from a SendError's Class.
package messaging

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SMS is one text to send.
type SMS struct {
	To string // E.164
	// From or MessagingServiceSID identifies the sender; one must be set.
	From                string
	MessagingServiceSID string
	Body                string
	// StatusCallback is the public URL Twilio posts delivery updates to
	// (optional).
	StatusCallback string
}

// Email is one email to send.
type Email struct {
	To       string
	ToName   string
	From     string
	FromName string
	Subject  string
	Text     string
	HTML     string
	// CustomArgs travel with the message and come back on every event
	// webhook: put tenant, lead and message ids here.
	CustomArgs map[string]string
	// ReplyTo, when set, is where the recipient's reply goes (a reply
	// address r+<token>@<domain> that Inbound Parse brings back to us).
	ReplyTo string
	// UnsubscribeURL, when set, is the email's one-click unsubscribe (RFC
	// 8058): the provider sends it as List-Unsubscribe with
	// List-Unsubscribe-Post, which Gmail and Yahoo want of every
	// subscription email. The body carries it too; this is the header.
	UnsubscribeURL string
	// UnsubscribeMailto, when set with UnsubscribeURL, is the address a
	// mail program without one-click writes "unsubscribe" to (the second,
	// optional List-Unsubscribe URI): the email's reply address, whose
	// opt-out word suppresses the address.
	UnsubscribeMailto string
	// ASMGroupID, when not zero, is the provider's unsubscribe group the
	// email belongs to (SendGrid's asm.group_id), so the provider's own
	// suppression of that group applies to it.
	ASMGroupID int
}

// SMSSender sends texts.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) (providerID string, err error)
	// FindSMS lists the ids, newest first, of messages the provider holds
	// with m's To, sender and Body, created at or after since. It is how a
	// retry after an ambiguous failure learns whether the first try went
	// out.
	FindSMS(ctx context.Context, m SMS, since time.Time) (providerIDs []string, err error)
}

// EmailSender sends emails.
type EmailSender interface {
	SendEmail(ctx context.Context, m Email) (providerID string, err error)
}

// Class says what a failed send means for the message and what to do next.
type Class int

const (
	// ClassRetry: the provider did not process the request (429,
	// connection refused, bad gateway before it was read). Trying again is
	// safe and cannot send twice.
	ClassRetry Class = iota + 1
	// ClassPermanent: the provider refused this message for good (invalid
	// number, bad request, bad credentials). Do not try again.
	ClassPermanent
	// ClassOptedOut: the recipient has opted out at the provider (Twilio
	// 21610). Suppress the address and do not try again.
	ClassOptedOut
	// ClassAmbiguous: the request may have been processed (5xx, timeout
	// after the request was sent). Trying again blindly could send twice:
	// reconcile first.
	ClassAmbiguous
)

func (c Class) String() string {
	switch c {
	case ClassRetry:
		return "retry"
	case ClassPermanent:
		return "permanent"
	case ClassOptedOut:
		return "opted_out"
	case ClassAmbiguous:
		return "ambiguous"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// SendError is the only error type senders return from a send.
type SendError struct {
	Class Class
	// Code is the provider's error code when it gave one (Twilio 21610),
	// else the HTTP status, else 0.
	Code int
	// RetryAfter is how long the provider asked us to wait (429), zero if
	// it did not say.
	RetryAfter time.Duration
	// Verdict is what the error says about the recipient's number or the
	// sender, beyond this one message (VerdictNone for most errors).
	Verdict Verdict
	Err     error
}

func (e *SendError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("send failed (%s, code %d): %v", e.Class, e.Code, e.Err)
	}
	return fmt.Sprintf("send failed (%s): %v", e.Class, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// ClassOf returns the class of a send error. Errors that are not a
// *SendError are ambiguous: not knowing what happened is the one case that
// must never lead to a blind resend.
func ClassOf(err error) Class {
	var se *SendError
	if errors.As(err, &se) {
		return se.Class
	}
	return ClassAmbiguous
}

// Verdict is what a carrier (through the SMS provider) said about a text
// that goes beyond the one message: the number is a landline, the sender is
// filtered or unregistered. Jobs act on it without knowing any provider's
// codes; each provider maps its own codes to these.
type Verdict string

// The carrier verdicts. The provider's error code stays on the message; the
// verdict is what the fleet does about it.
const (
	// VerdictNone: nothing beyond the message itself (delivered, or an
	// error about this message only).
	VerdictNone Verdict = ""
	// VerdictLandline: the number cannot receive texts (a landline, or not
	// a mobile number). Texts to it stop for the tenant; email goes on.
	VerdictLandline Verdict = "landline"
	// VerdictUnreachable: the handset is off or out of coverage, or the
	// number is unknown to its carrier. Often transient: recorded, nothing
	// stops.
	VerdictUnreachable Verdict = "unreachable"
	// VerdictOptedOut: the provider holds a STOP from the number.
	VerdictOptedOut Verdict = "opted_out"
	// VerdictFiltered: the carrier filtered the text as spam.
	VerdictFiltered Verdict = "filtered"
	// VerdictUnregistered: the sender is not registered for this traffic
	// (an unregistered 10DLC number, an unverified toll-free number):
	// every text from it fails until the shop's registration is fixed.
	VerdictUnregistered Verdict = "unregistered"
)

// Filtering reports whether the verdict is about the sender rather than
// the recipient: the carrier is blocking the shop's texts.
func (v Verdict) Filtering() bool { return v == VerdictFiltered || v == VerdictUnregistered }

// EmailEvent is a provider's report about one of our emails, mapped back to
// our tenant and message through the custom args the send attached.
type EmailEvent struct {
	TenantID  string `json:"tenant_id"`
	MessageID string `json:"message_id"`
	// Event is the provider's event name: processed, delivered, deferred,
	// bounce, dropped, spamreport, unsubscribe, group_unsubscribe, ...
	Event string `json:"event"`
	// Email is the recipient the event is about.
	Email string `json:"email"`
	// ProviderMessageID is the id the send returned (X-Message-Id).
	ProviderMessageID string    `json:"provider_message_id,omitempty"`
	Reason            string    `json:"reason,omitempty"`
	OccurredAt        time.Time `json:"occurred_at"`
}
