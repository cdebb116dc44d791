package httpapi_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// TestWebhookMetrics: every answer of a webhook route is counted once by
// route, result and the reason the operator needs, though every
// unverified one looks the same to its sender; no tenant id is a label.
func TestWebhookMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	disabled := b.addTenant(lead.Tenant{ID: uuid.New(), CRMKind: signedKind, WebhookSecret: b.signed.WebhookSecret})
	body := jsonBody(t, fakeRecord{ID: "41"})
	signedPath := func(id string) string { return webhookurl.CRM(signedKind, id, "").Path() }
	good := signedRequest(fakeSecret, "dlv_1", body)

	require.Equal(t, http.StatusOK, b.post(t, signedPath(b.signed.ID.String()), good, body).Status)
	require.Equal(t, http.StatusUnauthorized, b.post(t, signedPath(uuid.NewString()), good, body).Status)
	require.Equal(t, http.StatusUnauthorized, b.post(t, signedPath("not-a-tenant"), good, body).Status)
	require.Equal(t, http.StatusUnauthorized, b.post(t, signedPath(b.token.ID.String()), good, body).Status)
	require.Equal(t, http.StatusUnauthorized, b.post(t, signedPath(disabled.ID.String()), good, body).Status)
	require.Equal(t, http.StatusUnauthorized, b.post(t, signedPath(b.signed.ID.String()), http.Header{}, body).Status)
	notJSON := []byte("not json")
	require.Equal(t, http.StatusBadRequest, b.post(t, signedPath(b.signed.ID.String()), signedRequest(fakeSecret, "dlv_2", notJSON), notJSON).Status)
	huge := bytes.Repeat([]byte("x"), 1<<20+1)
	require.Equal(t, http.StatusRequestEntityTooLarge, b.post(t, signedPath(b.signed.ID.String()), good, huge).Status)
	b.intake.mu.Lock()
	b.intake.wait = time.Minute
	b.intake.mu.Unlock()
	require.Equal(t, http.StatusTooManyRequests, b.post(t, signedPath(b.signed.ID.String()), good, body).Status)
	b.intake.mu.Lock()
	b.intake.wait, b.intake.fail = 0, errors.New("database down")
	b.intake.mu.Unlock()
	require.Equal(t, http.StatusInternalServerError, b.post(t, signedPath(b.signed.ID.String()), good, body).Status)

	route := "crm_" + signedKind
	require.Equal(t, map[string]float64{
		route + " accepted ok":            1,
		route + " refused unknown_tenant": 3,
		route + " refused disabled":       1,
		route + " refused unverified":     1,
		route + " refused malformed":      1,
		route + " refused too_large":      1,
		route + " refused rate_limited":   1,
		route + " refused unavailable":    1,
	}, countedWebhooks(t, b))
}

// countedWebhooks is every non-zero leadorch_webhooks_total series, keyed
// "route result reason"; it fails on any other label.
func countedWebhooks(t *testing.T, b *testBundle) map[string]float64 {
	t.Helper()
	families, err := b.metrics.Registry().Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "leadorch_webhooks_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			require.Len(t, l, 3, "labels: %v", l)
			if v := s.GetCounter().GetValue(); v > 0 {
				out[l["route"]+" "+l["result"]+" "+l["reason"]] = v
			}
		}
	}
	return out
}
