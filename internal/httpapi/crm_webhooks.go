package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// maxCRMWebhookBody bounds a CRM or Twilio webhook body: one record, one
// message.
const maxCRMWebhookBody = 1 << 20

// TenantWebhooks is what the per-tenant webhook routes need from the rest
// of the service, wired by cmd/worker.
type TenantWebhooks struct {
	// Tenant returns a tenant by id (store.ErrNotFound when there is none).
	Tenant func(ctx context.Context, id uuid.UUID) (lead.Tenant, error)
	// OpenSecret opens a tenant's sealed webhook signing secret.
	OpenSecret func(tenantID uuid.UUID, s lead.SealedSecret) (lead.Secret, error)
	// EnqueueIngest enqueues ingest_lead for a record a webhook named,
	// deduplicated by deliveryID when it is not empty, in one transaction.
	// version is the record's version the webhook carried, 0 for none.
	EnqueueIngest func(ctx context.Context, tenantID uuid.UUID, source, deliveryID, externalID string, version int64) error
	// AdmitIngest spends one of the tenant's CRM webhook budget, shared by
	// the fleet, before EnqueueIngest: zero when the delivery may be taken,
	// else how long until one may (the route answers 429 with Retry-After
	// and enqueues nothing). Required with Tenant: NewHandler refuses CRM
	// webhook routes without a limit.
	AdmitIngest func(ctx context.Context, tenantID uuid.UUID) (wait time.Duration, err error)

	// TwilioAuthToken checks X-Twilio-Signature; PublicURL is this
	// service's base URL as Twilio calls it (scheme, host and any path
	// prefix a proxy strips), which the signature covers.
	TwilioAuthToken string
	PublicURL       string
	// EnqueueInbound and EnqueueSMSStatus store a customer's text and a
	// delivery status callback as jobs.
	EnqueueInbound   func(ctx context.Context, tenantID uuid.UUID, m InboundSMS, received time.Time) error
	EnqueueSMSStatus func(ctx context.Context, tenantID uuid.UUID, s StatusCallback) error
}

// readBody reads at most limit bytes, answering 413 or 400 itself when it
// cannot.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
		return nil, false
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "error reading body"})
		return nil, false
	}
	return body, true
}

// admitIngest spends one delivery of the tenant's webhook budget and
// reports whether the delivery may go on to be enqueued; when not, it has
// answered: 429 with Retry-After (whole seconds, at least 1) when the
// budget is spent, 500 when it could not be read. Either way the CRM
// delivers again, and the poll finds the change in any case.
func admitIngest(w http.ResponseWriter, r *http.Request, logger *slog.Logger, wh TenantWebhooks, tenantID uuid.UUID) bool {
	wait, err := wh.AdmitIngest(r.Context(), tenantID)
	switch {
	case err != nil:
		logger.ErrorContext(r.Context(), "error taking a webhook delivery", slog.String("tenant_id", tenantID.String()), slog.String("error", err.Error()))
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
		return false
	case wait > 0:
		// Info, not warn: a flood is one line per delivery.
		logger.InfoContext(r.Context(), "webhook over the tenant's intake limit", slog.String("tenant_id", tenantID.String()), slog.Duration("retry_after", wait))
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many webhooks for this shop; retry later"})
		return false
	}
	return true
}

// handleShopMonkeyWebhook takes ShopMonkey's signed webhooks (Standard
// Webhooks: HMAC-SHA256 over id.timestamp.body with the shop's secret,
// fresh within 5 minutes). An order or appointment of the shop inserted or
// updated is enqueued for ingest at once, within the tenant's intake limit
// (429 beyond it), deduplicated by webhook-id and collapsed into the
// record's pending ingest if there is one; ingest fetches the record again
// and decides: a new lead, an update of one (a booking), or nothing.
func handleShopMonkeyWebhook(logger *slog.Logger, wh TenantWebhooks, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBody(w, r, maxCRMWebhookBody)
		if !ok {
			return
		}
		t, id, reason := webhookTenant(r, wh, "shopmonkey")
		if reason == "" && t.WebhookSecret.IsZero() {
			reason = "the tenant has no webhook signing secret"
		}
		if reason != "" {
			rejectUnverified(w, r, logger, "shopmonkey", id, reason)
			return
		}
		secret, err := wh.OpenSecret(t.ID, t.WebhookSecret)
		if err != nil {
			// Our fault (the keys), but still a request nothing verified: the
			// sender gets the same 401 (and redelivers); the operator the error.
			logger.ErrorContext(r.Context(), "error opening a webhook secret", slog.String("tenant_id", t.ID.String()), slog.String("error", err.Error()))
			rejectUnverified(w, r, logger, "shopmonkey", id, "the tenant's signing secret cannot be opened")
			return
		}
		deliveryID, err := VerifyStandardWebhook(secret.Reveal(), r.Header, body, now())
		if err != nil {
			if errors.Is(err, ErrWebhookSecret) {
				logger.ErrorContext(r.Context(), "a tenant's webhook signing secret is unusable", slog.String("tenant_id", t.ID.String()), slog.String("error", err.Error()))
			}
			// VerifyStandardWebhook's errors never hold the secret or a
			// signature, so the reason may be logged.
			rejectUnverified(w, r, logger, "shopmonkey", id, err.Error())
			return
		}
		e, err := ParseShopMonkeyWebhook(body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if !e.Relevant() || (e.LocationID != "" && e.LocationID != t.CRMLocationID) {
			writeJSON(w, http.StatusOK, map[string]string{"ignored": "not an order or appointment of this shop"})
			return
		}
		if !admitIngest(w, r, logger, wh, t.ID) {
			return
		}
		// Without a version in the record, 0 asks for the latest; the
		// clock was used once, which made every delivery a job of its own.
		if err := wh.EnqueueIngest(r.Context(), t.ID, "shopmonkey", deliveryID, e.ExternalID(), e.Version); err != nil {
			logger.ErrorContext(r.Context(), "error enqueueing a webhook ingest", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"enqueued": e.ExternalID()})
	})
}

// handleTekmetricWebhook takes Tekmetric's webhooks, which carry no
// signature: the token in the URL the shop configured is the secret (only
// its hash is stored), and the record is fetched again by id before
// anything is done with it. The path holds the token: it is never logged.
func handleTekmetricWebhook(logger *slog.Logger, wh TenantWebhooks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, id, reason := webhookTenant(r, wh, "tekmetric")
		got := sha256.Sum256([]byte(r.PathValue("token")))
		switch {
		case reason != "":
		case len(t.WebhookTokenHash) != sha256.Size:
			reason = "the tenant has no webhook token"
		case subtle.ConstantTimeCompare(got[:], t.WebhookTokenHash) != 1:
			reason = "the token in the URL is not the tenant's" // the token itself is never logged
		}
		if reason != "" {
			rejectUnverified(w, r, logger, "tekmetric", id, reason)
			return
		}
		body, ok := readBody(w, r, maxCRMWebhookBody)
		if !ok {
			return
		}
		e, err := ParseTekmetricWebhook(body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if e.Kind == TekmetricOther {
			writeJSON(w, http.StatusOK, map[string]string{"ignored": e.Event})
			return
		}
		// Tekmetric sends no delivery id. The record's updatedDate, when
		// the webhook carries it, is its version, so the webhook and the
		// poll of one change share an ingest; without it the version is 0,
		// "the latest", never the clock (which made every delivery a job of
		// its own): repeats then collapse into the record's pending ingest.
		loc, err := t.Location()
		if err != nil {
			loc = time.UTC // a row edited by hand; the version is then the poll's to give
		}
		version, _ := e.Version(loc) // 0 when the webhook carried none
		if !admitIngest(w, r, logger, wh, t.ID) {
			return
		}
		if err := wh.EnqueueIngest(r.Context(), t.ID, "tekmetric", "", e.ExternalID(), version); err != nil {
			logger.ErrorContext(r.Context(), "error enqueueing a webhook ingest", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"enqueued": e.ExternalID()})
	})
}

// twilioForm reads a Twilio webhook's form body and checks its signature
// against the public URL Twilio called. The body is parsed on its own (not
// r.Form, which would mix in the query string).
func twilioForm(w http.ResponseWriter, r *http.Request, logger *slog.Logger, wh TenantWebhooks) (lead.Tenant, url.Values, bool) {
	body, ok := readBody(w, r, 64<<10)
	if !ok {
		return lead.Tenant{}, nil, false
	}
	// A body that is not a form cannot be verified either: it gets the
	// same 401 as a bad signature, not a 400 that a known tenant alone
	// would reach.
	t, id, reason := webhookTenant(r, wh, "")
	form, err := url.ParseQuery(string(body))
	switch {
	case reason != "":
	case err != nil:
		reason = "the body is not a form"
	case r.Header.Get(TwilioSignatureHeader) == "":
		reason = TwilioSignatureHeader + " is missing"
	case !VerifyTwilioSignature(wh.TwilioAuthToken, wh.PublicURL+r.URL.RequestURI(), form, r.Header.Get(TwilioSignatureHeader)):
		reason = TwilioSignatureHeader + " does not verify"
	}
	if reason != "" {
		rejectUnverified(w, r, logger, "twilio", id, reason)
		return lead.Tenant{}, nil, false
	}
	return t, form, true
}

// handleTwilioInbound takes a text a customer sent to the shop's number
// and stores it as a job; Twilio gets an empty TwiML answer (our replies,
// such as HELP's, go out as messages of their own).
func handleTwilioInbound(logger *slog.Logger, wh TenantWebhooks, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, form, ok := twilioForm(w, r, logger, wh)
		if !ok {
			return
		}
		m, err := ParseTwilioInbound(form)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := wh.EnqueueInbound(r.Context(), t.ID, m, now()); err != nil {
			logger.ErrorContext(r.Context(), "error enqueueing an inbound text", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
	})
}

// handleTwilioStatus takes a delivery status callback.
func handleTwilioStatus(logger *slog.Logger, wh TenantWebhooks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, form, ok := twilioForm(w, r, logger, wh)
		if !ok {
			return
		}
		s, err := ParseTwilioStatus(form)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if err := wh.EnqueueSMSStatus(r.Context(), t.ID, s); err != nil {
			logger.ErrorContext(r.Context(), "error enqueueing a status callback", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// TwilioStatusPath is the status callback path of a tenant: send jobs ask
// Twilio to call it (under the public URL).
func TwilioStatusPath(tenantID uuid.UUID) string {
	return "/webhooks/twilio/" + tenantID.String() + "/status"
}
