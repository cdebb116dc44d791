// Package sendgrid sends email through SendGrid's v3 mail send API with the
// official sendgrid-go SDK and turns every failure into a
// messaging.SendError whose Class tells the job what to do next.
package sendgrid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// defaultHost is SendGrid's API host, used when SenderOpts.BaseURL is empty.
const defaultHost = "https://api.sendgrid.com"

// defaultTimeout bounds one send when SenderOpts.Timeout is zero.
const defaultTimeout = 10 * time.Second

// SenderOpts configures a Sender.
type SenderOpts struct {
	// APIKey is sent as a Bearer token; it never appears in errors.
	APIKey string
	// BaseURL replaces https://api.sendgrid.com, path prefix included (for
	// example "http://127.0.0.1:9000/sendgrid" for the sandbox). Empty
	// means the real SendGrid.
	BaseURL string
	// Timeout bounds each send. Zero means HTTPClient's Timeout if set,
	// else 10s.
	Timeout time.Duration
	// SandboxMode asks SendGrid to validate mail without delivering it
	// (200, no message id): for staging against the real API.
	SandboxMode bool
	// HTTPClient, when set, supplies the transport (proxy, TLS). Optional.
	HTTPClient *http.Client
}

// Sender sends email through SendGrid. It implements messaging.EmailSender
// and is safe for concurrent use because it never shares a
// *sendgrid.Client: that type keeps the request body in a field, so
// concurrent sends through one client swap recipients. Each send builds its
// own rest.Request and rest.Client instead.
type Sender struct {
	apiKey     string
	host       string
	sandbox    bool
	httpClient *http.Client
}

var _ messaging.EmailSender = (*Sender)(nil)

// NewSender validates opts and returns a Sender. It reports every invalid
// field at once and never echoes the key.
func NewSender(opts SenderOpts) (*Sender, error) {
	var errs []error
	if strings.TrimSpace(opts.APIKey) == "" {
		errs = append(errs, errors.New("APIKey must be non-empty"))
	} else if strings.ContainsAny(opts.APIKey, " \t\r\n") {
		errs = append(errs, errors.New("APIKey must not contain whitespace"))
	}
	if opts.Timeout < 0 {
		errs = append(errs, errors.New("Timeout must not be negative"))
	}
	host := defaultHost
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("BaseURL must be a URL: %w", err))
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.RawQuery != "", u.Fragment != "":
			errs = append(errs, errors.New("BaseURL must be an http or https URL with a host and no query"))
		default:
			host = strings.TrimSuffix(opts.BaseURL, "/")
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("error configuring sendgrid sender: %w", errors.Join(errs...))
	}

	hc := &http.Client{Timeout: opts.Timeout, Transport: messaging.NewTransport()}
	if opts.HTTPClient != nil {
		if opts.HTTPClient.Transport != nil {
			hc.Transport = opts.HTTPClient.Transport
		}
		hc.CheckRedirect = opts.HTTPClient.CheckRedirect
		if hc.Timeout == 0 {
			hc.Timeout = opts.HTTPClient.Timeout
		}
	}
	if hc.Timeout == 0 {
		hc.Timeout = defaultTimeout
	}
	return &Sender{apiKey: opts.APIKey, host: host, sandbox: opts.SandboxMode, httpClient: hc}, nil
}

// SendEmail asks SendGrid to send m and returns the X-Message-Id (empty in
// sandbox mode, where SendGrid assigns none). Any failure is a
// *messaging.SendError; see classify.
func (s *Sender) SendEmail(ctx context.Context, m messaging.Email) (string, error) {
	body, err := json.Marshal(s.mail(m))
	if err != nil {
		return "", &messaging.SendError{Class: messaging.ClassPermanent, Err: fmt.Errorf("error encoding email to %s: %w", lead.MaskEmail(m.To), err)}
	}
	req := sendgrid.GetRequest(s.apiKey, "/v3/mail/send", s.host)
	req.Method = rest.Post
	req.Body = body

	// wrote tells a connection refused (nothing reached SendGrid, safe to
	// retry) from a timeout after sending (the mail may be queued).
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})

	// Never MakeRequestRetry: it looks the reset header up under a
	// non-canonical key, so it never finds it, and sleeps ignoring ctx.
	resp, err := (&rest.Client{HTTPClient: s.httpClient}).SendWithContext(ctx, req)
	if resp == nil || resp.StatusCode == 0 {
		if err == nil {
			err = errors.New("no answer")
		}
		class := messaging.ClassAmbiguous
		if !wrote.Load() {
			class = messaging.ClassRetry
		}
		return "", &messaging.SendError{Class: class, Err: fmt.Errorf("error sending email to %s: %w", lead.MaskEmail(m.To), err)}
	}
	// From here SendGrid answered; err can only be a failed read of the
	// body, which the status makes irrelevant.
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return http.Header(resp.Headers).Get("X-Message-Id"), nil
	}
	return "", classify(resp, m.To, time.Now())
}

// mail builds the v3 body: one personalization carrying the custom args,
// which SendGrid echoes on every event for this recipient.
func (s *Sender) mail(m messaging.Email) *mail.SGMailV3 {
	msg := mail.NewV3Mail()
	msg.SetFrom(mail.NewEmail(m.FromName, m.From))
	msg.Subject = m.Subject
	if m.ReplyTo != "" {
		msg.SetReplyTo(mail.NewEmail("", m.ReplyTo))
	}
	p := mail.NewPersonalization()
	p.AddTos(mail.NewEmail(m.ToName, m.To))
	for k, v := range m.CustomArgs {
		p.SetCustomArg(k, v)
	}
	if m.UnsubscribeURL != "" {
		// RFC 8058: one HTTPS URI in angle brackets, and the Post header
		// exactly so, which tells the inbox a POST unsubscribes. On the
		// personalization, since the URL is this recipient's. SendGrid's
		// subscription tracking would add headers of its own: it stays
		// off (one mechanism; see the README).
		list := "<" + m.UnsubscribeURL + ">"
		if m.UnsubscribeMailto != "" {
			// RFC 8058 allows a mailto after the HTTPS URI, for mail
			// programs that do not post.
			list += ", <mailto:" + m.UnsubscribeMailto + "?subject=unsubscribe&body=unsubscribe>"
		}
		p.SetHeader("List-Unsubscribe", list)
		p.SetHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.AddPersonalizations(p)
	// SendGrid requires text/plain before text/html.
	if m.Text != "" {
		msg.AddContent(mail.NewContent("text/plain", m.Text))
	}
	if m.HTML != "" {
		msg.AddContent(mail.NewContent("text/html", m.HTML))
	}
	if m.ASMGroupID != 0 {
		msg.SetASM(mail.NewASM().SetGroupID(m.ASMGroupID))
	}
	if s.sandbox {
		msg.SetMailSettings(mail.NewMailSettings().SetSandboxMode(mail.NewSetting(true)))
	}
	return msg
}
