// Package crmset builds the registry of every CRM this build supports. It is
// the one place that names the CRM packages; adding a CRM adds a line here.
package crmset

import (
	"net/http"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// Opts are the fleet-wide settings of the adapters (per-tenant settings come
// from the tenant, and a tenant's own crm_base_url wins over the fleet's).
type Opts struct {
	// Settings are each CRM's settings by kind (config.Config.CRMs); a
	// kind without an entry gets its package's defaults.
	Settings map[string]crm.Settings
	// HTTPClient is shared by every adapter so connections are reused
	// across jobs; nil means a client with sensible pooling.
	HTTPClient *http.Client
	// Budget, when set, spends one request of the tenant's CRM rate limit
	// (its crm_rate_limit, else its CRM's DefaultRateLimit) before every
	// request; the worker passes the fleet-wide budget kept in Postgres
	// (store.CRMBudget).
	Budget crm.Budget
	// Metrics counts and times every CRM request; nil counts nothing.
	Metrics *metrics.Metrics
}

// NewRegistry returns a registry with every supported CRM.
func NewRegistry(opts Opts) *crm.Registry {
	hc := opts.HTTPClient
	if hc == nil {
		// Go's default keeps two idle connections per host: every
		// concurrent CRM call beyond that would reconnect.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 256
		hc = &http.Client{Transport: tr}
	}
	kind := func(name string) crm.KindOpts {
		return crm.KindOpts{Settings: opts.Settings[name], HTTPClient: hc, Budget: opts.Budget, Metrics: opts.Metrics}
	}

	reg := crm.NewRegistry()
	reg.Register(shopmonkey.NewKind(kind(shopmonkey.Kind)))
	reg.Register(tekmetric.NewKind(kind(tekmetric.Kind)))
	return reg
}
