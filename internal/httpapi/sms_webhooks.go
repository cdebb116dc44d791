package httpapi

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// maxSMSWebhookBody bounds an SMS provider's webhook body: one message's
// form.
const maxSMSWebhookBody = 64 << 10

// smsRequest reads an SMS provider's webhook and resolves its tenant (of
// any CRM), or answers it. It returns the public URL the provider called,
// which its signature covers: this service's public URL as configured
// (never one rebuilt from a request that came through a proxy), the
// route's path, and the query the request carried.
func (wr *webhookRoutes) smsRequest(w http.ResponseWriter, r *http.Request, route func(tenant string) webhookurl.Route) (lead.Tenant, string, []byte, bool) {
	body, ok := readBody(w, r, maxSMSWebhookBody, "body too large")
	if !ok {
		return lead.Tenant{}, "", nil, false
	}
	t, id, reason, err := webhookTenant(r, wr.tenants, "")
	if err != nil {
		tenantUnavailable(w, r, wr.logger, "twilio", id, err)
		return lead.Tenant{}, "", nil, false
	}
	if reason != "" {
		rejectUnverified(w, r, wr.logger, "twilio", id, reason)
		return lead.Tenant{}, "", nil, false
	}
	u := webhookurl.URL(wr.publicURL, route(r.PathValue(webhookurl.TenantSegment)))
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return t, u, body, true
}

// handleSMSInbound takes a text a customer sent to the shop's number and
// stores it as a job; the provider gets an empty TwiML answer (our
// replies, such as HELP's, go out as messages of their own).
func (wr *webhookRoutes) handleSMSInbound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, u, body, ok := wr.smsRequest(w, r, webhookurl.TwilioSMS)
		if !ok {
			return
		}
		m, err := wr.sms.ParseInbound(u, r.Header, body)
		if err != nil {
			refuseParsed(w, r, wr.logger, "twilio", t.ID, err)
			return
		}
		m.ReceivedAt = wr.now()
		if err := wr.intake.Inbound(r.Context(), t.ID, m); err != nil {
			wr.logger.ErrorContext(r.Context(), "error enqueueing an inbound text", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
	})
}

// handleSMSStatus takes a delivery status callback.
func (wr *webhookRoutes) handleSMSStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, u, body, ok := wr.smsRequest(w, r, webhookurl.TwilioStatus)
		if !ok {
			return
		}
		s, err := wr.sms.ParseStatus(u, r.Header, body)
		if err != nil {
			refuseParsed(w, r, wr.logger, "twilio", t.ID, err)
			return
		}
		if err := wr.intake.SMSStatus(r.Context(), t.ID, s); err != nil {
			wr.logger.ErrorContext(r.Context(), "error enqueueing a status callback", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
