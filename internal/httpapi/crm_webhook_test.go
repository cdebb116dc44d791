package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// signedRequest is a fakecrm delivery of body, signed with secret.
func signedRequest(secret, delivery string, body []byte) http.Header {
	return http.Header{fakeSignatureHeader: {fakeSign(secret, body)}, fakeDeliveryHeader: {delivery}}
}

// TestCRMWebhookThirdKind: a CRM kind httpapi has never heard of, once in
// the registry, gets its webhook route: a signed kind's request verifies
// through the kind's own ParseWebhook with the tenant's opened secret, a
// URL token kind's through the token's hash, and each is handed to the
// intake as the kind's crm.WebhookEvent.
func TestCRMWebhookThirdKind(t *testing.T) {
	t.Parallel()

	t.Run("Signed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := jsonBody(t, fakeRecord{ID: "41", Version: 7})
		got := b.post(t, webhookurl.CRM(signedKind, b.signed.ID.String(), "").Path(), signedRequest(fakeSecret, "dlv_1", body), body)
		require.Equal(t, answer{Status: http.StatusOK, ContentType: "application/json", Body: `{"enqueued":"record:41"}` + "\n"}, got)
		require.Equal(t, []ingest{{tenantID: b.signed.ID, kind: signedKind,
			event: crm.WebhookEvent{DeliveryID: "dlv_1", ExternalID: "record:41", Version: 7}}}, b.intake.ingests)
		require.Equal(t, 1, b.intake.admitted)
	})

	t.Run("URLToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := jsonBody(t, fakeRecord{ID: "9"})
		got := b.post(t, webhookurl.CRM(tokenKind, b.token.ID.String(), fakeToken).Path(), nil, body)
		require.Equal(t, answer{Status: http.StatusOK, ContentType: "application/json", Body: `{"enqueued":"record:9"}` + "\n"}, got)
		require.Equal(t, []ingest{{tenantID: b.token.ID, kind: tokenKind, event: crm.WebhookEvent{ExternalID: "record:9"}}}, b.intake.ingests)
	})

	t.Run("NoWebhooksNoRoute", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addTenant(lead.Tenant{ID: uuid.New(), CRMKind: noHookKind, Enabled: true})
		body := jsonBody(t, fakeRecord{ID: "1"})
		require.Equal(t, http.StatusNotFound, b.post(t, webhookurl.CRM(noHookKind, tenant.ID.String(), "").Path(), nil, body).Status)
		require.Empty(t, b.intake.ingests)
	})
}

// TestCRMWebhookUnverified: whatever failed (a tenant that is unknown,
// malformed, disabled, of another kind, without the credential, a secret
// that cannot be opened, a signature missing or wrong, a wrong token), the
// answer is the same 401, byte for byte, and nothing is admitted or
// enqueued; the reason goes to the log, never the token.
func TestCRMWebhookUnverified(t *testing.T) {
	t.Parallel()
	b := setup(t)
	disabled := b.addTenant(lead.Tenant{ID: uuid.New(), CRMKind: signedKind, WebhookSecret: b.signed.WebhookSecret})
	noSecret := b.addTenant(lead.Tenant{ID: uuid.New(), CRMKind: signedKind, Enabled: true})
	broken := b.addTenant(lead.Tenant{ID: uuid.New(), CRMKind: signedKind, Enabled: true, WebhookSecret: lead.SealedSecret{KeyID: "broken", Ciphertext: []byte("x")}})
	noToken := b.addTenant(lead.Tenant{ID: uuid.New(), CRMKind: tokenKind, Enabled: true})
	body := jsonBody(t, fakeRecord{ID: "41"})
	signedPath := func(id string) string { return webhookurl.CRM(signedKind, id, "").Path() }
	tokenPath := func(id uuid.UUID, token string) string { return webhookurl.CRM(tokenKind, id.String(), token).Path() }
	good := signedRequest(fakeSecret, "dlv_1", body)

	cases := map[string]struct {
		path string
		h    http.Header
	}{
		"SignedUnknownTenant":     {signedPath(uuid.NewString()), good},
		"SignedMalformedTenant":   {signedPath("not-a-tenant"), good},
		"SignedDisabledTenant":    {signedPath(disabled.ID.String()), good},
		"SignedOtherKindTenant":   {signedPath(b.token.ID.String()), good},
		"SignedNoSecret":          {signedPath(noSecret.ID.String()), good},
		"SignedSecretCannotOpen":  {signedPath(broken.ID.String()), good},
		"SignedMissingSignature":  {signedPath(b.signed.ID.String()), http.Header{}},
		"SignedWrongSignature":    {signedPath(b.signed.ID.String()), signedRequest("not-the-secret", "dlv_2", body)},
		"TokenUnknownTenant":      {tokenPath(uuid.New(), fakeToken), nil},
		"TokenOtherKindTenant":    {tokenPath(b.signed.ID, fakeToken), nil},
		"TokenWrongToken":         {tokenPath(b.token.ID, "tok_guess"), nil},
		"TokenTenantWithoutToken": {tokenPath(noToken.ID, fakeToken), nil},
	}
	for name, tc := range cases {
		require.Equal(t, b.unauthorizedOK, b.post(t, tc.path, tc.h, body), name)
	}
	require.Zero(t, b.intake.admitted, "nothing unverified is admitted")
	require.Empty(t, b.intake.ingests, "nothing unverified is enqueued")
	log := b.logged()
	require.Equal(t, len(cases), strings.Count(log, "rejected unverified webhook"))
	require.Contains(t, log, "error opening a webhook secret")
	require.Contains(t, log, "the token in the URL is not the tenant's")
	require.NotContains(t, log, "tok_guess")
	require.NotContains(t, log, fakeToken)

	// The wrong token is refused before the body is read: an oversized
	// body changes nothing. A signed request's body is read first (its
	// signature covers it): 413.
	huge := bytes.Repeat([]byte(" "), 2<<20)
	require.Equal(t, b.unauthorizedOK, b.post(t, tokenPath(b.token.ID, "tok_guess"), nil, huge))
	require.Equal(t, http.StatusRequestEntityTooLarge, b.post(t, signedPath(b.signed.ID.String()), good, huge).Status)
}

// TestCRMWebhookAnswers: a verified request the CRM built wrong is 400
// naming the field; one about nothing is 200 ignored; beyond the tenant's
// intake budget, 429 with Retry-After in whole seconds; an intake that
// fails is 500 (the CRM delivers again).
func TestCRMWebhookAnswers(t *testing.T) {
	t.Parallel()

	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := jsonBody(t, fakeRecord{Version: 3})
		got := b.post(t, webhookurl.CRM(signedKind, b.signed.ID.String(), "").Path(), signedRequest(fakeSecret, "dlv_1", body), body)
		require.Equal(t, answer{Status: http.StatusBadRequest, ContentType: "application/json", Body: `{"error":"fakecrm webhook: field id: is missing"}` + "\n"}, got)
		require.Empty(t, b.intake.ingests)
	})

	t.Run("Ignored", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := jsonBody(t, fakeRecord{Ignore: true})
		got := b.post(t, webhookurl.CRM(tokenKind, b.token.ID.String(), fakeToken).Path(), nil, body)
		require.Equal(t, answer{Status: http.StatusOK, ContentType: "application/json", Body: `{"ignored":"not a lead of this shop"}` + "\n"}, got)
		require.Zero(t, b.intake.admitted, "an ignored delivery spends no budget")
	})

	t.Run("OverBudget", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.intake.wait = 1200 * time.Millisecond
		body := jsonBody(t, fakeRecord{ID: "41"})
		got := b.post(t, webhookurl.CRM(signedKind, b.signed.ID.String(), "").Path(), signedRequest(fakeSecret, "dlv_1", body), body)
		require.Equal(t, answer{Status: http.StatusTooManyRequests, ContentType: "application/json", RetryAfter: "2",
			Body: `{"error":"too many webhooks for this shop; retry later"}` + "\n"}, got)
		require.Empty(t, b.intake.ingests)
		require.Contains(t, b.logged(), "webhook over the tenant's intake limit")
	})

	t.Run("IntakeFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.intake.fail = errFake
		body := jsonBody(t, fakeRecord{ID: "41"})
		got := b.post(t, webhookurl.CRM(tokenKind, b.token.ID.String(), fakeToken).Path(), nil, body)
		require.Equal(t, answer{Status: http.StatusInternalServerError, ContentType: "application/json", Body: `{"error":"could not store; redeliver"}` + "\n"}, got)
		require.Contains(t, b.logged(), "error taking a webhook delivery")
	})

	t.Run("PanicLogsNoToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		body := jsonBody(t, fakeRecord{Panic: true})
		got := b.post(t, webhookurl.CRM(tokenKind, b.token.ID.String(), fakeToken).Path(), nil, body)
		require.Equal(t, http.StatusInternalServerError, got.Status)
		log := b.logged()
		require.Contains(t, log, "http handler panicked")
		require.Contains(t, log, webhookurl.CRM(tokenKind, b.token.ID.String(), "").Path()+"/****", "a URL token kind's path is redacted")
		require.NotContains(t, log, fakeToken)
	})
}

// TestCRMWebhookTokenHash: the token is compared by its SHA-256, as stored.
func TestCRMWebhookTokenHash(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := sha256.Sum256([]byte("tok_other"))
	tenant := b.addTenant(lead.Tenant{ID: uuid.New(), CRMKind: tokenKind, Enabled: true, WebhookTokenHash: other[:]})
	body := jsonBody(t, fakeRecord{ID: "5"})
	require.Equal(t, b.unauthorizedOK, b.post(t, webhookurl.CRM(tokenKind, tenant.ID.String(), fakeToken).Path(), nil, body))
	require.Equal(t, http.StatusOK, b.post(t, webhookurl.CRM(tokenKind, tenant.ID.String(), "tok_other").Path(), nil, body).Status)
}
