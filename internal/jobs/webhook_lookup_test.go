package jobs_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// TestWebhookTenantLookupFailure: when the tenant cannot be looked up at
// all (the database is gone), every webhook route answers 503 with
// Retry-After, so the provider delivers again; it used to answer the
// unverified 401, which a provider that retries only on 5xx takes as
// final, losing the delivery. An unknown tenant is still the 401.
func TestWebhookTenantLookupFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addShop(t, "lookupdown")
	b.withWebhookCredentials(t, shop)

	found, ok, err := jobs.WebhookTenants{Pool: b.deps.Pool, Keys: b.keys}.Tenant(ctx, shop.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, shop.ID, found.ID)
	_, ok, err = jobs.WebhookTenants{Pool: b.deps.Pool, Keys: b.keys}.Tenant(ctx, uuid.New())
	require.NoError(t, err, "an unknown tenant is not a failed lookup")
	require.False(t, ok)

	gone, err := pgxpool.New(ctx, b.deps.Pool.Config().ConnString())
	require.NoError(t, err)
	gone.Close()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	handler, err := httpapi.NewHandler(httpapi.Opts{
		Logger:    b.deps.Logger,
		Intake:    b.intake,
		Tenants:   jobs.WebhookTenants{Pool: gone, Keys: b.keys},
		CRMKinds:  b.deps.CRM,
		SMS:       twilio.NewWebhooks(faketwilio.DefaultAuthToken),
		PublicURL: srv.URL,
	})
	require.NoError(t, err)
	srv.Config.Handler = handler

	body := []byte(`{"apiVersion":"v3","operation":"INSERT","table":"order","data":{"id":"o1"}}`)
	signed := fakeshopmonkey.SignWebhook(shopMonkeyWebhookSecret, "msg_down", time.Now(), body)
	for name, tc := range map[string]struct {
		route webhookurl.Route
		h     http.Header
	}{
		"ShopMonkey": {webhookurl.CRM("shopmonkey", shop.ID.String(), ""), signed},
		"Tekmetric":  {webhookurl.CRM("tekmetric", shop.ID.String(), tekmetricWebhookToken), http.Header{}},
		"TwilioSMS":  {webhookurl.TwilioSMS(shop.ID.String()), http.Header{}},
		"Unknown":    {webhookurl.CRM("shopmonkey", uuid.NewString(), ""), signed},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookurl.URL(srv.URL, tc.route), bytes.NewReader(body))
		require.NoError(t, err)
		req.Header = tc.h.Clone()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		// Even an id that names no tenant: the lookup never ran, and the
		// answer must not depend on the id.
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, name)
		require.Equal(t, "5", resp.Header.Get("Retry-After"), name)
	}
	// With the database up, an unknown tenant is the uniform 401.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		webhookurl.URL(b.server.URL, webhookurl.CRM("shopmonkey", uuid.NewString(), "")), bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = signed.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
