// Package twilio sends texts through Twilio's Messages API with the
// official twilio-go SDK and turns every failure into a messaging.SendError
// whose Class tells the job what to do next. It also owns Twilio's
// webhooks (Webhooks): the X-Twilio-Signature check, through twilio-go's
// RequestValidator, and the decoding of incoming messages and status
// callbacks.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// defaultTimeout bounds one call to Twilio when SenderOpts.Timeout is zero;
// it is twilio-go's own default.
const defaultTimeout = 10 * time.Second

// clockSlack widens FindSMS's window: Twilio's clock and ours disagree by a
// little, and missing the first attempt would text the customer twice.
const clockSlack = time.Minute

// SenderOpts configures a Sender.
type SenderOpts struct {
	// AccountSID and AuthToken are the account's Basic credentials. Both
	// must be alphanumeric: twilio-go refuses anything else locally.
	AccountSID string
	AuthToken  string
	// BaseURL replaces https://api.twilio.com, path prefix included (for
	// example "http://127.0.0.1:9000/twilio" for the sandbox). Empty means
	// the real Twilio.
	BaseURL string
	// Timeout bounds each SendSMS and FindSMS call, every page included.
	// Zero means HTTPClient's Timeout if set, else 10s.
	Timeout time.Duration
	// HTTPClient, when set, supplies the transport (proxy, TLS) the
	// sender's per-call clients use. Optional.
	HTTPClient *http.Client
}

// Sender sends texts through Twilio. It implements messaging.SMSSender and
// is safe for concurrent use: it builds the SDK service per call, because
// twilio-go has no context support and the per-call transport is where the
// job's context and the HTTP status of each answer live.
type Sender struct {
	accountSID string
	authToken  string
	baseURL    *url.URL // nil means the real Twilio
	timeout    time.Duration
	transport  http.RoundTripper
}

var _ messaging.SMSSender = (*Sender)(nil)

// NewSender validates opts and returns a Sender. It reports every invalid
// field at once and never echoes the credentials.
func NewSender(opts SenderOpts) (*Sender, error) {
	var errs []error
	if !alphanumeric(opts.AccountSID) {
		errs = append(errs, errors.New("AccountSID must be non-empty and alphanumeric"))
	}
	if !alphanumeric(opts.AuthToken) {
		errs = append(errs, errors.New("AuthToken must be non-empty and alphanumeric"))
	}
	if opts.Timeout < 0 {
		errs = append(errs, errors.New("Timeout must not be negative"))
	}
	var base *url.URL
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("BaseURL must be a URL: %w", err))
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.RawQuery != "", u.Fragment != "":
			errs = append(errs, errors.New("BaseURL must be an http or https URL with a host and no query"))
		default:
			base = u
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("error configuring twilio sender: %w", errors.Join(errs...))
	}

	s := &Sender{
		accountSID: opts.AccountSID,
		authToken:  opts.AuthToken,
		baseURL:    base,
		timeout:    opts.Timeout,
		transport:  messaging.NewTransport(),
	}
	if opts.HTTPClient != nil {
		if opts.HTTPClient.Transport != nil {
			s.transport = opts.HTTPClient.Transport
		}
		if s.timeout == 0 {
			s.timeout = opts.HTTPClient.Timeout
		}
	}
	if s.timeout == 0 {
		s.timeout = defaultTimeout
	}
	return s, nil
}

// SendSMS asks Twilio to send m and returns the message SID. Any failure is
// a *messaging.SendError; see classify for how each one is read.
func (s *Sender) SendSMS(ctx context.Context, m messaging.SMS) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	api, seen := s.service(ctx)

	params := &openapi.CreateMessageParams{}
	params.SetTo(m.To).SetBody(m.Body)
	if m.From != "" {
		params.SetFrom(m.From)
	}
	if m.MessagingServiceSID != "" {
		params.SetMessagingServiceSid(m.MessagingServiceSID)
	}
	if m.StatusCallback != "" {
		params.SetStatusCallback(m.StatusCallback)
	}

	msg, err := api.CreateMessage(params)
	if err != nil {
		return "", classify(fmt.Errorf("error sending sms to %s: %w", lead.MaskPhone(m.To), err), seen.last())
	}
	if msg.Sid == nil || *msg.Sid == "" {
		// Twilio answered 2xx, so the message probably exists, but we
		// cannot name it: reconcile before any resend.
		return "", &messaging.SendError{
			Class: messaging.ClassAmbiguous,
			Err:   fmt.Errorf("error sending sms to %s: twilio accepted the message without a sid", lead.MaskPhone(m.To)),
		}
	}
	return *msg.Sid, nil
}

// FindSMS lists the SIDs, newest first, of the outbound messages Twilio
// holds that match m (same To, same sender — From number or Messaging
// Service — and exactly the same Body) created at or after since (less a
// minute of clock slack). It lists by To only and checks date_created
// itself: a message still queued at Twilio has no date_sent yet, so a
// DateSent> filter could hide exactly the message a reconcile looks for.
// Twilio lists newest first, so the most recent 200 are plenty. Which of
// several matches is ours is the caller's call (it knows which SIDs it
// already recorded).
func (s *Sender) FindSMS(ctx context.Context, m messaging.SMS, since time.Time) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	api, _ := s.service(ctx)

	params := &openapi.ListMessageParams{}
	params.SetTo(m.To).SetPageSize(100).SetLimit(200)
	var after time.Time
	if !since.IsZero() {
		after = since.Add(-clockSlack).UTC().Truncate(time.Second)
	}

	// ListMessage, not StreamMessage: abandoning a stream early would leave
	// the SDK's paging goroutine blocked forever.
	msgs, err := api.ListMessage(params)
	if err != nil {
		return nil, fmt.Errorf("error finding sms to %s: %w", lead.MaskPhone(m.To), err)
	}
	var sids []string
	for _, got := range msgs {
		if deref(got.To) != m.To || deref(got.Body) != m.Body || deref(got.Sid) == "" {
			continue
		}
		if m.MessagingServiceSID != "" && deref(got.MessagingServiceSid) != m.MessagingServiceSID {
			continue
		}
		if m.MessagingServiceSID == "" && m.From != "" && deref(got.From) != m.From {
			continue
		}
		if created, err := time.Parse(time.RFC1123Z, deref(got.DateCreated)); err == nil && created.Before(after) {
			continue
		}
		sids = append(sids, *got.Sid)
	}
	return sids, nil
}

// service builds the SDK service for one call: its HTTP client carries ctx
// into every request and records what each answer looked like.
func (s *Sender) service(ctx context.Context) (*openapi.ApiService, *observer) {
	seen := &observer{}
	hc := &http.Client{
		Transport: &callTransport{ctx: ctx, base: s.baseURL, next: s.transport, seen: seen},
		// As twilio-go's default client: a redirect is an answer, not
		// something to follow with our credentials.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := &client.Client{Credentials: client.NewCredentials(s.accountSID, s.authToken), HTTPClient: hc}
	c.SetAccountSid(s.accountSID)
	return openapi.NewApiServiceWithClient(c), seen
}

// alphanumeric reports whether v is non-empty and only ASCII letters and
// digits, the rule twilio-go enforces on credentials (errors 21222/21224).
func alphanumeric(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
