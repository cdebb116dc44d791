package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// ServerOpts configures a Server. Empty credentials are the fakes'
// defaults (faketwilio.DefaultAccountSID, faketwilio.DefaultAuthToken,
// fakesendgrid.DefaultAPIKey).
type ServerOpts struct {
	TwilioAccountSID string
	TwilioAuthToken  string
	SendGridAPIKey   string
}

// Providers name the fakes in the fault control API and in SetFaults.
const (
	ProviderShopMonkey = "shopmonkey"
	ProviderTekmetric  = "tekmetric"
	ProviderTwilio     = "twilio"
	ProviderSendGrid   = "sendgrid"
)

// Server serves every fake on one listener: ShopMonkey under /shopmonkey,
// Tekmetric under /tekmetric, Twilio under /twilio, SendGrid under
// /sendgrid, and the control API under /_sandbox (seed leads, inject
// faults, see what was received).
//
// The Tekmetric routes add shops and leads and drive its auth and limits:
//
//	POST   /_sandbox/tekmetric/shops                     {"shop_id": 3, "time_zone": "America/Chicago", "client_id": ..., "client_secret": ...}
//	POST   /_sandbox/tekmetric/shops/{shop}/leads        one lead (body: a TekmetricLeadSpec), or ?count=N random ones
//	POST   /_sandbox/tekmetric/clients/{client}/revoke   revoke the application's token: its next call is a 401
//	POST   /_sandbox/tekmetric/rate-limit                {"requests_per_minute": 300}; 0 turns the limit off
//
// The fault routes let a chaos harness switch faults per run over HTTP:
//
//	POST   /_sandbox/faults/{provider}   add one Fault (JSON, see Fault.UnmarshalJSON)
//	PUT    /_sandbox/faults/{provider}   replace the provider's faults with a JSON list
//	GET    /_sandbox/faults              the active faults, quirks and tallies (ActiveFaults)
//	DELETE /_sandbox/faults              clear every fault and ShopMonkey's list quirks
//	POST   /_sandbox/faults/seed         {"seed": 42}: reseed the fault and quirk draws
//	POST   /_sandbox/shopmonkey/quirks   set the fields given of ShopMonkeyQuirks
//
// The simulate routes play the CRMs and the customers calling workers
// (Simulator); no answer repeats a webhook credential:
//
//	GET    /_sandbox/simulate            the workers and the registered tenants
//	PUT    /_sandbox/simulate/workers    {"urls": ["http://127.0.0.1:8080"]}: the workers' base URLs
//	POST   /_sandbox/simulate/tenants    {"tenant_id", "crm", "location", "webhook_secret" or "webhook_token", "sms_number"}
//	POST   /_sandbox/simulate/leads      {"tenant_id", "appointment": false}: add a lead and announce it by webhook
//	POST   /_sandbox/simulate/reply      {"tenant_id" or "shop_number" (optional), "from", "body"}: the customer answers
//	POST   /_sandbox/simulate/stop       the same, body STOP (or another opt-out word); also /start and /help
//	POST   /_sandbox/simulate/bounce     {"email", "reason" (optional)}: the last email sent there bounces
//	POST   /_sandbox/simulate/email-reply {"from", "text", "automatic" (optional)}: from answers the last email it got, at its reply address
//	POST   /_sandbox/simulate/call       {"tenant_id" or "shop_number", "from", "answer": "no-answer"}: the customer calls the shop
//	POST   /_sandbox/simulate/carrier    {"number", "code": 30006}: the carrier's verdict on the last text to number, by status callback
//	GET    /_sandbox/simulate/events?after=N  what was played since event N (texts, bounces, leads), oldest first
type Server struct {
	ShopMonkey *fakeshopmonkey.API
	Tekmetric  *faketekmetric.API
	Twilio     *faketwilio.API
	SendGrid   *fakesendgrid.API
	// Simulator plays the CRMs' webhooks and the customers' answers.
	Simulator *Simulator
	mux       *http.ServeMux
}

// NewServer returns a Server with empty fakes.
func NewServer(opts ServerOpts) *Server {
	if opts.TwilioAccountSID == "" {
		opts.TwilioAccountSID = faketwilio.DefaultAccountSID
	}
	if opts.TwilioAuthToken == "" {
		opts.TwilioAuthToken = faketwilio.DefaultAuthToken
	}
	if opts.SendGridAPIKey == "" {
		opts.SendGridAPIKey = fakesendgrid.DefaultAPIKey
	}
	s := &Server{
		ShopMonkey: fakeshopmonkey.New(),
		Tekmetric:  faketekmetric.New(),
		Twilio:     faketwilio.New(opts.TwilioAccountSID, opts.TwilioAuthToken),
		SendGrid:   fakesendgrid.New(opts.SendGridAPIKey),
		mux:        http.NewServeMux(),
	}
	s.Simulator = NewSimulator(s)
	s.mux.Handle("/shopmonkey/", http.StripPrefix("/shopmonkey", s.ShopMonkey))
	s.mux.Handle("/tekmetric/", http.StripPrefix("/tekmetric", s.Tekmetric))
	s.mux.Handle("/twilio/", http.StripPrefix("/twilio", s.Twilio))
	s.mux.Handle("/sendgrid/", http.StripPrefix("/sendgrid", s.SendGrid))
	s.mux.HandleFunc("GET /_sandbox/messages", s.handleMessages)
	s.mux.HandleFunc("GET /_sandbox/stats", s.handleStats)
	s.mux.HandleFunc("POST /_sandbox/shopmonkey/locations", s.handleAddLocation)
	s.mux.HandleFunc("POST /_sandbox/shopmonkey/locations/{location}/leads", s.handleAddLead)
	s.mux.HandleFunc("POST /_sandbox/tekmetric/shops", s.handleAddTekmetricShop)
	s.mux.HandleFunc("POST /_sandbox/tekmetric/shops/{shop}/leads", s.handleAddTekmetricLead)
	s.mux.HandleFunc("POST /_sandbox/tekmetric/clients/{client}/revoke", s.handleRevokeTekmetricTokens)
	s.mux.HandleFunc("POST /_sandbox/tekmetric/rate-limit", s.handleSetTekmetricRateLimit)
	s.mux.HandleFunc("POST /_sandbox/faults/{provider}", s.handleAddFault)
	s.mux.HandleFunc("PUT /_sandbox/faults/{provider}", s.handleSetFaults)
	s.mux.HandleFunc("GET /_sandbox/faults", s.handleFaults)
	s.mux.HandleFunc("DELETE /_sandbox/faults", s.handleClearFaults)
	s.mux.HandleFunc("POST /_sandbox/faults/seed", s.handleSeedFaults)
	s.mux.HandleFunc("POST /_sandbox/shopmonkey/quirks", s.handleSetQuirks)
	s.mux.HandleFunc("POST /_sandbox/twilio/opt-out", s.handleOptOut)
	s.mux.HandleFunc("GET /_sandbox/simulate", s.Simulator.handleState)
	s.mux.HandleFunc("PUT /_sandbox/simulate/workers", s.Simulator.handleSetWorkers)
	s.mux.HandleFunc("POST /_sandbox/simulate/tenants", s.Simulator.handleRegisterTenant)
	s.mux.HandleFunc("POST /_sandbox/simulate/leads", s.Simulator.handleAddLead)
	s.mux.HandleFunc("POST /_sandbox/simulate/reply", s.Simulator.handleText(""))
	s.mux.HandleFunc("POST /_sandbox/simulate/stop", s.Simulator.handleText("STOP"))
	s.mux.HandleFunc("POST /_sandbox/simulate/start", s.Simulator.handleText("START"))
	s.mux.HandleFunc("POST /_sandbox/simulate/help", s.Simulator.handleText("HELP"))
	s.mux.HandleFunc("POST /_sandbox/simulate/bounce", s.Simulator.handleBounce)
	s.mux.HandleFunc("POST /_sandbox/simulate/email-reply", s.Simulator.handleEmailReply)
	s.mux.HandleFunc("POST /_sandbox/simulate/call", s.Simulator.handleCall)
	s.mux.HandleFunc("POST /_sandbox/simulate/carrier", s.Simulator.handleCarrier)
	s.mux.HandleFunc("GET /_sandbox/simulate/events", s.Simulator.handleEvents)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// BaseURLs are what a worker's config points at for this server at base
// (for example "http://127.0.0.1:9090").
type BaseURLs struct {
	ShopMonkey, Tekmetric, Twilio, SendGrid string
}

// URLs returns the provider base URLs of a Server listening at base.
func URLs(base string) BaseURLs {
	base = strings.TrimRight(base, "/")
	return BaseURLs{ShopMonkey: base + "/shopmonkey", Tekmetric: base + "/tekmetric", Twilio: base + "/twilio", SendGrid: base + "/sendgrid"}
}

// WorkerEnv is the environment that points a worker at a Server with these
// base URLs: the providers' URLs and the sandbox's (not secret) credentials
// and event-webhook key. The demo, the fault harness and the benchmark all
// start workers with it.
func (u BaseURLs) WorkerEnv() []string {
	return []string{
		"LEADORCH_SHOPMONKEY_BASE_URL=" + u.ShopMonkey,
		"LEADORCH_TEKMETRIC_BASE_URL=" + u.Tekmetric,
		"LEADORCH_CREDENTIALS_KEYS=" + DevCredentialsKeys,
		"LEADORCH_TWILIO_BASE_URL=" + u.Twilio,
		"LEADORCH_TWILIO_ACCOUNT_SID=" + faketwilio.DefaultAccountSID,
		"LEADORCH_TWILIO_AUTH_TOKEN=" + faketwilio.DefaultAuthToken,
		"LEADORCH_SENDGRID_BASE_URL=" + u.SendGrid,
		"LEADORCH_SENDGRID_API_KEY=" + fakesendgrid.DefaultAPIKey,
		"LEADORCH_SENDGRID_WEBHOOK_PUBLIC_KEY=" + fakesendgrid.WebhookPublicKey,
	}
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

// AddFault checks f and queues it after provider's faults.
func (s *Server) AddFault(provider string, f fake.Fault) error {
	q, err := s.faultsOf(provider)
	if err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("invalid fault for %s: %w", provider, err)
	}
	q.AddFault(f)
	return nil
}

// SetFaults replaces provider's faults with fs (none clears them). Every
// fault is checked first, so a run's fault plan is switched in one step and
// a plan with a mistake changes nothing.
func (s *Server) SetFaults(provider string, fs ...fake.Fault) error {
	q, err := s.faultsOf(provider)
	if err != nil {
		return err
	}
	for i, f := range fs {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("invalid fault %d for %s: %w", i, provider, err)
		}
	}
	q.SetFaults(fs)
	return nil
}

// ClearFaults removes every fault of every fake and turns ShopMonkey's list
// quirks off, so the next run starts clean. Seeds and tallies stay.
func (s *Server) ClearFaults() {
	s.ShopMonkey.ClearFaults()
	s.Tekmetric.ClearFaults()
	s.Twilio.ClearFaults()
	s.SendGrid.ClearFaults()
	s.ShopMonkey.SetUnstableSkip(false)
	s.ShopMonkey.SetDuplicatePageRate(0)
	s.ShopMonkey.SetDropRecordRate(0)
}

// SeedFaults reseeds every fake's fault and quirk draws, so that a run
// sending the same requests in the same order meets the same faults.
func (s *Server) SeedFaults(seed int64) {
	s.ShopMonkey.SeedFaults(seed)
	s.Tekmetric.SeedFaults(seed)
	s.Twilio.SeedFaults(seed)
	s.SendGrid.SeedFaults(seed)
}

// ActiveFaults is what the fakes are doing to requests now, as GET
// /_sandbox/faults answers it.
type ActiveFaults struct {
	ShopMonkey       []fake.Fault          `json:"shopmonkey"`
	Tekmetric        []fake.Fault          `json:"tekmetric"`
	Twilio           []fake.Fault          `json:"twilio"`
	SendGrid         []fake.Fault          `json:"sendgrid"`
	ShopMonkeyQuirks fakeshopmonkey.Quirks `json:"shopmonkey_quirks"`
	Tally            FaultTallies          `json:"tally"`
}

// FaultTallies are the fakes' FaultTally side by side.
type FaultTallies struct {
	ShopMonkey fake.FaultTally `json:"shopmonkey"`
	Tekmetric  fake.FaultTally `json:"tekmetric"`
	Twilio     fake.FaultTally `json:"twilio"`
	SendGrid   fake.FaultTally `json:"sendgrid"`
}

// Faults returns the queued faults (Counts showing the uses left), the list
// quirks and what the faults did so far.
func (s *Server) Faults() ActiveFaults {
	return ActiveFaults{
		ShopMonkey:       s.ShopMonkey.Faults(),
		Tekmetric:        s.Tekmetric.Faults(),
		Twilio:           s.Twilio.Faults(),
		SendGrid:         s.SendGrid.Faults(),
		ShopMonkeyQuirks: s.ShopMonkey.Quirks(),
		Tally: FaultTallies{
			ShopMonkey: s.ShopMonkey.FaultTally(),
			Tekmetric:  s.Tekmetric.FaultTally(),
			Twilio:     s.Twilio.FaultTally(),
			SendGrid:   s.SendGrid.FaultTally(),
		},
	}
}

// errUnknownProvider is what the fault methods return for a provider name
// that is not a fake.
var errUnknownProvider = errors.New("provider must be shopmonkey, tekmetric, twilio or sendgrid")

// faultsOf returns the fault queue of the named fake.
func (s *Server) faultsOf(provider string) (*fake.FaultQueue, error) {
	switch provider {
	case ProviderShopMonkey:
		return &s.ShopMonkey.FaultQueue, nil
	case ProviderTekmetric:
		return &s.Tekmetric.FaultQueue, nil
	case ProviderTwilio:
		return &s.Twilio.FaultQueue, nil
	case ProviderSendGrid:
		return &s.SendGrid.FaultQueue, nil
	}
	return nil, fmt.Errorf("unknown provider %q: %w", provider, errUnknownProvider)
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

// handleAddLead adds one ShopMonkey lead (body: a LeadSpec) or, with
// ?count=N, N random ones.
func (s *Server) handleAddLead(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("location")
	addLeads(w, r, func(spec fakeshopmonkey.LeadSpec) (fake.LeadRef, error) { return s.ShopMonkey.AddLead(loc, spec) })
}

// addLeads answers a lead-seeding request: the body, when there is one, is
// the spec (S is the fake's spec type); with ?count=N the spec is seeded N
// times.
func addLeads[S any](w http.ResponseWriter, r *http.Request, add func(S) (fake.LeadRef, error)) {
	n := 1
	if c := r.URL.Query().Get("count"); c != "" {
		if _, err := fmt.Sscanf(c, "%d", &n); err != nil || n < 1 || n > 10000 {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "count must be 1..10000"})
			return
		}
	}
	var spec S
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid lead spec: " + err.Error()})
			return
		}
	}
	refs := make([]fake.LeadRef, 0, n)
	for range n {
		ref, err := add(spec)
		if err != nil {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		refs = append(refs, ref)
	}
	writeControlJSON(w, http.StatusCreated, refs)
}

func (s *Server) handleAddTekmetricShop(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ShopID       int64  `json:"shop_id"`
		TimeZone     string `json:"time_zone"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": `want JSON {"shop_id": 3, "time_zone": "America/Chicago", "client_id": ..., "client_secret": ...}`})
		return
	}
	if err := s.Tekmetric.AddShop(body.ShopID, body.TimeZone, body.ClientID, body.ClientSecret); err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	body.ClientSecret = "" // the answer need not repeat it
	writeControlJSON(w, http.StatusCreated, body)
}

// handleAddTekmetricLead adds one Tekmetric lead (body: a
// TekmetricLeadSpec) or, with ?count=N, N random ones.
func (s *Server) handleAddTekmetricLead(w http.ResponseWriter, r *http.Request) {
	shop, err := strconv.ParseInt(r.PathValue("shop"), 10, 64)
	if err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "shop must be an integer id"})
		return
	}
	addLeads(w, r, func(spec faketekmetric.LeadSpec) (fake.LeadRef, error) { return s.Tekmetric.AddLead(shop, spec) })
}

func (s *Server) handleRevokeTekmetricTokens(w http.ResponseWriter, r *http.Request) {
	writeControlJSON(w, http.StatusOK, map[string]int{"revoked": s.Tekmetric.RevokeTokens(r.PathValue("client"))})
}

func (s *Server) handleSetTekmetricRateLimit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RequestsPerMinute *int `json:"requests_per_minute"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.RequestsPerMinute == nil || *body.RequestsPerMinute < 0 {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": `want JSON {"requests_per_minute": 300} (0 turns the limit off)`})
		return
	}
	s.Tekmetric.SetRateLimit(*body.RequestsPerMinute)
	writeControlJSON(w, http.StatusOK, map[string]int{"requests_per_minute": s.Tekmetric.RateLimit()})
}

func (s *Server) handleAddFault(w http.ResponseWriter, r *http.Request) {
	var f fake.Fault
	if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON fault: " + err.Error()})
		return
	}
	if err := s.AddFault(r.PathValue("provider"), f); err != nil {
		writeFaultError(w, err)
		return
	}
	writeControlJSON(w, http.StatusCreated, f)
}

func (s *Server) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	var fs []fake.Fault
	if err := json.NewDecoder(r.Body).Decode(&fs); err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON list of faults: " + err.Error()})
		return
	}
	if err := s.SetFaults(r.PathValue("provider"), fs...); err != nil {
		writeFaultError(w, err)
		return
	}
	if fs == nil {
		fs = []fake.Fault{}
	}
	writeControlJSON(w, http.StatusOK, fs)
}

// writeFaultError answers an AddFault or SetFaults error: 404 for an
// unknown provider, 400 for an invalid fault.
func writeFaultError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, errUnknownProvider) {
		status = http.StatusNotFound
	}
	writeControlJSON(w, status, map[string]string{"error": err.Error()})
}

func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	writeControlJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) handleClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSeedFaults(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Seed *int64 `json:"seed"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Seed == nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {\"seed\": 42}"})
		return
	}
	s.SeedFaults(*body.Seed)
	w.WriteHeader(http.StatusNoContent)
}

// handleSetQuirks sets the quirks the body names and leaves the others, so
// a harness can turn one on without restating the rest.
func (s *Server) handleSetQuirks(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UnstableSkip      *bool    `json:"unstable_skip"`
		DuplicatePageRate *float64 `json:"duplicate_page_rate"`
		DropRecordRate    *float64 `json:"drop_record_rate"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON {\"unstable_skip\": bool, \"duplicate_page_rate\": p, \"drop_record_rate\": p}: " + err.Error()})
		return
	}
	var errs []error
	for _, p := range []struct {
		name string
		v    *float64
	}{{"duplicate_page_rate", body.DuplicatePageRate}, {"drop_record_rate", body.DropRecordRate}} {
		if p.v != nil && (*p.v < 0 || *p.v > 1) {
			errs = append(errs, fmt.Errorf("%s must be in [0, 1], got %g", p.name, *p.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if body.UnstableSkip != nil {
		s.ShopMonkey.SetUnstableSkip(*body.UnstableSkip)
	}
	if body.DuplicatePageRate != nil {
		s.ShopMonkey.SetDuplicatePageRate(*body.DuplicatePageRate)
	}
	if body.DropRecordRate != nil {
		s.ShopMonkey.SetDropRecordRate(*body.DropRecordRate)
	}
	writeControlJSON(w, http.StatusOK, s.ShopMonkey.Quirks())
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
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // errors say "status >= 400", not "status \u003e= 400"
	_ = enc.Encode(v)
}
