package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// UnauthorizedBody is the body of every webhook route's 401, byte for
// byte. A request that has not passed verification learns nothing else:
// not whether the tenant in its URL exists, is another CRM's or has no
// webhook set up, nor which header or check failed. The ShopMonkey route
// used to answer 401 for an unknown tenant but 400 "webhook-id is
// required" for a known one, which told anyone which tenant ids exist.
// The reason goes to the log instead (see rejectUnverified).
const UnauthorizedBody = `{"error":"unauthorized"}` + "\n"

// rejectUnverified answers a webhook that did not verify, whatever the
// reason, with one 401 and UnauthorizedBody, and logs the reason at warn
// with the route and the tenant id the URL named (never a token, secret or
// signature: reason must not hold one). tenantID is uuid.Nil when the
// route has no tenant or the path segment was not an id.
func rejectUnverified(w http.ResponseWriter, r *http.Request, logger *slog.Logger, route string, tenantID uuid.UUID, reason string) {
	attrs := []any{slog.String("route", route), slog.String("reason", reason)}
	if tenantID != uuid.Nil {
		attrs = append(attrs, slog.String("tenant_id", tenantID.String()))
	}
	logger.WarnContext(r.Context(), "rejected unverified webhook", attrs...)
	noteRefusal(r, unverifiedReason(reason))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(UnauthorizedBody))
}

// webhookTenant resolves the {tenant} path segment to an enabled tenant of
// crmKind (any kind when crmKind is empty). When it cannot, it returns the
// reason to log, and the id the path named (uuid.Nil when it named none);
// the caller answers with rejectUnverified, so an unknown, disabled or
// other-CRM tenant looks exactly like a bad signature. err is a failed
// lookup (the database), which the caller answers with tenantUnavailable:
// a 401 for it told a provider that retries only on 5xx to give up on a
// delivery that was never looked at.
func webhookTenant(r *http.Request, tenants TenantLookup, crmKind string) (t lead.Tenant, id uuid.UUID, reason string, err error) {
	id, err = uuid.Parse(r.PathValue(webhookurl.TenantSegment))
	if err != nil {
		return lead.Tenant{}, uuid.Nil, "the tenant path segment is not a tenant id", nil
	}
	t, found, err := tenants.Tenant(r.Context(), id)
	switch {
	case err != nil:
		return lead.Tenant{}, id, "", err
	case !found:
		return lead.Tenant{}, id, "tenant not found", nil
	case !t.Enabled:
		return lead.Tenant{}, id, "tenant is disabled", nil
	case crmKind != "" && t.CRMKind != crmKind:
		return lead.Tenant{}, id, "tenant's CRM is " + t.CRMKind + ", not " + crmKind, nil
	}
	return t, id, "", nil
}

// tenantUnavailable answers a webhook whose tenant could not be looked up
// (the database failed) with 503 and Retry-After, so the provider delivers
// again; the error goes to the log. It says nothing about the tenant: the
// same answer comes for any id while the lookup fails.
func tenantUnavailable(w http.ResponseWriter, r *http.Request, logger *slog.Logger, route string, tenantID uuid.UUID, err error) {
	logger.ErrorContext(r.Context(), "error looking up a webhook's tenant", slog.String("route", route),
		slog.String("tenant_id", tenantID.String()), slog.String("error", err.Error()))
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "could not look up the tenant; redeliver"})
}

// refuseParsed answers a webhook its CRM kind's or provider's parser
// refused: the uniform 401 when it did not verify (either port's
// ErrWebhookUnverified; the parsers' errors never hold a secret or a
// signature, so the reason may be logged), else 400 with the error, which
// names the field of a verified request the sender built wrong.
func refuseParsed(w http.ResponseWriter, r *http.Request, logger *slog.Logger, route string, tenantID uuid.UUID, err error) {
	switch {
	case errors.Is(err, crm.ErrWebhookSecret):
		// Our fault (the tenant's configured secret), not the sender's: it
		// gets the same 401, the operator an error.
		logger.ErrorContext(r.Context(), "a tenant's webhook signing secret is unusable", slog.String("tenant_id", tenantID.String()), slog.String("error", err.Error()))
		rejectUnverified(w, r, logger, route, tenantID, err.Error())
	case errors.Is(err, crm.ErrWebhookUnverified), errors.Is(err, messaging.ErrWebhookUnverified):
		rejectUnverified(w, r, logger, route, tenantID, err.Error())
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
}
