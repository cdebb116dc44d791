package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Default credentials of the sandbox providers. They are fakes' keys, not
// secrets; Twilio's SDK wants alphanumeric ones.
const (
	DefaultTwilioAccountSID = "ACsandbox00000000000000000000000000"
	DefaultTwilioAuthToken  = "sandboxtoken0000000000000000000000"
	DefaultSendGridAPIKey   = "SG.sandbox-key"
)

// ServerOpts configures a Server.
type ServerOpts struct {
	TwilioAccountSID string
	TwilioAuthToken  string
	SendGridAPIKey   string
}

// Server serves every fake on one listener: ShopMonkey under /shopmonkey,
// Twilio under /twilio, SendGrid under /sendgrid, and the control API under
// /_sandbox (seed leads, inject faults, see what was received).
type Server struct {
	ShopMonkey *ShopMonkey
	Twilio     *Twilio
	SendGrid   *SendGrid
	mux        *http.ServeMux
}

// NewServer returns a Server with empty fakes.
func NewServer(opts ServerOpts) *Server {
	if opts.TwilioAccountSID == "" {
		opts.TwilioAccountSID = DefaultTwilioAccountSID
	}
	if opts.TwilioAuthToken == "" {
		opts.TwilioAuthToken = DefaultTwilioAuthToken
	}
	if opts.SendGridAPIKey == "" {
		opts.SendGridAPIKey = DefaultSendGridAPIKey
	}
	s := &Server{
		ShopMonkey: NewShopMonkey(),
		Twilio:     NewTwilio(opts.TwilioAccountSID, opts.TwilioAuthToken),
		SendGrid:   NewSendGrid(opts.SendGridAPIKey),
		mux:        http.NewServeMux(),
	}
	s.mux.Handle("/shopmonkey/", http.StripPrefix("/shopmonkey", s.ShopMonkey))
	s.mux.Handle("/twilio/", http.StripPrefix("/twilio", s.Twilio))
	s.mux.Handle("/sendgrid/", http.StripPrefix("/sendgrid", s.SendGrid))
	s.mux.HandleFunc("GET /_sandbox/messages", s.handleMessages)
	s.mux.HandleFunc("GET /_sandbox/stats", s.handleStats)
	s.mux.HandleFunc("POST /_sandbox/shopmonkey/locations", s.handleAddLocation)
	s.mux.HandleFunc("POST /_sandbox/shopmonkey/locations/{location}/leads", s.handleAddLead)
	s.mux.HandleFunc("POST /_sandbox/faults/{provider}", s.handleAddFault)
	s.mux.HandleFunc("DELETE /_sandbox/faults", s.handleClearFaults)
	s.mux.HandleFunc("POST /_sandbox/twilio/opt-out", s.handleOptOut)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// BaseURLs are what a worker's config points at for this server at base
// (for example "http://127.0.0.1:9090").
type BaseURLs struct {
	ShopMonkey, Twilio, SendGrid string
}

// URLs returns the provider base URLs of a Server listening at base.
func URLs(base string) BaseURLs {
	base = strings.TrimRight(base, "/")
	return BaseURLs{ShopMonkey: base + "/shopmonkey", Twilio: base + "/twilio", SendGrid: base + "/sendgrid"}
}

// Stats counts what the fakes received.
type Stats struct {
	SMS    int `json:"sms"`
	Emails int `json:"emails"`
}

// Stats returns the counts now.
func (s *Server) Stats() Stats {
	return Stats{SMS: len(s.Twilio.Messages()), Emails: len(s.SendGrid.Emails())}
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	type sms struct {
		Sid       string    `json:"sid"`
		To        string    `json:"to"`
		From      string    `json:"from"`
		Body      string    `json:"body"`
		CreatedAt time.Time `json:"created_at"`
	}
	type email struct {
		MessageID  string            `json:"message_id"`
		To         string            `json:"to"`
		From       string            `json:"from"`
		Subject    string            `json:"subject"`
		Text       string            `json:"text"`
		CustomArgs map[string]string `json:"custom_args"`
	}
	out := struct {
		SMS    []sms   `json:"sms"`
		Emails []email `json:"emails"`
	}{SMS: []sms{}, Emails: []email{}}
	for _, m := range s.Twilio.Messages() {
		from := m.From
		if from == "" {
			from = m.MessagingServiceSID
		}
		out.SMS = append(out.SMS, sms{Sid: m.Sid, To: m.To, From: from, Body: m.Body, CreatedAt: m.CreatedAt})
	}
	for _, e := range s.SendGrid.Emails() {
		out.Emails = append(out.Emails, email{MessageID: e.MessageID, To: e.To, From: e.From, Subject: e.Subject, Text: e.Text, CustomArgs: e.CustomArgs})
	}
	writeControlJSON(w, http.StatusOK, out)
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	writeControlJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) handleAddLocation(w http.ResponseWriter, r *http.Request) {
	var body struct {
		APIKey     string `json:"api_key"`
		LocationID string `json:"location_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.APIKey == "" || body.LocationID == "" {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {\"api_key\": ..., \"location_id\": ...}"})
		return
	}
	s.ShopMonkey.AddLocation(body.APIKey, body.LocationID)
	writeControlJSON(w, http.StatusCreated, body)
}

// handleAddLead adds one lead (body: a LeadSpec) or, with ?count=N, N
// random ones.
func (s *Server) handleAddLead(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("location")
	n := 1
	if c := r.URL.Query().Get("count"); c != "" {
		if _, err := fmt.Sscanf(c, "%d", &n); err != nil || n < 1 || n > 10000 {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "count must be 1..10000"})
			return
		}
	}
	var spec LeadSpec
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid lead spec: " + err.Error()})
			return
		}
	}
	refs := make([]LeadRef, 0, n)
	for range n {
		ref, err := s.ShopMonkey.AddLead(loc, spec)
		if err != nil {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		refs = append(refs, ref)
	}
	writeControlJSON(w, http.StatusCreated, refs)
}

func (s *Server) handleAddFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(r.Body).Decode(&f); err != nil || f.Status < 400 {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON fault with status >= 400"})
		return
	}
	switch r.PathValue("provider") {
	case "shopmonkey":
		s.ShopMonkey.AddFault(f)
	case "twilio":
		s.Twilio.AddFault(f)
	case "sendgrid":
		s.SendGrid.AddFault(f)
	default:
		writeControlJSON(w, http.StatusNotFound, map[string]string{"error": "provider must be shopmonkey, twilio or sendgrid"})
		return
	}
	writeControlJSON(w, http.StatusCreated, f)
}

func (s *Server) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ShopMonkey.ClearFaults()
	s.Twilio.ClearFaults()
	s.SendGrid.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleOptOut(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Number string `json:"number"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Number == "" {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {\"number\": \"+1...\"}"})
		return
	}
	s.Twilio.OptOut(body.Number)
	w.WriteHeader(http.StatusNoContent)
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
