package crm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// countingBudget records what it was asked to spend.
type countingBudget struct {
	mu    sync.Mutex
	rates []int
}

func (b *countingBudget) SpendCRMRequest(_ context.Context, _ lead.Tenant, perMinute int) (time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rates = append(b.rates, perMinute)
	return 0, nil
}

// TestKindOptsClient: every request of a tenant's adapter spends the
// tenant's budget at its kind's rate limit (its own crm_rate_limit first);
// without a budget the shared client is used as it is.
func TestKindOptsClient(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	kind := crm.Kind{Name: "third", DefaultRateLimit: func(lead.Tenant) int { return 120 }}
	budget := &countingBudget{}
	opts := crm.KindOpts{HTTPClient: srv.Client(), Budget: budget}

	for _, tenant := range []lead.Tenant{{Name: "default"}, {Name: "own", CRMRateLimit: 30}} {
		resp, err := opts.Client(kind, tenant).Get(srv.URL)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	require.Equal(t, []int{120, 30}, budget.rates)

	require.Same(t, srv.Client(), crm.KindOpts{HTTPClient: srv.Client()}.Client(kind, lead.Tenant{}))
	require.Equal(t, crm.FallbackRateLimit, crm.Kind{Name: "quiet"}.RateLimit(lead.Tenant{}))
}
