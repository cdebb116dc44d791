package crm

import (
	"context"
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// BudgetFunc spends one request of tenant t's CRM budget, shared across
// the fleet. It returns zero when the request may go now, or how long until
// one may.
type BudgetFunc func(ctx context.Context, t lead.Tenant) (wait time.Duration, err error)

// maxBudgetSleep is how long a request waits in place for its budget; a
// longer wait gives the worker back (the job snoozes on a
// RateLimitedError) so that other tenants' jobs run meanwhile.
const maxBudgetSleep = 2 * time.Second

// BudgetedClient returns an HTTP client like base whose every request
// first spends one of tenant t's budget. Every adapter is built on one, so
// a shop's CRM calls stay within its rate limit across all replicas
// whatever the CRM, and no new CRM package has to remember it.
func BudgetedClient(base *http.Client, t lead.Tenant, spend BudgetFunc) *http.Client {
	c := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &budgetedTransport{base: rt, tenant: t, spend: spend}
	return &c
}

type budgetedTransport struct {
	base   http.RoundTripper
	tenant lead.Tenant
	spend  BudgetFunc
}

func (b *budgetedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for {
		wait, err := b.spend(req.Context(), b.tenant)
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
