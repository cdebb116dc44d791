package sandbox

import (
	"compress/gzip"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sendGridHelp is the documentation link SendGrid puts in mail send
// validation errors.
const sendGridHelp = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"

// SendGridEmail is one delivered recipient of an accepted mail send, as
// Emails returns it. A request with several personalizations or recipients
// yields one SendGridEmail per To address, all with the request's
// MessageID, which is how SendGrid's events relate to X-Message-Id.
type SendGridEmail struct {
	MessageID string
	From      string
	FromName  string
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	// CustomArgs are the request's custom_args merged with the
	// personalization's (which win), as SendGrid attaches them to events.
	CustomArgs map[string]string
	Categories []string
}

// SendGrid is a fake of SendGrid's v3 mail send endpoint that the real
// sendgrid-go SDK can talk to. It checks the Bearer key and validates the
// body the way SendGrid does, answering its error JSON with the offending
// field, honours sandbox mode (200, nothing kept) and keeps accepted mail
// in memory for tests to inspect.
type SendGrid struct {
	apiKey string
	faults faults

	mu     sync.Mutex
	now    func() time.Time
	emails []SendGridEmail
}

// NewSendGrid returns a fake SendGrid account that accepts only apiKey.
func NewSendGrid(apiKey string) *SendGrid {
	return &SendGrid{apiKey: apiKey, now: time.Now}
}

// SetClock replaces the clock used for X-RateLimit-Reset, so tests can
// predict it.
func (s *SendGrid) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddFault queues f after the faults already queued. The matching requests
// are answered with it before any processing, so nothing is recorded for
// them, unless f.After says to accept the mail first.
func (s *SendGrid) AddFault(f Fault) { s.faults.add(f) }

// ClearFaults removes every queued fault.
func (s *SendGrid) ClearFaults() { s.faults.clear() }

// Faults returns the queued faults, each Count showing the uses left.
func (s *SendGrid) Faults() []Fault { return s.faults.active() }

// FaultTally counts what the faults did so far; with Emails it tells what
// SendGrid accepted from what the client was told.
func (s *SendGrid) FaultTally() FaultTally { return s.faults.counts() }

// SeedFaults resets the generator Fault.Rate draws from (DefaultFaultSeed
// at first), so a chaos run can be replayed.
func (s *SendGrid) SeedFaults(seed int64) { s.faults.seed(seed) }

// Emails returns a deep copy of every accepted recipient in arrival order.
func (s *SendGrid) Emails() []SendGridEmail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SendGridEmail, len(s.emails))
	for i, e := range s.emails {
		e.CustomArgs = maps.Clone(e.CustomArgs)
		e.Categories = slices.Clone(e.Categories)
		out[i] = e
	}
	return out
}

// ServeHTTP serves POST /v3/mail/send with the queued faults.
func (s *SendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.faults.serve(w, r, s.serve, s.writeFault)
}

// serve answers a request the faults let through.
func (s *SendGrid) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v3/mail/send" {
		s.writeErrors(w, http.StatusNotFound, sendGridNoHelp("not found"))
		return
	}
	if r.Method != http.MethodPost {
		s.writeErrors(w, http.StatusMethodNotAllowed, sendGridNoHelp("method not allowed"))
		return
	}
	if status, msg, ok := s.authorize(r); !ok {
		s.writeErrors(w, status, sendGridNoHelp(msg))
		return
	}

	var body io.Reader = http.MaxBytesReader(w, r.Body, 30<<20)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(body)
		if err != nil {
			s.writeErrors(w, http.StatusBadRequest, sendGridNoHelp("Bad Request"))
			return
		}
		defer gz.Close()
		body = gz
	}
	var req sendGridMail
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		s.writeErrors(w, http.StatusBadRequest, sendGridNoHelp("Bad Request"))
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

	id := sendGridMessageID()
	s.store(id, req)
	w.Header().Set("X-Message-Id", id)
	w.WriteHeader(http.StatusAccepted)
}

// authorize checks the Bearer key in constant time and says what SendGrid
// answers when it is missing or wrong.
func (s *SendGrid) authorize(r *http.Request) (status int, msg string, ok bool) {
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

// store keeps one SendGridEmail per To address of an accepted request.
func (s *SendGrid) store(id string, req sendGridMail) {
	var text, html string
	for _, c := range req.Content {
		switch c.Type {
		case "text/plain":
			text = c.Value
		case "text/html":
			html = c.Value
		}
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
		for _, to := range p.To {
			s.emails = append(s.emails, SendGridEmail{
				MessageID:  id,
				From:       from.Email,
				FromName:   from.Name,
				To:         to.Email,
				ToName:     to.Name,
				Subject:    subject,
				Text:       text,
				HTML:       html,
				CustomArgs: maps.Clone(args),
				Categories: slices.Clone(req.Categories),
			})
		}
	}
}

// sendGridMail is the part of the v3 mail send body the fake checks and
// keeps.
type sendGridMail struct {
	Personalizations []sendGridPersonalization `json:"personalizations"`
	From             *sendGridAddress          `json:"from"`
	Subject          string                    `json:"subject"`
	Content          []sendGridContent         `json:"content"`
	TemplateID       string                    `json:"template_id"`
	CustomArgs       map[string]string         `json:"custom_args"`
	Categories       []string                  `json:"categories"`
	MailSettings     struct {
		SandboxMode struct {
			Enable bool `json:"enable"`
		} `json:"sandbox_mode"`
	} `json:"mail_settings"`
}

type sendGridPersonalization struct {
	To         []sendGridAddress `json:"to"`
	CC         []sendGridAddress `json:"cc"`
	BCC        []sendGridAddress `json:"bcc"`
	From       *sendGridAddress  `json:"from"`
	Subject    string            `json:"subject"`
	CustomArgs map[string]string `json:"custom_args"`
}

type sendGridAddress struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type sendGridContent struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// validate returns every problem SendGrid would report for m, with its
// field path and message, in SendGrid's order.
func (m sendGridMail) validate() []sendGridError {
	var errs []sendGridError
	add := func(field, msg, anchor string) {
		help, _ := json.Marshal(sendGridHelp + anchor) // a string always marshals
		errs = append(errs, sendGridError{Field: &field, Message: msg, Help: help})
	}

	if m.From == nil || m.From.Email == "" {
		add("from.email", `The from object must be provided for every email send. It is an object that requires an email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}`, "#message.from")
	} else if !sendGridValidEmail(m.From.Email) {
		add("from.email", "The from email does not contain a valid address.", "#message.from")
	}

	if len(m.Personalizations) == 0 {
		add("personalizations", "The personalizations field is required and must have at least one personalization.", "#-Personalizations-Errors")
	}
	everySubject := len(m.Personalizations) > 0
	for i, p := range m.Personalizations {
		if p.Subject == "" {
			everySubject = false
		}
		if len(p.To) == 0 {
			add(fmt.Sprintf("personalizations.%d.to", i), "The to array is required for all personalization objects, and must have at least one email object with a valid email address.", "#message.personalizations.to")
		}
		for _, list := range []struct {
			kind  string
			addrs []sendGridAddress
		}{{"to", p.To}, {"cc", p.CC}, {"bcc", p.BCC}} {
			for j, a := range list.addrs {
				if !sendGridValidEmail(a.Email) {
					add(fmt.Sprintf("personalizations.%d.%s.%d.email", i, list.kind, j), "Does not contain a valid address.", "#message.personalizations."+list.kind)
				}
			}
		}
	}

	if m.TemplateID == "" {
		if m.Subject == "" && !everySubject {
			add("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.", "#message.subject")
		}
		if len(m.Content) == 0 {
			add("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.", "#message.content")
		}
	}
	for i, c := range m.Content {
		if c.Type == "" {
			add(fmt.Sprintf("content.%d.type", i), "The content type must be a string at least one character in length.", "#message.content.type")
		}
		if c.Value == "" {
			add(fmt.Sprintf("content.%d.value", i), "The content value must be a string at least one character in length.", "#message.content.value")
		}
		if c.Type == "text/plain" && i > 0 {
			add("content", "The text/plain content type must be first, followed by text/html or other content types.", "#message.content")
		}
	}
	return errs
}

// sendGridValidEmail is SendGrid's syntax check: one @, a local part of 1
// to 64 characters, a dotted domain, no spaces or angle brackets.
func sendGridValidEmail(addr string) bool {
	if len(addr) > 320 || strings.ContainsAny(addr, " \t\r\n<>(),;:\"[]\\") {
		return false
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if len(domain) > 255 || !strings.Contains(domain, ".") {
		return false
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" {
			return false
		}
	}
	return true
}

// sendGridError is one entry of SendGrid's {"errors": [...]} body. Field
// is null for errors not about a field. Help is raw JSON because SendGrid
// sends a link for validation errors, null for auth errors and leaves it
// out of 429 answers.
type sendGridError struct {
	Field   *string         `json:"field"`
	Message string          `json:"message"`
	Help    json.RawMessage `json:"help,omitempty"`
}

// sendGridNoHelp is the explicit "help": null of SendGrid's auth and
// routing errors.
func sendGridNoHelp(msg string) sendGridError {
	return sendGridError{Message: msg, Help: json.RawMessage("null")}
}

// writeErrors answers SendGrid's error JSON.
func (s *SendGrid) writeErrors(w http.ResponseWriter, status int, errs ...sendGridError) {
	b, err := json.Marshal(struct {
		Errors []sendGridError `json:"errors"`
	}{errs})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeFault answers an injected fault. A 429 always carries SendGrid's
// rate-limit headers, X-RateLimit-Reset being the epoch second the window
// reopens.
func (s *SendGrid) writeFault(w http.ResponseWriter, f Fault) {
	if f.Status == http.StatusTooManyRequests {
		s.mu.Lock()
		now := s.now()
		s.mu.Unlock()
		reset := now.Add(f.RetryAfter)
		resetSec := int64(math.Ceil(float64(reset.UnixNano()) / float64(time.Second)))
		w.Header().Set("X-RateLimit-Limit", "600")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(resetSec, 10))
	}
	if f.EmptyBody {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(f.Status)
		return
	}
	msg := strings.ToLower(http.StatusText(f.Status))
	if f.Status >= 500 && f.Status != http.StatusServiceUnavailable {
		msg = "internal error"
	}
	s.writeErrors(w, f.Status, sendGridError{Message: msg})
}

// sendGridMessageID returns an id shaped like SendGrid's X-Message-Id: 22
// URL-safe base64 characters.
func sendGridMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
