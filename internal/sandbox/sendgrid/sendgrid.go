// Package fakesendgrid is a fake of SendGrid's v3 mail send endpoint, and
// of the signed event webhook SendGrid posts, for tests, the demo, the
// benchmark and the fault harness. It is named fakesendgrid, not sendgrid,
// so that a test of the real adapter (messaging/sendgrid) can import both
// without renaming one.
package fakesendgrid

import (
	"compress/gzip"
	"crypto/subtle"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// DefaultAPIKey is the sandbox's SendGrid API key: a fake's key, not a
// secret.
const DefaultAPIKey = "SG.sandbox-key"

// Email is one delivered recipient of an accepted mail send, as
// Emails returns it. A request with several personalizations or recipients
// yields one Email per To address, all with the request's
// MessageID, which is how SendGrid's events relate to X-Message-Id.
type Email struct {
	MessageID string
	From      string
	FromName  string
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	// ReplyTo is the request's reply_to address ("" without one).
	ReplyTo string
	// CustomArgs are the request's custom_args merged with the
	// personalization's (which win), as SendGrid attaches them to events.
	CustomArgs map[string]string
	Categories []string
	// Headers are the request's headers merged with the
	// personalization's (which win), as SendGrid writes them into the
	// message.
	Headers map[string]string
	// ASMGroupID is the request's asm.group_id (0 without one).
	ASMGroupID int
}

// API is a fake of SendGrid's v3 mail send endpoint that the real
// sendgrid-go SDK can talk to. It checks the Bearer key and validates the
// body the way SendGrid does, answering its error JSON with the offending
// field, honours sandbox mode (200, nothing kept) and keeps accepted mail
// in memory for tests to inspect.
//
// Faults (the embedded FaultQueue) answer the matching requests before any
// processing, so nothing is recorded for them, unless Fault.After says to
// accept the mail first. The embedded Clock (SetClock) dates
// X-RateLimit-Reset, so tests can predict it.
type API struct {
	fake.FaultQueue
	fake.Clock

	apiKey string

	mu     sync.Mutex
	emails []Email
}

// New returns a fake SendGrid account that accepts only apiKey.
func New(apiKey string) *API {
	return &API{apiKey: apiKey}
}

// Emails returns a deep copy of every accepted recipient in arrival order.
func (s *API) Emails() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Email, len(s.emails))
	for i, e := range s.emails {
		e.CustomArgs = maps.Clone(e.CustomArgs)
		e.Categories = slices.Clone(e.Categories)
		out[i] = e
	}
	return out
}

// ServeHTTP serves POST /v3/mail/send with the queued faults.
func (s *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fake.Serve(&s.FaultQueue, w, r, s.serve, s.writeFault)
}

// serve answers a request the faults let through.
func (s *API) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v3/mail/send" {
		s.writeErrors(w, http.StatusNotFound, noHelp("not found"))
		return
	}
	if r.Method != http.MethodPost {
		s.writeErrors(w, http.StatusMethodNotAllowed, noHelp("method not allowed"))
		return
	}
	if status, msg, ok := s.authorize(r); !ok {
		s.writeErrors(w, status, noHelp(msg))
		return
	}

	var body io.Reader = http.MaxBytesReader(w, r.Body, 30<<20)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(body)
		if err != nil {
			s.writeErrors(w, http.StatusBadRequest, noHelp("Bad Request"))
			return
		}
		defer gz.Close()
		body = gz
	}
	var req mail
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		s.writeErrors(w, http.StatusBadRequest, noHelp("Bad Request"))
		return
	}
	if errs := req.validate(); len(errs) > 0 {
		s.writeErrors(w, http.StatusBadRequest, errs...)
		return
	}

	if req.MailSettings.SandboxMode.Enable {
		// Sandbox mode validates and answers 200 without sending or
		// assigning a message id.
		w.WriteHeader(http.StatusOK)
		return
	}

	id := newMessageID()
	s.store(id, req)
	w.Header().Set("X-Message-Id", id)
	w.WriteHeader(http.StatusAccepted)
}

// authorize checks the Bearer key in constant time and says what SendGrid
// answers when it is missing or wrong.
func (s *API) authorize(r *http.Request) (status int, msg string, ok bool) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return http.StatusUnauthorized, "authorization required", false
	}
	key, found := strings.CutPrefix(auth, "Bearer ")
	if !found || subtle.ConstantTimeCompare([]byte(key), []byte(s.apiKey)) != 1 {
		return http.StatusUnauthorized, "The provided authorization grant is invalid, expired, or revoked", false
	}
	return 0, "", true
}

// store keeps one Email per To address of an accepted request.
func (s *API) store(id string, req mail) {
	var text, html string
	for _, c := range req.Content {
		switch c.Type {
		case "text/plain":
			text = c.Value
		case "text/html":
			html = c.Value
		}
	}
	var replyTo string
	if req.ReplyTo != nil {
		replyTo = req.ReplyTo.Email
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range req.Personalizations {
		from := req.From
		if p.From != nil && p.From.Email != "" {
			from = p.From
		}
		subject := req.Subject
		if p.Subject != "" {
			subject = p.Subject
		}
		args := maps.Clone(req.CustomArgs)
		if args == nil {
			args = make(map[string]string, len(p.CustomArgs))
		}
		maps.Copy(args, p.CustomArgs)
		headers := maps.Clone(req.Headers)
		if headers == nil {
			headers = make(map[string]string, len(p.Headers))
		}
		maps.Copy(headers, p.Headers)
		if len(headers) == 0 {
			headers = nil
		}
		var group int
		if req.ASM != nil {
			group = req.ASM.GroupID
		}
		for _, to := range p.To {
			s.emails = append(s.emails, Email{
				MessageID:  id,
				From:       from.Email,
				FromName:   from.Name,
				To:         to.Email,
				ToName:     to.Name,
				Subject:    subject,
				Text:       text,
				HTML:       html,
				ReplyTo:    replyTo,
				CustomArgs: maps.Clone(args),
				Categories: slices.Clone(req.Categories),
				Headers:    maps.Clone(headers),
				ASMGroupID: group,
			})
		}
	}
}
