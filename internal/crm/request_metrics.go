package crm

import (
	"context"
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// measuredClient returns a client like base whose every request is counted
// and timed under the CRM kind's name (leadorch_crm_requests_total,
// leadorch_crm_request_duration_seconds), its 429s counted for the tenant
// (leadorch_crm_rate_limited_total). It wraps the transport, inside the
// budget: the time a request waits for its budget is not the CRM's.
func measuredClient(base *http.Client, kind string, t lead.Tenant, m *metrics.Metrics) *http.Client {
	c := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &measuredTransport{base: rt, kind: kind, tenantID: t.ID.String(), metrics: m}
	return &c
}

type measuredTransport struct {
	base     http.RoundTripper
	kind     string
	tenantID string
	metrics  *metrics.Metrics
}

func (m *measuredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := m.base.RoundTrip(req)
	outcome := metrics.CRMOK
	switch {
	case err != nil:
		outcome = metrics.CRMRetry
	case resp.StatusCode == http.StatusTooManyRequests:
		outcome = metrics.CRMRateLimited
		m.metrics.CountCRMRateLimited(m.kind, m.tenantID)
	case resp.StatusCode >= 500:
		outcome = metrics.CRMRetry
	case resp.StatusCode >= 400:
		outcome = metrics.CRMPermanent
	}
	m.metrics.ObserveCRMRequest(m.kind, outcome, time.Since(start))
	return resp, err
}

// measuredBudget counts the spends of a budget that had to wait
// (leadorch_crm_budget_waits_total): the sign that a shop's requests
// outrun its CRM's rate limit.
type measuredBudget struct {
	Budget
	kind    string
	metrics *metrics.Metrics
}

func (b measuredBudget) SpendCRMRequest(ctx context.Context, t lead.Tenant, perMinute int) (time.Duration, error) {
	wait, err := b.Budget.SpendCRMRequest(ctx, t, perMinute)
	if err == nil && wait > 0 {
		b.metrics.CountCRMBudgetWait(b.kind, t.ID.String())
	}
	return wait, err
}
