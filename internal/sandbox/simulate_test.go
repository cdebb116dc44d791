package sandbox_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

const (
	simSecret    = "whsec_c2ltdWxhdG9yLXNpZ25pbmcta2V5LTAx" // "simulator-signing-key-01"
	simToken     = "tok_SimulatorUrlToken_0123456789"
	simSMLoc     = "loc-sim"
	simTMShop    = "238"
	simSMNumber  = "+15125550101"
	simTMNumber  = "+15125550102"
	simCustomer  = "+15125559876"
	simNotTheKey = "whsec_b3RoZXIta2V5LW5vdC10aGUtc2hvcHM=" // "other-key-not-the-shops"
)

// simulateBundle is a sandbox whose Simulator calls a worker's real webhook
// routes (httpapi.NewHandler), which verify every signature and token as
// production does; what gets through is recorded instead of enqueued.
type simulateBundle struct {
	sandbox *sandbox.Server
	control *httptest.Server
	worker  *httptest.Server
	// shopMonkey and tekmetric are the worker's tenants: one shop on each
	// CRM, with the webhook credentials simSecret and simToken.
	shopMonkey, tekmetric lead.Tenant

	mu       sync.Mutex
	statuses []int // the worker's answers, in order
	ingests  []simIngest
	inbound  []simInbound
	events   []messaging.EmailEvent
}

type simIngest struct {
	tenantID           uuid.UUID
	source, deliveryID string
	externalID         string
}

type simInbound struct {
	tenantID uuid.UUID
	sms      messaging.InboundText
}

// simTenants are the worker's two tenants.
type simTenants struct {
	tenants map[uuid.UUID]lead.Tenant
	keys    *credentials.Keyring
}

func (st simTenants) Tenant(_ context.Context, id uuid.UUID) (lead.Tenant, bool, error) {
	t, ok := st.tenants[id]
	return t, ok, nil
}

func (st simTenants) OpenWebhookSecret(t lead.Tenant) (lead.Secret, error) {
	return st.keys.OpenWebhook(t.ID, t.WebhookSecret)
}

// simIntake records what gets through instead of enqueueing it.
type simIntake struct{ b *simulateBundle }

// AdmitIngest admits all: the simulations send a handful of webhooks.
func (si simIntake) AdmitIngest(context.Context, uuid.UUID) (time.Duration, error) { return 0, nil }

func (si simIntake) Ingest(_ context.Context, tenantID uuid.UUID, kind string, e crm.WebhookEvent) error {
	si.b.mu.Lock()
	defer si.b.mu.Unlock()
	si.b.ingests = append(si.b.ingests, simIngest{tenantID: tenantID, source: kind, deliveryID: e.DeliveryID, externalID: e.ExternalID})
	return nil
}

func (si simIntake) Inbound(_ context.Context, tenantID uuid.UUID, m messaging.InboundText) error {
	si.b.mu.Lock()
	defer si.b.mu.Unlock()
	m.ReceivedAt = time.Time{} // the route's clock, not the simulator's
	si.b.inbound = append(si.b.inbound, simInbound{tenantID: tenantID, sms: m})
	return nil
}

func (si simIntake) SMSStatus(context.Context, uuid.UUID, messaging.SMSStatus) error { return nil }

func (si simIntake) InboundEmail(context.Context, messaging.InboundEmail) error { return nil }

func (si simIntake) EmailEvents(_ context.Context, _ string, events []messaging.EmailEvent) error {
	si.b.mu.Lock()
	defer si.b.mu.Unlock()
	si.b.events = append(si.b.events, events...)
	return nil
}

func setupSimulate(t *testing.T) *simulateBundle {
	t.Helper()
	keys, err := credentials.ParseKeyring(sandbox.DevCredentialsKeys)
	require.NoError(t, err)
	b := &simulateBundle{
		shopMonkey: lead.Tenant{ID: uuid.New(), Name: "Sim Monkey", CRMKind: sandbox.ProviderShopMonkey, CRMLocationID: simSMLoc, Enabled: true},
		tekmetric:  lead.Tenant{ID: uuid.New(), Name: "Sim Tek", CRMKind: sandbox.ProviderTekmetric, CRMLocationID: simTMShop, Enabled: true},
	}
	b.shopMonkey.WebhookSecret, err = keys.SealWebhook(b.shopMonkey.ID, lead.Secret(simSecret))
	require.NoError(t, err)
	hash := sha256.Sum256([]byte(simToken))
	b.tekmetric.WebhookTokenHash = hash[:]
	tenants := map[uuid.UUID]lead.Tenant{b.shopMonkey.ID: b.shopMonkey, b.tekmetric.ID: b.tekmetric}

	events, err := sendgrid.NewEventWebhook(fakesendgrid.WebhookPublicKey)
	require.NoError(t, err)
	// The Twilio signature covers the public URL, known once the server
	// listens.
	b.worker = httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(b.worker.Close)
	routes, err := httpapi.NewHandler(httpapi.Opts{
		Logger:      slog.New(slog.DiscardHandler),
		Intake:      simIntake{b},
		Tenants:     simTenants{tenants: tenants, keys: keys},
		CRMKinds:    crmset.NewRegistry(crmset.Opts{}),
		SMS:         twilio.NewWebhooks(faketwilio.DefaultAuthToken),
		PublicURL:   b.worker.URL,
		EmailEvents: events,
	})
	require.NoError(t, err)
	b.worker.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		routes.ServeHTTP(rec, r)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.statuses = append(b.statuses, rec.status)
	})

	b.sandbox = sandbox.NewServer(sandbox.ServerOpts{})
	require.NoError(t, b.sandbox.AddCRMShop(sandbox.ProviderShopMonkey, simSMLoc, "", "sm_key", "America/Chicago"))
	require.NoError(t, b.sandbox.AddCRMShop(sandbox.ProviderTekmetric, simTMShop, "sim-client", "tm_secret", "America/Denver"))
	require.NoError(t, b.sandbox.Simulator.SetWorkers(b.worker.URL))
	b.control = httptest.NewServer(b.sandbox)
	t.Cleanup(b.control.Close)
	return b
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// register registers both shops with their right credentials.
func (b *simulateBundle) register(t *testing.T) {
	t.Helper()
	sim := b.sandbox.Simulator
	require.NoError(t, sim.RegisterTenant(sandbox.SimulatedTenant{TenantID: b.shopMonkey.ID.String(), CRM: sandbox.ProviderShopMonkey,
		Location: simSMLoc, WebhookSecret: simSecret, SMSNumber: simSMNumber}))
	require.NoError(t, sim.RegisterTenant(sandbox.SimulatedTenant{TenantID: b.tekmetric.ID.String(), CRM: sandbox.ProviderTekmetric,
		Location: simTMShop, WebhookToken: simToken, SMSNumber: simTMNumber}))
}

func (b *simulateBundle) addLead(t *testing.T, kind, location string, appointment bool) fake.LeadRef {
	t.Helper()
	ref, err := b.sandbox.AddCRMLead(kind, location, appointment, time.Time{})
	require.NoError(t, err)
	return ref
}

func (b *simulateBundle) received() ([]int, []simIngest, []simInbound, []messaging.EmailEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.statuses...), append([]simIngest(nil), b.ingests...),
		append([]simInbound(nil), b.inbound...), append([]messaging.EmailEvent(nil), b.events...)
}

// call calls the sandbox's control API and returns the status and raw body.
func (b *simulateBundle) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.control.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	// No answer repeats a webhook credential, or the key inside one.
	for _, secret := range []string{simSecret, strings.TrimPrefix(simSecret, "whsec_"), simToken} {
		require.NotContains(t, string(raw), secret)
	}
	return resp.StatusCode, string(raw)
}

// registerOverHTTP registers both shops with their right credentials
// through the control route.
func (b *simulateBundle) registerOverHTTP(t *testing.T) {
	t.Helper()
	for _, body := range []string{
		`{"tenant_id": "` + b.shopMonkey.ID.String() + `", "crm": "shopmonkey", "location": "` + simSMLoc +
			`", "webhook_secret": "` + simSecret + `", "sms_number": "` + simSMNumber + `"}`,
		`{"tenant_id": "` + b.tekmetric.ID.String() + `", "crm": "tekmetric", "location": "` + simTMShop +
			`", "webhook_token": "` + simToken + `", "sms_number": "` + simTMNumber + `"}`,
	} {
		status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/tenants", body)
		require.Equal(t, http.StatusCreated, status, raw)
	}
}

// textCustomer has the Twilio fake accept a text from the shop's number to
// the customer and returns the status it answered.
func (b *simulateBundle) textCustomer(t *testing.T, to, from string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		sandbox.URLs(b.control.URL).Twilio+"/2010-04-01/Accounts/"+faketwilio.DefaultAccountSID+"/Messages.json",
		strings.NewReader(url.Values{"To": {to}, "From": {from}, "Body": {"Hi from the shop"}}.Encode()))
	require.NoError(t, err)
	req.SetBasicAuth(faketwilio.DefaultAccountSID, faketwilio.DefaultAuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// email has the SendGrid fake accept an email to the address with the
// custom args given.
func (b *simulateBundle) email(t *testing.T, to string, customArgs map[string]string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"personalizations": []any{map[string]any{"to": []any{map[string]string{"email": to}}}},
		"from":             map[string]string{"email": "service@sim.example.com"},
		"subject":          "Your request",
		"content":          []any{map[string]string{"type": "text/plain", "value": "Hi"}},
		"custom_args":      customArgs,
	})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sandbox.URLs(b.control.URL).SendGrid+"/v3/mail/send", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+fakesendgrid.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}

func TestSimulatorAnnounceLeads(t *testing.T) {
	t.Parallel()

	t.Run("BothCRMsSignedAndOnce", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		refs := []fake.LeadRef{
			b.addLead(t, sandbox.ProviderShopMonkey, simSMLoc, false),
			b.addLead(t, sandbox.ProviderShopMonkey, simSMLoc, true),
			b.addLead(t, sandbox.ProviderTekmetric, simTMShop, false),
			b.addLead(t, sandbox.ProviderTekmetric, simTMShop, true),
		}
		// Leads from before the registration are announced too.
		b.register(t)

		done, err := b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.NoError(t, err)
		require.Len(t, done, 4)
		statuses, ingests, _, _ := b.received()
		require.Equal(t, []int{200, 200, 200, 200}, statuses)
		want := []simIngest{
			{tenantID: b.shopMonkey.ID, source: "shopmonkey", externalID: "order:" + refs[0].ID},
			{tenantID: b.shopMonkey.ID, source: "shopmonkey", externalID: "appointment:" + refs[1].ID},
			{tenantID: b.tekmetric.ID, source: "tekmetric", externalID: "repair-order:" + refs[2].ID},
			{tenantID: b.tekmetric.ID, source: "tekmetric", externalID: "appointment:" + refs[3].ID},
		}
		for i := range ingests {
			if ingests[i].source == "shopmonkey" {
				require.Regexp(t, `^msg_[0-9a-f]{24}$`, ingests[i].deliveryID, "the webhook-id dedupes redeliveries")
			}
			ingests[i].deliveryID = ""
		}
		require.ElementsMatch(t, want, ingests)
		for _, a := range done {
			require.Equal(t, b.worker.URL, a.Worker)
		}

		done, err = b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.NoError(t, err)
		require.Empty(t, done, "each lead is announced once")

		late := b.addLead(t, sandbox.ProviderTekmetric, simTMShop, false)
		done, err = b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.NoError(t, err)
		require.Equal(t, []sandbox.Announcement{{TenantID: b.tekmetric.ID.String(), Lead: late, Worker: b.worker.URL}}, done)
	})

	t.Run("ShopWithoutWebhookIsNotAnnounced", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		require.NoError(t, b.sandbox.Simulator.RegisterTenant(sandbox.SimulatedTenant{TenantID: b.shopMonkey.ID.String(),
			CRM: sandbox.ProviderShopMonkey, Location: simSMLoc, SMSNumber: simSMNumber}))
		b.addLead(t, sandbox.ProviderShopMonkey, simSMLoc, false)
		done, err := b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.NoError(t, err)
		require.Empty(t, done)
		statuses, _, _, _ := b.received()
		require.Empty(t, statuses)
	})

	t.Run("RefusedLeadWaitsForTheNextCall", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		first := b.addLead(t, sandbox.ProviderShopMonkey, simSMLoc, false)
		second := b.addLead(t, sandbox.ProviderShopMonkey, simSMLoc, false)
		wrong := sandbox.SimulatedTenant{TenantID: b.shopMonkey.ID.String(), CRM: sandbox.ProviderShopMonkey, Location: simSMLoc, WebhookSecret: simNotTheKey}
		require.NoError(t, b.sandbox.Simulator.RegisterTenant(wrong))

		done, err := b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.ErrorContains(t, err, "401")
		require.NotContains(t, err.Error(), simNotTheKey)
		require.Empty(t, done)
		statuses, ingests, _, _ := b.received()
		require.Equal(t, []int{http.StatusUnauthorized}, statuses, "the shop's later leads wait behind the refused one")
		require.Empty(t, ingests)

		wrong.WebhookSecret = simSecret
		require.NoError(t, b.sandbox.Simulator.RegisterTenant(wrong))
		done, err = b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.NoError(t, err)
		require.Equal(t, []fake.LeadRef{first, second}, []fake.LeadRef{done[0].Lead, done[1].Lead})
	})

	t.Run("UnreachableWorkerErrorHidesTheToken", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		b.register(t)
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		require.NoError(t, b.sandbox.Simulator.SetWorkers(gone.URL))
		b.addLead(t, sandbox.ProviderTekmetric, simTMShop, false)
		done, err := b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.Empty(t, done)
		require.ErrorContains(t, err, "connection refused")
		require.NotContains(t, err.Error(), simToken, "the URL's token never reaches an error")
	})

	t.Run("NoWorkerNothingToDo", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		b.register(t)
		b.addLead(t, sandbox.ProviderShopMonkey, simSMLoc, false)
		require.NoError(t, b.sandbox.Simulator.SetWorkers())
		done, err := b.sandbox.Simulator.AnnounceLeads(t.Context())
		require.NoError(t, err)
		require.Empty(t, done)
	})
}

func TestSimulatorText(t *testing.T) {
	t.Parallel()

	for name, tt := range map[string]struct {
		text             func(b *simulateBundle) sandbox.CustomerText
		body, optOut, to string
	}{
		"ReplyByTenant": {
			text: func(b *simulateBundle) sandbox.CustomerText {
				return sandbox.CustomerText{TenantID: b.shopMonkey.ID.String(), From: simCustomer, Body: "Yes, can you do Tuesday at 9?"}
			},
			body: "Yes, can you do Tuesday at 9?", to: simSMNumber,
		},
		"ReplyByShopNumber": {
			text: func(b *simulateBundle) sandbox.CustomerText {
				return sandbox.CustomerText{ShopNumber: simTMNumber, From: simCustomer, Body: "How much?"}
			},
			body: "How much?", to: simTMNumber,
		},
		"StopToTheShopThatTexted": {
			text: func(b *simulateBundle) sandbox.CustomerText {
				return sandbox.CustomerText{From: simCustomer, Body: "STOP"}
			},
			body: "STOP", optOut: "STOP", to: simTMNumber,
		},
		"Start": {
			text: func(b *simulateBundle) sandbox.CustomerText {
				return sandbox.CustomerText{TenantID: b.tekmetric.ID.String(), From: simCustomer, Body: "start"}
			},
			body: "start", optOut: "START", to: simTMNumber,
		},
		"Help": {
			text: func(b *simulateBundle) sandbox.CustomerText {
				return sandbox.CustomerText{TenantID: b.shopMonkey.ID.String(), From: simCustomer, Body: "HELP"}
			},
			body: "HELP", optOut: "HELP", to: simSMNumber,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupSimulate(t)
			b.register(t)
			// The Tekmetric shop texted the customer last.
			require.Equal(t, http.StatusCreated, b.textCustomer(t, simCustomer, simSMNumber))
			require.Equal(t, http.StatusCreated, b.textCustomer(t, simCustomer, simTMNumber))

			got, err := b.sandbox.Simulator.Text(t.Context(), tt.text(b))
			require.NoError(t, err)
			tenant := b.shopMonkey.ID
			if tt.to == simTMNumber {
				tenant = b.tekmetric.ID
			}
			require.Regexp(t, `^SM[0-9a-f]{32}$`, got.MessageSid)
			require.Equal(t, sandbox.DeliveredText{TenantID: tenant.String(), From: simCustomer, To: tt.to, Body: tt.body,
				MessageSid: got.MessageSid, OptOutType: tt.optOut, Worker: b.worker.URL}, got)

			statuses, _, inbound, _ := b.received()
			require.Equal(t, []int{http.StatusOK}, statuses, "the signature verified")
			require.Equal(t, []simInbound{{tenantID: tenant, sms: messaging.InboundText{
				ProviderID: got.MessageSid, AccountID: faketwilio.DefaultAccountSID, From: simCustomer, To: tt.to,
				Body: tt.body, OptOutType: tt.optOut,
			}}}, inbound)
		})
	}

	t.Run("StopAndStartReachTwilio", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		b.register(t)
		_, err := b.sandbox.Simulator.Text(t.Context(), sandbox.CustomerText{TenantID: b.shopMonkey.ID.String(), From: simCustomer, Body: "Unsubscribe"})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, b.textCustomer(t, simCustomer, simSMNumber), "21610: Twilio blocks an opted-out number")
		_, err = b.sandbox.Simulator.Text(t.Context(), sandbox.CustomerText{TenantID: b.shopMonkey.ID.String(), From: simCustomer, Body: "START"})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, b.textCustomer(t, simCustomer, simSMNumber))
	})

	t.Run("UnregisteredTenantWithShopNumber", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		got, err := b.sandbox.Simulator.Text(t.Context(), sandbox.CustomerText{TenantID: b.tekmetric.ID.String(), ShopNumber: simTMNumber, From: simCustomer, Body: "hi"})
		require.NoError(t, err)
		require.Equal(t, simTMNumber, got.To)
		_, _, inbound, _ := b.received()
		require.Len(t, inbound, 1)
	})
}

func TestSimulatorBounce(t *testing.T) {
	t.Parallel()
	b := setupSimulate(t)
	messageID := uuid.NewString()
	b.email(t, "ann@example.com", map[string]string{"tenant_id": b.shopMonkey.ID.String(), "lead_id": uuid.NewString(), "message_id": messageID})
	// A later email without a message id (the shop's reply notice) cannot
	// be the one that bounced: the worker could not find it.
	b.email(t, "ann@example.com", map[string]string{"tenant_id": b.shopMonkey.ID.String(), "notice": "reply"})

	before := time.Now().Truncate(time.Second)
	got, err := b.sandbox.Simulator.Bounce(t.Context(), "ANN@example.com", "")
	require.NoError(t, err)
	require.Equal(t, sandbox.EmailBounce{Email: "ann@example.com", TenantID: b.shopMonkey.ID.String(), MessageID: messageID,
		Reason: "550 5.1.1 The email account that you tried to reach does not exist.", Worker: b.worker.URL}, got)

	statuses, _, _, events := b.received()
	require.Equal(t, []int{http.StatusOK}, statuses, "the event signature verified")
	require.Len(t, events, 1)
	require.Equal(t, "bounce", events[0].Event)
	require.Equal(t, "ann@example.com", events[0].Email)
	require.Equal(t, b.shopMonkey.ID.String(), events[0].TenantID)
	require.Equal(t, messageID, events[0].MessageID)
	require.Equal(t, got.Reason, events[0].Reason)
	require.NotEmpty(t, events[0].ProviderMessageID)
	require.False(t, events[0].OccurredAt.Before(before))

	_, err = b.sandbox.Simulator.Bounce(t.Context(), "nobody@example.com", "")
	require.ErrorContains(t, err, "no email a worker sent to nobody@example.com")
}

func TestSimulateControlRoutes(t *testing.T) {
	t.Parallel()

	t.Run("RegisterAndState", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/tenants", `{"tenant_id": "`+b.shopMonkey.ID.String()+
			`", "crm": "shopmonkey", "location": "`+simSMLoc+`", "webhook_secret": "`+simSecret+`", "sms_number": "`+simSMNumber+`"}`)
		require.Equal(t, http.StatusCreated, status, raw)
		require.JSONEq(t, `{"tenant_id": "`+b.shopMonkey.ID.String()+`", "crm": "shopmonkey", "location": "`+simSMLoc+
			`", "sms_number": "`+simSMNumber+`", "webhook_secret_set": true, "webhook_token_set": false, "announced": 0}`, raw)
		b.registerOverHTTP(t)

		status, raw = b.call(t, http.MethodGet, "/_sandbox/simulate", "")
		require.Equal(t, http.StatusOK, status, raw)
		var state struct {
			Workers []string                      `json:"workers"`
			Tenants []sandbox.SimulatedTenantView `json:"tenants"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &state))
		require.Equal(t, []string{b.worker.URL}, state.Workers)
		require.ElementsMatch(t, []sandbox.SimulatedTenantView{
			{TenantID: b.shopMonkey.ID.String(), CRM: "shopmonkey", Location: simSMLoc, SMSNumber: simSMNumber, WebhookSecretSet: true},
			{TenantID: b.tekmetric.ID.String(), CRM: "tekmetric", Location: simTMShop, SMSNumber: simTMNumber, WebhookTokenSet: true},
		}, state.Tenants)
	})

	t.Run("BadRegistrations", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		b.registerOverHTTP(t)
		for _, tt := range []struct {
			body   string
			status int
			want   string
		}{
			{`{"tenant_id": "` + b.tekmetric.ID.String() + `", "crm": "tekmetric", "location": "238", "webhook_secret": "` + simSecret + `"}`,
				http.StatusBadRequest, "webhook_secret: Tekmetric signs nothing"},
			{`{"tenant_id": "` + b.shopMonkey.ID.String() + `", "crm": "shopmonkey", "location": "x", "webhook_secret": "whsec_SEEKRIT*not*base64"}`,
				http.StatusBadRequest, "not standard base64"},
			{`{"tenant_id": "nope", "crm": "shopmonkey", "webhook_token": "` + simToken + `"}`,
				http.StatusBadRequest, "tenant_id: must be the tenant's UUID\\nwebhook_token: only Tekmetric webhooks carry a token in their URL"},
			{`{"tenant_id": "` + uuid.NewString() + `", "crm": "shopmonkey", "location": "` + simSMLoc + `"}`,
				http.StatusConflict, "shopmonkey shop loc-sim is registered to tenant " + b.shopMonkey.ID.String()},
			{`{"tenant_id": "` + uuid.NewString() + `", "crm": "shopmonkey", "location": "y", "webhook_secrets": "` + simSecret + `"}`,
				http.StatusBadRequest, "unknown field"},
		} {
			status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/tenants", tt.body)
			require.Equal(t, tt.status, status, raw)
			require.Contains(t, raw, tt.want)
			require.NotContains(t, raw, "SEEKRIT")
		}
	})

	t.Run("AddLead", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		b.registerOverHTTP(t)
		status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/leads", `{"tenant_id": "`+b.tekmetric.ID.String()+`", "appointment": true}`)
		require.Equal(t, http.StatusCreated, status, raw)
		var a sandbox.Announcement
		require.NoError(t, json.Unmarshal([]byte(raw), &a))
		require.Equal(t, faketekmetric.Appointment, a.Lead.Kind)
		require.Equal(t, b.worker.URL, a.Worker)
		_, ingests, _, _ := b.received()
		require.Equal(t, []simIngest{{tenantID: b.tekmetric.ID, source: "tekmetric", externalID: a.Lead.ExternalID}}, ingests)

		status, raw = b.call(t, http.MethodPost, "/_sandbox/simulate/leads", `{"tenant_id": "`+uuid.NewString()+`"}`)
		require.Equal(t, http.StatusNotFound, status, raw)
	})

	t.Run("Texts", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		b.registerOverHTTP(t)
		for _, tt := range []struct {
			path, body string
			status     int
			want       string
		}{
			{"reply", `{"tenant_id": "` + b.shopMonkey.ID.String() + `", "from": "` + simCustomer + `", "body": "Tuesday works"}`, http.StatusOK, `"body":"Tuesday works"`},
			{"reply", `{"shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `", "body": "stop"}`, http.StatusBadRequest, "use /_sandbox/simulate/stop"},
			{"reply", `{"shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `"}`, http.StatusBadRequest, "a reply needs text"},
			{"stop", `{"shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `"}`, http.StatusOK, `"opt_out_type":"STOP"`},
			{"start", `{"shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `", "body": "unstop"}`, http.StatusOK, `"opt_out_type":"START"`},
			{"help", `{"shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `", "body": "stop"}`, http.StatusBadRequest, "not a HELP keyword"},
			{"help", `{"from": "+15125550000"}`, http.StatusNotFound, "no shop has texted +15125550000"},
			{"reply", `{"shop_number": "` + simSMNumber + `", "from": "5125559876", "body": "hi"}`, http.StatusBadRequest, "want the customer's number in E.164"},
		} {
			status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/"+tt.path, tt.body)
			require.Equal(t, tt.status, status, "%s %s: %s", tt.path, tt.body, raw)
			require.Contains(t, raw, tt.want)
		}
		_, _, inbound, _ := b.received()
		require.Len(t, inbound, 3)
		require.Empty(t, inbound[0].sms.OptOutType, "a reply is no keyword")
	})

	t.Run("Bounce", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/bounce", `{"email": "nobody@example.com"}`)
		require.Equal(t, http.StatusNotFound, status, raw)
		messageID := uuid.NewString()
		b.email(t, "ann@example.com", map[string]string{"tenant_id": b.shopMonkey.ID.String(), "message_id": messageID})
		status, raw = b.call(t, http.MethodPost, "/_sandbox/simulate/bounce", `{"email": "ann@example.com", "reason": "550 no such user"}`)
		require.Equal(t, http.StatusOK, status, raw)
		require.Contains(t, raw, `"message_id":"`+messageID+`"`)
	})

	t.Run("Workers", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		b.registerOverHTTP(t)
		status, raw := b.call(t, http.MethodPut, "/_sandbox/simulate/workers", `{"urls": ["not a url"]}`)
		require.Equal(t, http.StatusBadRequest, status, raw)
		status, raw = b.call(t, http.MethodPut, "/_sandbox/simulate/workers", `{"urls": []}`)
		require.Equal(t, http.StatusOK, status, raw)
		status, raw = b.call(t, http.MethodPost, "/_sandbox/simulate/reply", `{"shop_number": "`+simSMNumber+`", "from": "`+simCustomer+`", "body": "hi"}`)
		require.Equal(t, http.StatusConflict, status, raw)
		require.Contains(t, raw, "-worker")
		status, raw = b.call(t, http.MethodPut, "/_sandbox/simulate/workers", `{"urls": ["`+b.worker.URL+`/"]}`)
		require.Equal(t, http.StatusOK, status, raw)
		require.JSONEq(t, `{"workers": ["`+b.worker.URL+`"]}`, raw)
	})

	t.Run("WorkerRefusal", func(t *testing.T) {
		t.Parallel()
		b := setupSimulate(t)
		status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/tenants", `{"tenant_id": "`+b.tekmetric.ID.String()+
			`", "crm": "tekmetric", "location": "`+simTMShop+`", "webhook_token": "tok_not_the_tenants_SEEKRIT"}`)
		require.Equal(t, http.StatusCreated, status, raw)
		status, raw = b.call(t, http.MethodPost, "/_sandbox/simulate/leads", `{"tenant_id": "`+b.tekmetric.ID.String()+`"}`)
		require.Equal(t, http.StatusBadGateway, status, raw)
		require.Contains(t, raw, "401")
		require.Contains(t, raw, `"external_id":"repair-order:`, "the lead was added")
		require.NotContains(t, raw, "SEEKRIT")
	})
}
