package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// The control routes below drive the Simulator over HTTP (see Server).
// Their bodies are checked strictly, so a misspelt field is an error, not
// a default; no answer contains a webhook credential.

// decodeControl decodes a control request body into v, refusing unknown
// fields, and answers 400 itself when it cannot.
func decodeControl(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want JSON " + shape + ": " + err.Error()})
		return false
	}
	return true
}

// writeSimulateError answers a Simulator error with the status of its kind.
func writeSimulateError(w http.ResponseWriter, err error, extra map[string]any) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, errSimulateInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, errSimulateNotFound):
		status = http.StatusNotFound
	case errors.Is(err, errSimulateConflict), errors.Is(err, errNoWorkers):
		status = http.StatusConflict
	case errors.Is(err, errSimulateWorker):
		status = http.StatusBadGateway
	}
	out := map[string]any{"error": err.Error()}
	for k, v := range extra {
		out[k] = v
	}
	writeControlJSON(w, status, out)
}

func (s *Simulator) handleState(w http.ResponseWriter, r *http.Request) {
	writeControlJSON(w, http.StatusOK, map[string]any{"workers": s.Workers(), "tenants": s.Tenants()})
}

func (s *Simulator) handleSetWorkers(w http.ResponseWriter, r *http.Request) {
	var body struct {
		URLs []string `json:"urls"`
	}
	if !decodeControl(w, r, &body, `{"urls": ["http://127.0.0.1:8080", ...]}`) {
		return
	}
	if err := s.SetWorkers(body.URLs...); err != nil {
		writeSimulateError(w, err, nil)
		return
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"workers": s.Workers()})
}

func (s *Simulator) handleRegisterTenant(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TenantID      string `json:"tenant_id"`
		CRM           string `json:"crm"`
		Location      string `json:"location"`
		WebhookSecret string `json:"webhook_secret"`
		WebhookToken  string `json:"webhook_token"`
		SMSNumber     string `json:"sms_number"`
	}
	if !decodeControl(w, r, &body, `{"tenant_id", "crm", "location", "webhook_secret" or "webhook_token", "sms_number"}`) {
		return
	}
	err := s.RegisterTenant(SimulatedTenant{
		TenantID: body.TenantID, CRM: body.CRM, Location: body.Location,
		WebhookSecret: body.WebhookSecret, WebhookToken: body.WebhookToken, SMSNumber: body.SMSNumber,
	})
	if err != nil {
		writeSimulateError(w, err, nil)
		return
	}
	t, err := s.tenant(body.TenantID)
	if err != nil {
		writeSimulateError(w, err, nil)
		return
	}
	writeControlJSON(w, http.StatusCreated, t.view())
}

func (s *Simulator) handleAddLead(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TenantID    string `json:"tenant_id"`
		Appointment bool   `json:"appointment"`
	}
	if !decodeControl(w, r, &body, `{"tenant_id": ..., "appointment": false}`) {
		return
	}
	a, err := s.AddLead(r.Context(), body.TenantID, body.Appointment)
	if err != nil {
		var extra map[string]any
		if a.Lead.ExternalID != "" {
			extra = map[string]any{"lead": a.Lead}
		}
		writeSimulateError(w, err, extra)
		return
	}
	writeControlJSON(w, http.StatusCreated, a)
}

// handleText delivers a customer's text. keyword is what the route sends:
// "" a reply, which must not be a keyword (a reply route that opted
// someone out would surprise), or STOP, START or HELP, the body then
// defaulting to the keyword and having to be one of its words.
func (s *Simulator) handleText(keyword string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var m CustomerText
		if !decodeControl(w, r, &m, `{"tenant_id" or "shop_number" (optional), "from": "+1...", "body": "..."}`) {
			return
		}
		if m.Body == "" {
			m.Body = keyword
		}
		switch got := faketwilio.OptOutType(m.Body); {
		case keyword == "" && m.Body == "":
			writeSimulateError(w, fmt.Errorf("%w: body: a reply needs text", errSimulateInvalid), nil)
			return
		case got != keyword && keyword == "":
			writeSimulateError(w, fmt.Errorf("%w: body: %q is the %s keyword; use /_sandbox/simulate/%s", errSimulateInvalid, m.Body, got, strings.ToLower(got)), nil)
			return
		case got != keyword:
			writeSimulateError(w, fmt.Errorf("%w: body: %q is not a %s keyword", errSimulateInvalid, m.Body, keyword), nil)
			return
		}
		d, err := s.Text(r.Context(), m)
		if err != nil {
			writeSimulateError(w, err, nil)
			return
		}
		writeControlJSON(w, http.StatusOK, d)
	}
}

func (s *Simulator) handleBounce(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Email  string `json:"email"`
		Reason string `json:"reason"`
	}
	if !decodeControl(w, r, &body, `{"email": "...", "reason": "550 ..." (optional)}`) {
		return
	}
	b, err := s.Bounce(r.Context(), body.Email, body.Reason)
	if err != nil {
		writeSimulateError(w, err, nil)
		return
	}
	writeControlJSON(w, http.StatusOK, b)
}
