package lead

import (
	"time"

	"github.com/google/uuid"
)

// Channel is how a message reaches the customer.
type Channel string

const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// MessageStatus is where a message stands in the outbox.
type MessageStatus string

const (
	// MessagePending: not handed to the provider yet (or handed and
	// certainly refused, so safe to hand again).
	MessagePending MessageStatus = "pending"
	// MessageSending: claimed and committed, provider call in flight or
	// interrupted. A retry that finds this must not send blindly.
	MessageSending   MessageStatus = "sending"
	MessageSent      MessageStatus = "sent"
	MessageDelivered MessageStatus = "delivered"
	MessageFailed    MessageStatus = "failed"
	// MessageSuppressed: the address opted out; never sent.
	MessageSuppressed MessageStatus = "suppressed"
	// MessageAmbiguous: the provider may or may not have it; an operator
	// decides (`enqueue resend`).
	MessageAmbiguous MessageStatus = "ambiguous"
	// MessageSkipped: a guard said no (no consent, lead replied, ...).
	MessageSkipped MessageStatus = "skipped"
)

// Done reports whether the message needs no more sending attempts.
func (s MessageStatus) Done() bool {
	switch s {
	case MessagePending, MessageSending:
		return false
	}
	return true
}

// Message is one row of the outbox: one step of one lead on one channel.
type Message struct {
	ID       uuid.UUID
	TenantID uuid.UUID
	LeadID   uuid.UUID
	Step     string
	Channel  Channel
	To       string
	// From, MessagingServiceSID and FromName are the sender, chosen when
	// the message is composed and used by every attempt: a text's From
	// number and Messaging Service (either may be empty, not both), an
	// email's address and display name.
	From                string
	MessagingServiceSID string
	FromName            string
	// ReplyTo is an email's Reply-To (a reply address; "" for none).
	ReplyTo    string
	Subject    string
	Body       string
	Status     MessageStatus
	ProviderID string
	Attempts   int
	LastError  string
	// AllowedBy is the rule the guards let the message go by (AllowedBy),
	// recorded when it was claimed; "" for a row never claimed, or
	// claimed before the rule was kept.
	AllowedBy string
	SendingAt time.Time
	SentAt    time.Time
	CreatedAt time.Time
}
