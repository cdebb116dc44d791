package sandbox_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// simCalls keeps what the worker's voice routes verified.
type simCalls struct {
	mu      sync.Mutex
	started []messaging.VoiceCall
	ended   []messaging.DialOutcome
}

func (c *simCalls) CallStarted(_ context.Context, _ uuid.UUID, v messaging.VoiceCall, _ bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started = append(c.started, v)
	return nil
}

func (c *simCalls) CallEnded(_ context.Context, _ uuid.UUID, d messaging.DialOutcome) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = append(c.ended, d)
	return nil
}

// TestSimulateCall: POST /_sandbox/simulate/call plays a call against the
// worker's real voice routes, signed as Twilio signs them: the incoming
// call, the TwiML <Dial> read back, then the <Dial action> callback with
// the asked outcome. A bad request is named; a worker that refuses is 502.
func TestSimulateCall(t *testing.T) {
	t.Parallel()
	shop := lead.Tenant{ID: uuid.New(), Name: "Sim Calls", CRMKind: sandbox.ProviderShopMonkey, Enabled: true,
		SMSFrom: simSMNumber, ShopPhone: "+15125550111"}
	calls := &simCalls{}
	worker := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(worker.Close)
	webhooks := twilio.NewWebhooks(faketwilio.DefaultAuthToken)
	routes, err := httpapi.NewHandler(httpapi.Opts{
		Logger:    slog.New(slog.DiscardHandler),
		Intake:    simIntake{&simulateBundle{}},
		Tenants:   simTenants{tenants: map[uuid.UUID]lead.Tenant{shop.ID: shop}},
		SMS:       webhooks,
		Voice:     webhooks,
		Calls:     calls,
		PublicURL: worker.URL,
	})
	require.NoError(t, err)
	worker.Config.Handler = routes
	sb := sandbox.NewServer(sandbox.ServerOpts{})
	require.NoError(t, sb.Simulator.SetWorkers(worker.URL))
	control := httptest.NewServer(sb)
	t.Cleanup(control.Close)
	post := func(body string) (int, map[string]any) {
		resp, err := http.Post(control.URL+"/_sandbox/simulate/call", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}

	status, out := post(`{"tenant_id": "` + shop.ID.String() + `", "shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `", "answer": "busy"}`)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, true, out["forwarded"])
	require.Equal(t, "+15125550111", out["dialed_to"])
	require.Equal(t, simCustomer, out["caller_id"])
	require.Equal(t, "busy", out["dial_status"])
	require.Contains(t, out["said"], "Sorry we missed your call")
	calls.mu.Lock()
	require.Len(t, calls.started, 1)
	require.Len(t, calls.ended, 1)
	require.Equal(t, calls.started[0].ProviderID, calls.ended[0].ProviderID)
	require.Equal(t, out["call_sid"], calls.ended[0].ProviderID)
	require.Equal(t, "busy", calls.ended[0].DialStatus)
	require.Equal(t, simSMNumber, calls.ended[0].To)
	calls.mu.Unlock()

	status, out = post(`{"tenant_id": "` + shop.ID.String() + `", "shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `", "answer": "voicemail"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, out["error"], "answer")
	status, out = post(`{"tenant_id": "` + shop.ID.String() + `", "shop_number": "` + simSMNumber + `", "from": "555-1234"}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, out["error"], "from")
	// A tenant the worker does not know: its route refuses (401), which
	// Twilio would play to the caller as an application error.
	status, out = post(`{"tenant_id": "` + uuid.NewString() + `", "shop_number": "` + simSMNumber + `", "from": "` + simCustomer + `"}`)
	require.Equal(t, http.StatusBadGateway, status)
	require.Contains(t, out["error"], "401")
}
