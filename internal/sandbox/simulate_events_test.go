package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

func TestSimulatorEvents(t *testing.T) {
	t.Parallel()
	b := setupSimulate(t)
	b.registerOverHTTP(t)
	require.Equal(t, http.StatusCreated, b.textCustomer(t, simCustomer, simTMNumber))
	messageID := uuid.NewString()
	b.email(t, "ann@example.com", map[string]string{"tenant_id": b.shopMonkey.ID.String(), "message_id": messageID})

	// What a person plays through the routes, one of each kind.
	for _, c := range []struct{ path, body string }{
		{"/_sandbox/simulate/reply", `{"from": "` + simCustomer + `", "body": "Can you do Friday?"}`},
		{"/_sandbox/simulate/stop", `{"from": "` + simCustomer + `"}`},
		{"/_sandbox/simulate/start", `{"from": "` + simCustomer + `"}`},
		{"/_sandbox/simulate/help", `{"tenant_id": "` + b.shopMonkey.ID.String() + `", "from": "` + simCustomer + `"}`},
		{"/_sandbox/simulate/bounce", `{"email": "ann@example.com"}`},
		{"/_sandbox/simulate/leads", `{"tenant_id": "` + b.tekmetric.ID.String() + `"}`},
	} {
		status, raw := b.call(t, http.MethodPost, c.path, c.body)
		require.Contains(t, []int{http.StatusOK, http.StatusCreated}, status, "%s: %s", c.path, raw)
	}
	// A text the route refuses never reached a worker: no event.
	status, raw := b.call(t, http.MethodPost, "/_sandbox/simulate/reply", `{"from": "+1555...", "body": "hi"}`)
	require.Equal(t, http.StatusBadRequest, status, raw)

	events := func(query string) []sandbox.SimulatedEvent {
		t.Helper()
		status, raw := b.call(t, http.MethodGet, "/_sandbox/simulate/events"+query, "")
		require.Equal(t, http.StatusOK, status, raw)
		var got struct {
			Events []sandbox.SimulatedEvent `json:"events"`
		}
		require.NoError(t, json.Unmarshal([]byte(raw), &got))
		return got.Events
	}
	all := events("")
	var kinds []string
	for i, e := range all {
		require.Equal(t, int64(i+1), e.Seq)
		require.False(t, e.At.IsZero())
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{sandbox.SimulatedReply, sandbox.SimulatedStop, sandbox.SimulatedStart, sandbox.SimulatedHelp,
		sandbox.SimulatedBounce, sandbox.SimulatedLead}, kinds)

	reply := all[0].Text
	require.NotNil(t, reply)
	require.Equal(t, b.tekmetric.ID.String(), reply.TenantID, "answers the shop that texted last")
	require.Equal(t, simCustomer, reply.From)
	require.Equal(t, "Can you do Friday?", reply.Body)
	require.NotEmpty(t, reply.MessageSid)
	require.Equal(t, "STOP", all[1].Text.OptOutType)
	require.Equal(t, b.shopMonkey.ID.String(), all[3].Text.TenantID)
	require.Equal(t, "ann@example.com", all[4].Bounce.Email)
	require.Equal(t, messageID, all[4].Bounce.MessageID)
	require.Equal(t, b.tekmetric.ID.String(), all[5].Lead.TenantID)

	require.Equal(t, all[4:], events("?after=4"), "a follower asks for what is new")
	require.Empty(t, events("?after=6"))

	status, raw = b.call(t, http.MethodGet, "/_sandbox/simulate/events?after=-1", "")
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, raw, "after: want the seq of the last event seen")
}

func TestDemoServerIDsNeverRepeat(t *testing.T) {
	t.Parallel()
	start := time.Now()
	first, err := sandbox.NewDemoServer(start, 5)
	require.NoError(t, err)
	// The first run hands out many more ids before it stops.
	for _, shop := range sandbox.DemoShops() {
		for range 500 {
			require.NoError(t, first.AddDemoLead(shop, false, time.Time{}))
		}
	}
	// A restart a second later on the same database: none of its records
	// may take an id the first run's had.
	second, err := sandbox.NewDemoServer(start.Add(time.Second), 5)
	require.NoError(t, err)
	for _, shop := range sandbox.DemoShops() {
		require.NoError(t, second.AddDemoLead(shop, true, time.Time{}))
		seen := map[string]bool{}
		for _, ref := range first.CRMLeads(shop.CRM, shop.LocationID) {
			seen[ref.ID], seen["c"+ref.CustomerID], seen["v"+ref.VehicleID] = true, true, true
		}
		again := second.CRMLeads(shop.CRM, shop.LocationID)
		require.Len(t, again, 6)
		for _, ref := range again {
			require.False(t, seen[ref.ID], "%s %s repeats the first run's %s", shop.CRM, ref.ExternalID, ref.ID)
			require.False(t, seen["c"+ref.CustomerID], "%s customer %s repeats", shop.CRM, ref.CustomerID)
			require.False(t, seen["v"+ref.VehicleID], "%s vehicle %s repeats", shop.CRM, ref.VehicleID)
		}
	}
}
