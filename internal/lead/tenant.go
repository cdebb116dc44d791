package lead

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Tenant is one shop: which CRM it uses, how to reach it, how often to poll
// it and who its messages come from.
type Tenant struct {
	ID      uuid.UUID
	Name    string
	CRMKind string
	// CRMBaseURL is the CRM's API root for this shop; empty means the CRM's
	// production API (a staging host or the sandbox otherwise).
	CRMBaseURL string
	// CRMLocationID is the shop within the CRM account: a ShopMonkey
	// location id, a Tekmetric shop id.
	CRMLocationID string
	// CRMClientID is the OAuth client id for CRMs that use one (Tekmetric);
	// it is not a secret.
	CRMClientID string
	// CRMSecret is the CRM credential (ShopMonkey API key, Tekmetric client
	// secret), sealed: only the credentials keyring opens it.
	CRMSecret SealedSecret
	// CRMRateLimit is how many CRM requests per minute this shop may make
	// across the whole fleet; 0 means the CRM kind's default.
	CRMRateLimit int
	// TimeZone is an IANA name ("America/Chicago"); times are shown to the
	// shop and its customers in it.
	TimeZone string
	// QuietHours is when texts may go out, in TimeZone; QuietRule makes it
	// stricter for the shop's state (lead.SendWindow combines them).
	QuietHours   QuietHours
	QuietRule    QuietRule
	PollInterval time.Duration
	// PollCursor: every CRM change before it has been listed by a completed
	// live poll.
	PollCursor time.Time
	NextPollAt time.Time

	// SMSFrom or MessagingServiceSID is the sender of texts; US traffic
	// needs a registered Messaging Service, so it wins when both are set.
	SMSFrom             string
	MessagingServiceSID string
	EmailFrom           string
	EmailFromName       string

	Templates Templates
	// Sequence is the shop's follow-up steps; nil means DefaultSequence.
	Sequence Sequence
	// AllowFirstReplyWithoutConsent lets the first answer to an inquiry
	// the customer started go to an address without consent; follow-ups
	// always need it. The zero value is the safe one.
	AllowFirstReplyWithoutConsent bool
	// NotifyEmail is where the shop hears of a customer's reply (empty:
	// nowhere); HelpText answers a customer's HELP (empty: a default
	// naming the shop).
	NotifyEmail string
	HelpText    string
	// ReplyDomain is the receiving domain of the shop's reply addresses
	// (r+<token>@ReplyDomain, its MX at SendGrid Inbound Parse); empty:
	// the fleet's sendgrid.reply_domain.
	ReplyDomain string
	// ShopPhone is the shop's own phone (E.164), where calls to its Twilio
	// number are forwarded; empty: calls are not answered by us.
	ShopPhone string
	// MissedCallText is the text a caller whose call was missed receives,
	// a template like Templates.SMS; empty: DefaultMissedCallText.
	MissedCallText string
	// Booking is the shop's online booking (the zero value: off).
	Booking BookingSettings
	// Compliance are the shop's texting and email rules (the zero value:
	// every default).
	Compliance Compliance
	// WebhookSecret signs the shop's ShopMonkey webhooks (Standard
	// Webhooks), sealed like CRMSecret; WebhookTokenHash is the SHA-256 of
	// the token in its Tekmetric webhook URL. Either may be empty: that
	// route then refuses every request.
	WebhookSecret    SealedSecret
	WebhookTokenHash []byte

	Enabled bool

	// NeedsAttention says the CRM rejected the tenant's credentials (401 or
	// 403) since AttentionSince, answering AttentionReason: an operator
	// must give new ones (`enqueue tenant update --secret-env`), and until
	// then its polls back off. Only the jobs set it; a poll that succeeds,
	// or a change of the CRM secret or connection settings, clears it.
	NeedsAttention  bool
	AttentionReason string
	AttentionSince  time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// SequenceOrDefault is the shop's sequence, or the default one.
func (t Tenant) SequenceOrDefault() Sequence {
	if len(t.Sequence) == 0 {
		return DefaultSequence()
	}
	return t.Sequence
}

// Location is the shop's time zone. Validate checks it when the tenant is
// saved, so an error here means a row edited by hand.
func (t Tenant) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("tenant %s has time zone %q, which does not load: %w", t.Name, t.TimeZone, err)
	}
	return loc, nil
}

// SendWindow is when the shop's texts may go out.
func (t Tenant) SendWindow() (SendWindow, error) {
	return NewSendWindow(t.QuietHours, t.QuietRule, t.TimeZone)
}

// ConsentPolicy is the shop's consent setting, for SkipReasonFor.
func (t Tenant) ConsentPolicy() ConsentPolicy {
	return ConsentPolicy{AllowFirstReplyWithoutConsent: t.AllowFirstReplyWithoutConsent}
}

// Templates are a tenant's own message templates; an empty field means the
// fleet default from config.
type Templates struct {
	SMS          string `json:"sms,omitempty"`
	EmailSubject string `json:"email_subject,omitempty"`
	EmailText    string `json:"email_text,omitempty"`
}

// Or returns t with every empty field taken from def.
func (t Templates) Or(def Templates) Templates {
	if t.SMS == "" {
		t.SMS = def.SMS
	}
	if t.EmailSubject == "" {
		t.EmailSubject = def.EmailSubject
	}
	if t.EmailText == "" {
		t.EmailText = def.EmailText
	}
	return t
}

// SealedSecret is a secret encrypted at rest (AES-256-GCM, see package
// credentials), with the id of the key that sealed it. It prints as its key
// id only.
type SealedSecret struct {
	KeyID      string
	Ciphertext []byte
}

// IsZero reports whether nothing is sealed.
func (s SealedSecret) IsZero() bool { return len(s.Ciphertext) == 0 }

func (s SealedSecret) String() string {
	if s.IsZero() {
		return ""
	}
	return "sealed(" + s.KeyID + ")"
}

// GoString keeps %#v short.
func (s SealedSecret) GoString() string { return s.String() }

// LogValue logs the key id only.
func (s SealedSecret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders from dumping the ciphertext.
func (s SealedSecret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Secret is a credential. It prints and logs as "****" so that a tenant
// passed to a logger or a format verb by mistake leaks nothing; Reveal is
// the one way to read it, and it is greppable.
type Secret string

// Reveal returns the secret itself, for the one call that needs it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "****"
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return s.String() }

// LogValue keeps slog from printing the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON logs, config dumps) from printing it.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// DefaultMissedCallText is what a caller whose call the shop missed
// receives when the shop set no missed_call_text.
const DefaultMissedCallText = "Sorry we missed your call at {{.Shop.Name}}! How can we help? Reply here and we will get back to you shortly. Reply STOP to opt out."
