package crm

import (
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// Settings are the fleet-wide settings of one CRM's adapters, from the
// worker's configuration (shopmonkey.base_url, shopmonkey.timeout, ...).
// A tenant's own crm_base_url wins over BaseURL.
type Settings struct {
	// BaseURL is the CRM's API root; empty means the CRM's production API.
	BaseURL string
	// Timeout bounds one HTTP call; zero means the CRM package's default.
	Timeout time.Duration
}

// KindOpts is what the fleet gives each CRM package's NewKind: its
// settings, the HTTP client every adapter shares and the request budget
// every adapter spends.
type KindOpts struct {
	Settings Settings
	// HTTPClient is shared by every adapter so connections are reused
	// across jobs; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Budget, when set, is spent before every request, perMinute being the
	// tenant's Kind.RateLimit; the worker passes the fleet-wide budget kept
	// in Postgres (store.CRMBudget). Nil means no budget (CLI checks, tests).
	Budget Budget
	// Metrics counts and times every request by kind; nil counts nothing.
	Metrics *metrics.Metrics
}

// Client is the HTTP client of tenant t's adapter of kind k: the shared
// client, spending t's budget first when there is one. Every CRM's
// NewAdapter builds on it, so no CRM package can forget the budget.
func (o KindOpts) Client(k Kind, t lead.Tenant) *http.Client {
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	if o.Metrics != nil {
		hc = measuredClient(hc, k.Name, t, o.Metrics)
	}
	if o.Budget == nil {
		return hc
	}
	return BudgetedClient(hc, t, measuredBudget{Budget: o.Budget, kind: k.Name, metrics: o.Metrics}, k.RateLimit(t))
}

// BaseURLFor is the API root of tenant t's adapter: the tenant's own
// crm_base_url (a staging host, the sandbox) wins over the fleet's.
func (s Settings) BaseURLFor(t lead.Tenant) string {
	if t.CRMBaseURL != "" {
		return t.CRMBaseURL
	}
	return s.BaseURL
}
