package crm

import (
	"context"
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// Budget is the fleet-wide budget of CRM requests, a port the store
// implements (store.CRMBudget keeps it in Postgres, so it holds across every
// replica). It was a closure passed three hops (jobs, crmset, crm); as an
// interface the adapter's side says what it needs and the store's side
// says what it offers.
type Budget interface {
	// SpendCRMRequest spends one request of tenant t's budget of perMinute
	// requests a minute. It returns zero when the request may go now, or
	// how long until one may.
	SpendCRMRequest(ctx context.Context, t lead.Tenant, perMinute int) (wait time.Duration, err error)
}

// maxBudgetSleep is how long a request waits in place for its budget; a
// longer wait gives the worker back (the job snoozes on a
// RateLimitedError) so that other tenants' jobs run meanwhile.
const maxBudgetSleep = 2 * time.Second

// BudgetedClient returns an HTTP client like base whose every request
// first spends one of tenant t's perMinute budget. Every adapter is built on
// one, so a shop's CRM calls stay within its rate limit across all replicas
// whatever the CRM, and no new CRM package has to remember it.
func BudgetedClient(base *http.Client, t lead.Tenant, budget Budget, perMinute int) *http.Client {
	c := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &budgetedTransport{base: rt, tenant: t, budget: budget, perMinute: perMinute}
	return &c
}

type budgetedTransport struct {
	base      http.RoundTripper
	tenant    lead.Tenant
	budget    Budget
	perMinute int
}

func (b *budgetedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for {
		wait, err := b.budget.SpendCRMRequest(req.Context(), b.tenant, b.perMinute)
		if err != nil {
			return nil, err
		}
		if wait <= 0 {
			return b.base.RoundTrip(req)
		}
		// Waiting must not eat the request's own timeout: a wait that is
		// long, or longer than the time left, snoozes the job instead.
		if deadline, ok := req.Context().Deadline(); wait > maxBudgetSleep || ok && time.Until(deadline) < 2*wait {
			return nil, &RateLimitedError{RetryAfter: wait}
		}
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}
