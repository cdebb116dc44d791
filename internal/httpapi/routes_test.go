package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// The fake CRM kinds: nothing in httpapi knows them, which is the point.
// fakecrm signs each request with an HMAC of its body under the tenant's
// secret; faketoken signs nothing and authenticates by URL token; nohooks
// has no webhooks at all.
const (
	signedKind = "fakecrm"
	tokenKind  = "faketoken"
	noHookKind = "nohooks"

	fakeSignatureHeader = "Fake-Signature"
	fakeDeliveryHeader  = "Fake-Delivery"
	fakeSecret          = "fake-signing-secret"
	fakeToken           = "tok_fake_0123456789"
)

// fakeRecord is the body of a fake CRM's webhook.
type fakeRecord struct {
	ID      string `json:"id,omitempty"`
	Version int64  `json:"version,omitempty"`
	Ignore  bool   `json:"ignore,omitempty"`
	Panic   bool   `json:"panic,omitempty"`
}

// fakeSign is fakecrm's signature of body under secret.
func fakeSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// parseFake decodes a fake CRM's record, the same for both kinds.
func parseFake(kind string, body []byte) (crm.WebhookEvent, error) {
	var rec fakeRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		return crm.WebhookEvent{}, fmt.Errorf("%s webhook: body is not a JSON object", kind)
	}
	switch {
	case rec.Panic:
		panic("a parser bug")
	case rec.Ignore:
		return crm.WebhookEvent{Ignored: "not a lead of this shop"}, nil
	case rec.ID == "":
		return crm.WebhookEvent{}, fmt.Errorf("%s webhook: field id: is missing", kind)
	}
	return crm.WebhookEvent{ExternalID: "record:" + rec.ID, Version: rec.Version}, nil
}

// fakeKinds registers the two fake kinds with webhooks and one without in
// a registry of their own: what a third CRM's package and its one
// crm/crmset line would add.
func fakeKinds() *crm.Registry {
	reg := crm.NewRegistry()
	noAdapter := func(lead.Tenant, lead.Secret) (crm.Adapter, error) {
		return nil, errors.New("a fake kind has no adapter")
	}
	anyID := func(s string) (string, error) { return s, nil }
	reg.Register(crm.Kind{Name: signedKind, NewAdapter: noAdapter, ParseExternalID: anyID, WebhookAuth: crm.WebhookSigned,
		ParseWebhook: func(req crm.WebhookRequest) (crm.WebhookEvent, error) {
			sig := req.Header.Get(fakeSignatureHeader)
			if sig == "" {
				return crm.WebhookEvent{}, fmt.Errorf("%w: %s is missing", crm.ErrWebhookUnverified, fakeSignatureHeader)
			}
			if !hmac.Equal([]byte(sig), []byte(fakeSign(req.Secret.Reveal(), req.Body))) {
				return crm.WebhookEvent{}, fmt.Errorf("%w: %s does not verify", crm.ErrWebhookUnverified, fakeSignatureHeader)
			}
			e, err := parseFake(signedKind, req.Body)
			e.DeliveryID = req.Header.Get(fakeDeliveryHeader)
			return e, err
		}})
	reg.Register(crm.Kind{Name: tokenKind, NewAdapter: noAdapter, ParseExternalID: anyID, WebhookAuth: crm.WebhookURLToken,
		ParseWebhook: func(req crm.WebhookRequest) (crm.WebhookEvent, error) { return parseFake(tokenKind, req.Body) }})
	reg.Register(crm.Kind{Name: noHookKind, NewAdapter: noAdapter, ParseExternalID: anyID})
	return reg
}

// fakeTenants is a TenantLookup over a map. A tenant whose secret's key id
// is "broken" cannot be opened.
type fakeTenants map[uuid.UUID]lead.Tenant

func (ft fakeTenants) Tenant(_ context.Context, id uuid.UUID) (lead.Tenant, bool, error) {
	t, ok := ft[id]
	return t, ok, nil
}

func (ft fakeTenants) OpenWebhookSecret(t lead.Tenant) (lead.Secret, error) {
	if t.WebhookSecret.KeyID == "broken" {
		return "", errors.New("no key broken in the keyring")
	}
	return lead.Secret(t.WebhookSecret.Ciphertext), nil
}

// ingest is one Intake.Ingest call.
type ingest struct {
	tenantID uuid.UUID
	kind     string
	event    crm.WebhookEvent
}

// fakeIntake records what the routes hand it. wait is what AdmitIngest
// answers; fail makes every call fail.
type fakeIntake struct {
	mu       sync.Mutex
	wait     time.Duration
	fail     error
	admitted int
	ingests  []ingest
	inbound  []messaging.InboundText
	emails   []messaging.InboundEmail
	statuses []messaging.SMSStatus
	events   map[string][]messaging.EmailEvent
}

func (fi *fakeIntake) AdmitIngest(context.Context, uuid.UUID) (time.Duration, error) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.admitted++
	return fi.wait, fi.fail
}

func (fi *fakeIntake) Ingest(_ context.Context, tenantID uuid.UUID, kind string, e crm.WebhookEvent) error {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.ingests = append(fi.ingests, ingest{tenantID, kind, e})
	return fi.fail
}

func (fi *fakeIntake) Inbound(_ context.Context, _ uuid.UUID, m messaging.InboundText) error {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.inbound = append(fi.inbound, m)
	return fi.fail
}

func (fi *fakeIntake) SMSStatus(_ context.Context, _ uuid.UUID, s messaging.SMSStatus) error {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.statuses = append(fi.statuses, s)
	return fi.fail
}

func (fi *fakeIntake) InboundEmail(_ context.Context, m messaging.InboundEmail) error {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.emails = append(fi.emails, m)
	return fi.fail
}

func (fi *fakeIntake) EmailEvents(_ context.Context, deliveryKey string, events []messaging.EmailEvent) error {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if fi.events == nil {
		fi.events = map[string][]messaging.EmailEvent{}
	}
	fi.events[deliveryKey] = events
	return fi.fail
}

// testBundle is the routes with fake ports, a tenant of each fake kind,
// and the log.
type testBundle struct {
	handler        http.Handler
	intake         *fakeIntake
	tenants        fakeTenants
	signed, token  lead.Tenant
	sms            *fakeSMS
	email          *fakeEmail
	now            time.Time
	logMu          sync.Mutex
	log            bytes.Buffer
	publicURL      string
	unauthorizedOK answer
	metrics        *metrics.Metrics
}

// answer is what a sender sees of an answer.
type answer struct {
	Status      int
	ContentType string
	Body        string
	RetryAfter  string
}

// lockedWriter serialises the log's writes.
type lockedWriter struct{ b *testBundle }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.b.logMu.Lock()
	defer w.b.logMu.Unlock()
	return w.b.log.Write(p)
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	tokenHash := sha256.Sum256([]byte(fakeToken))
	b := &testBundle{
		intake:    &fakeIntake{},
		signed:    lead.Tenant{ID: uuid.New(), CRMKind: signedKind, Enabled: true, WebhookSecret: lead.SealedSecret{KeyID: "k1", Ciphertext: []byte(fakeSecret)}},
		token:     lead.Tenant{ID: uuid.New(), CRMKind: tokenKind, Enabled: true, WebhookTokenHash: tokenHash[:]},
		sms:       &fakeSMS{},
		email:     &fakeEmail{},
		now:       time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC),
		publicURL: "https://hooks.example.test/base/",
		metrics:   metrics.New(metrics.Opts{}),
	}
	b.tenants = fakeTenants{b.signed.ID: b.signed, b.token.ID: b.token}
	b.unauthorizedOK = answer{Status: http.StatusUnauthorized, ContentType: "application/json", Body: httpapi.UnauthorizedBody}
	handler, err := httpapi.NewHandler(httpapi.Opts{
		Logger:      slog.New(slog.NewJSONHandler(lockedWriter{b}, nil)),
		Intake:      b.intake,
		Tenants:     b.tenants,
		CRMKinds:    fakeKinds(),
		SMS:         b.sms,
		PublicURL:   b.publicURL,
		EmailEvents: b.email,
		Now:         func() time.Time { return b.now },
		Metrics:     b.metrics,
	})
	require.NoError(t, err)
	b.handler = handler
	return b
}

// addTenant adds (or replaces) a tenant the lookup knows.
func (b *testBundle) addTenant(t lead.Tenant) lead.Tenant {
	b.tenants[t.ID] = t
	return t
}

// post sends a request through the routes.
func (b *testBundle) post(t *testing.T, path string, h http.Header, body []byte) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return answer{Status: rec.Code, ContentType: rec.Header().Get("Content-Type"), Body: rec.Body.String(), RetryAfter: rec.Header().Get("Retry-After")}
}

// logged is the log so far.
func (b *testBundle) logged() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.log.String()
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

func TestNewHandler(t *testing.T) {
	t.Parallel()

	t.Run("WebhooksNeedAnIntake", func(t *testing.T) {
		t.Parallel()
		for name, opts := range map[string]httpapi.Opts{
			"CRM":   {Tenants: fakeTenants{}, CRMKinds: fakeKinds()},
			"SMS":   {Tenants: fakeTenants{}, SMS: &fakeSMS{}, PublicURL: "https://hooks.example.test"},
			"Email": {EmailEvents: &fakeEmail{}},
		} {
			_, err := httpapi.NewHandler(opts)
			require.ErrorContains(t, err, "Opts.Intake must be set", name)
		}
	})

	t.Run("NoWebhooksNoIntake", func(t *testing.T) {
		t.Parallel()
		h, err := httpapi.NewHandler(httpapi.Opts{Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		require.Equal(t, http.StatusOK, rec.Code)
	})
}
