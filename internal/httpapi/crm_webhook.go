package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// maxCRMWebhookBody bounds a CRM or Twilio webhook body: one record, one
// message.
const maxCRMWebhookBody = 1 << 20

// handleCRMWebhook takes the webhooks of one CRM kind, whichever it is: the
// route authenticates what it can itself (an enabled tenant of the kind,
// and its URL token or its signing secret), the kind's ParseWebhook
// verifies a signature and decodes, and a record the webhook names is
// enqueued for ingest at once, within the tenant's intake limit (429
// beyond it). Ingest fetches the record again and decides: a new lead, an
// update of one (a booking), or nothing. Nothing here knows a CRM's wire
// format: a new kind registered in crm/crmset gets its route.
func (wr *webhookRoutes) handleCRMWebhook(kind crm.Kind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, ok := wr.crmRequest(w, r, kind)
		if !ok {
			return
		}
		e, err := kind.ParseWebhook(req)
		if err != nil {
			refuseParsed(w, r, wr.logger, kind.Name, req.Tenant.ID, err)
			return
		}
		if e.Ignored != "" {
			writeJSON(w, http.StatusOK, map[string]string{"ignored": e.Ignored})
			return
		}
		if !wr.admitIngest(w, r, req.Tenant.ID) {
			return
		}
		if err := wr.intake.Ingest(r.Context(), req.Tenant.ID, kind.Name, e); err != nil {
			wr.logger.ErrorContext(r.Context(), "error enqueueing a webhook ingest", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"enqueued": e.ExternalID})
	})
}

// crmRequest reads and authenticates a CRM webhook as far as the route
// can, or answers it. A URL token is checked before the body is read, so
// a stranger's body is never read (and a wrong token is 401 whatever the
// body's size); a signed request's body is read first, as its signature
// covers it (an oversized one is 413 before anything is looked up).
func (wr *webhookRoutes) crmRequest(w http.ResponseWriter, r *http.Request, kind crm.Kind) (crm.WebhookRequest, bool) {
	if kind.WebhookAuth == crm.WebhookURLToken {
		t, ok := wr.tokenTenant(w, r, kind.Name)
		if !ok {
			return crm.WebhookRequest{}, false
		}
		body, ok := readBody(w, r, maxCRMWebhookBody, "body too large")
		return crm.WebhookRequest{Tenant: t, Header: r.Header, Body: body, Now: wr.now()}, ok
	}
	body, ok := readBody(w, r, maxCRMWebhookBody, "body too large")
	if !ok {
		return crm.WebhookRequest{}, false
	}
	t, secret, ok := wr.signingTenant(w, r, kind.Name)
	return crm.WebhookRequest{Tenant: t, Secret: secret, Header: r.Header, Body: body, Now: wr.now()}, ok
}

// tokenTenant resolves the tenant of a CRM that signs nothing
// (crm.WebhookURLToken): the token in the URL the shop configured is the
// secret, and only its hash is stored, compared in constant time. The path
// holds the token: it is never logged.
func (wr *webhookRoutes) tokenTenant(w http.ResponseWriter, r *http.Request, kind string) (lead.Tenant, bool) {
	t, id, reason, err := webhookTenant(r, wr.tenants, kind)
	if err != nil {
		tenantUnavailable(w, r, wr.logger, kind, id, err)
		return lead.Tenant{}, false
	}
	got := sha256.Sum256([]byte(r.PathValue(webhookurl.TokenSegment)))
	switch {
	case reason != "":
	case len(t.WebhookTokenHash) != sha256.Size:
		reason = "the tenant has no webhook token"
	case subtle.ConstantTimeCompare(got[:], t.WebhookTokenHash) != 1:
		reason = "the token in the URL is not the tenant's" // the token itself is never logged
	}
	if reason != "" {
		rejectUnverified(w, r, wr.logger, kind, id, reason)
		return lead.Tenant{}, false
	}
	return t, true
}

// signingTenant resolves the tenant of a CRM that signs its requests
// (crm.WebhookSigned) and opens its signing secret for the kind's
// ParseWebhook to check the signature with.
func (wr *webhookRoutes) signingTenant(w http.ResponseWriter, r *http.Request, kind string) (lead.Tenant, lead.Secret, bool) {
	t, id, reason, err := webhookTenant(r, wr.tenants, kind)
	if err != nil {
		tenantUnavailable(w, r, wr.logger, kind, id, err)
		return lead.Tenant{}, "", false
	}
	if reason == "" && t.WebhookSecret.IsZero() {
		reason = "the tenant has no webhook signing secret"
	}
	if reason != "" {
		rejectUnverified(w, r, wr.logger, kind, id, reason)
		return lead.Tenant{}, "", false
	}
	secret, err := wr.tenants.OpenWebhookSecret(t)
	if err != nil {
		// Our fault (the keys), but still a request nothing verified: the
		// sender gets the same 401 (and redelivers); the operator the error.
		wr.logger.ErrorContext(r.Context(), "error opening a webhook secret", slog.String("tenant_id", t.ID.String()), slog.String("error", err.Error()))
		rejectUnverified(w, r, wr.logger, kind, id, "the tenant's signing secret cannot be opened")
		return lead.Tenant{}, "", false
	}
	return t, secret, true
}

// admitIngest spends one delivery of the tenant's webhook budget and
// reports whether the delivery may go on to be enqueued; when not, it has
// answered: 429 with Retry-After (whole seconds, at least 1) when the
// budget is spent, 500 when it could not be read. Either way the CRM
// delivers again, and the poll finds the change in any case.
func (wr *webhookRoutes) admitIngest(w http.ResponseWriter, r *http.Request, tenantID uuid.UUID) bool {
	wait, err := wr.intake.AdmitIngest(r.Context(), tenantID)
	switch {
	case err != nil:
		wr.logger.ErrorContext(r.Context(), "error taking a webhook delivery", slog.String("tenant_id", tenantID.String()), slog.String("error", err.Error()))
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
		return false
	case wait > 0:
		// Info, not warn: a flood is one line per delivery.
		wr.logger.InfoContext(r.Context(), "webhook over the tenant's intake limit", slog.String("tenant_id", tenantID.String()), slog.Duration("retry_after", wait))
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many webhooks for this shop; retry later"})
		return false
	}
	return true
}
