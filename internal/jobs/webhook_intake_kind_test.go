package jobs_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// A third CRM, as its own package would declare it: "thirdcrm" signs its
// webhooks (base64 HMAC-SHA256 of "<delivery>.<body>" in X-Third-Signature),
// "thirdtoken" authenticates by URL token. Their bodies are
// {"record": "...", "rev": n}.
const (
	thirdSignedKind = "thirdcrm"
	thirdTokenKind  = "thirdtoken"
	thirdSecret     = "third-crm-signing-secret"
	thirdToken      = "tok_third_9f8e7d6c"
)

func thirdSignature(secret, delivery string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(delivery + "."))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// thirdRecord decodes a third CRM's webhook body into its event.
func thirdRecord(body []byte) (crm.WebhookEvent, error) {
	var v struct {
		Record string `json:"record"`
		Rev    int64  `json:"rev"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Record == "" {
		return crm.WebhookEvent{}, errors.New("third webhook: field record: is missing")
	}
	return crm.WebhookEvent{ExternalID: "rec:" + v.Record, Version: v.Rev}, nil
}

// thirdKinds is the registry with the third CRM's two kinds only.
func thirdKinds() *crm.Registry {
	reg := crm.NewRegistry()
	adapter := func(lead.Tenant, lead.Secret) (crm.Adapter, error) { return nil, errors.New("not polled in this test") }
	id := func(s string) (string, error) { return s, nil }
	reg.Register(crm.Kind{Name: thirdSignedKind, NewAdapter: adapter, ParseExternalID: id, WebhookAuth: crm.WebhookSigned,
		ParseWebhook: func(req crm.WebhookRequest) (crm.WebhookEvent, error) {
			delivery := req.Header.Get("X-Third-Delivery")
			want := thirdSignature(req.Secret.Reveal(), delivery, req.Body)
			if delivery == "" || !hmac.Equal([]byte(req.Header.Get("X-Third-Signature")), []byte(want)) {
				return crm.WebhookEvent{}, errors.Join(crm.ErrWebhookUnverified, errors.New("X-Third-Signature does not verify"))
			}
			e, err := thirdRecord(req.Body)
			e.DeliveryID = delivery
			return e, err
		}})
	reg.Register(crm.Kind{Name: thirdTokenKind, NewAdapter: adapter, ParseExternalID: id, WebhookAuth: crm.WebhookURLToken,
		ParseWebhook: func(req crm.WebhookRequest) (crm.WebhookEvent, error) { return thirdRecord(req.Body) }})
	return reg
}

// addThirdTenant stores a tenant of kind with both webhook credentials.
func (b *testBundle) addThirdTenant(t *testing.T, kind, name string) lead.Tenant {
	t.Helper()
	ctx := context.Background()
	tenant := lead.Tenant{Name: name, CRMKind: kind, CRMLocationID: "loc-" + name, TimeZone: "America/Chicago",
		PollInterval: time.Minute, SMSFrom: "+15005550006", EmailFrom: "service@" + name + ".example.com", Enabled: true,
		QuietHours: lead.AllDay, QuietRule: lead.QuietRuleNone}
	require.NoError(t, b.keys.SealFor(&tenant, lead.Secret("crm-key-"+name)))
	tenant, err := b.store.CreateTenant(ctx, tenant)
	require.NoError(t, err)
	sealed, err := b.keys.SealWebhook(tenant.ID, lead.Secret(thirdSecret))
	require.NoError(t, err)
	hash := sha256.Sum256([]byte(thirdToken))
	require.NoError(t, b.store.SetTenantWebhookCredentials(ctx, tenant.ID, &sealed, hash[:]))
	return tenant
}

// TestWebhookIntakeThirdKind proves a third CRM needs nothing in httpapi,
// jobs, store or cmd: its kinds, registered in a crm.Registry, get their
// routes, which verify with the tenant's sealed secret or token hash as
// stored, refuse with the uniform 401, and ingest through the real intake
// into River (deduplicated by the kind's delivery id, at the head of the
// live CRM queue).
func TestWebhookIntakeThirdKind(t *testing.T) {
	t.Parallel()
	b := setup(t)
	client, err := jobs.NewClient(b.deps, jobs.ClientOpts{ScheduleInterval: time.Hour,
		MaxWorkers: map[string]int{jobs.QueueCRM: 1, jobs.QueueCRMBackfill: 1, jobs.QueueSMS: 1, jobs.QueueEmail: 1, jobs.QueueBookkeeping: 1}})
	require.NoError(t, err) // never started: the test reads what the deliveries enqueue
	handler, err := httpapi.NewHandler(httpapi.Opts{
		Logger:   b.deps.Logger,
		Intake:   &jobs.WebhookIntake{Pool: b.deps.Pool, Client: client, IntakePerMinute: 600, IntakeBurst: 100},
		Tenants:  jobs.WebhookTenants{Pool: b.deps.Pool, Keys: b.keys},
		CRMKinds: thirdKinds(),
	})
	require.NoError(t, err)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	signedShop := b.addThirdTenant(t, thirdSignedKind, "thirdsigned")
	tokenShop := b.addThirdTenant(t, thirdTokenKind, "thirdtoken")
	unauthorized := webhookAnswer{Status: http.StatusUnauthorized, ContentType: "application/json", Body: httpapi.UnauthorizedBody}

	signedURL := webhookurl.URL(srv.URL, webhookurl.CRM(thirdSignedKind, signedShop.ID.String(), ""))
	body := []byte(`{"record": "41", "rev": 7}`)
	signed := func(secret, delivery string) http.Header {
		return http.Header{"X-Third-Delivery": {delivery}, "X-Third-Signature": {thirdSignature(secret, delivery, body)}}
	}
	enqueued := webhookAnswer{Status: http.StatusOK, ContentType: "application/json", Body: `{"enqueued":"rec:41"}` + "\n"}
	require.Equal(t, enqueued, postWebhookRaw(t, signedURL, signed(thirdSecret, "dlv_1"), body))
	require.Equal(t, enqueued, postWebhookRaw(t, signedURL, signed(thirdSecret, "dlv_1"), body), "a redelivery is acknowledged")
	require.Equal(t, unauthorized, postWebhookRaw(t, signedURL, signed("not-the-secret", "dlv_2"), body))
	otherKind := webhookurl.URL(srv.URL, webhookurl.CRM(thirdSignedKind, tokenShop.ID.String(), ""))
	require.Equal(t, unauthorized, postWebhookRaw(t, otherKind, signed(thirdSecret, "dlv_3"), body), "a tenant of the other kind")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND queue = $1 AND priority = 1
		AND args @> jsonb_build_object('tenant_id', $2::text, 'external_id', 'rec:41', 'version', 7, 'send_messages', true)`,
		jobs.QueueCRM, signedShop.ID.String()), "one ingest, the redelivery deduplicated by the kind's delivery id")

	tokenURL := func(token string) string {
		return webhookurl.URL(srv.URL, webhookurl.CRM(thirdTokenKind, tokenShop.ID.String(), token))
	}
	require.Equal(t, unauthorized, postWebhookRaw(t, tokenURL("tok_guess"), nil, body))
	require.Equal(t, webhookAnswer{Status: http.StatusBadRequest, ContentType: "application/json", Body: `{"error":"third webhook: field record: is missing"}` + "\n"},
		postWebhookRaw(t, tokenURL(thirdToken), nil, []byte(`{"rev": 1}`)))
	require.Equal(t, enqueued, postWebhookRaw(t, tokenURL(thirdToken), nil, body))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead'
		AND args @> jsonb_build_object('tenant_id', $1::text, 'external_id', 'rec:41', 'version', 7)`, tokenShop.ID.String()))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM river_job`), "nothing else was enqueued")
}
