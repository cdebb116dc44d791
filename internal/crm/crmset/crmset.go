// Package crmset builds the registry of every CRM this build supports. It is
// the one place that names the CRM packages; adding a CRM adds a line here.
package crmset

import (
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// Opts are the fleet-wide settings of the adapters (per-tenant settings come
// from the tenant).
type Opts struct {
	ShopMonkeyBaseURL string
	ShopMonkeyTimeout time.Duration
	// HTTPClient is shared by every adapter so connections are reused
	// across jobs; nil means a client with sensible pooling.
	HTTPClient *http.Client
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
	reg := crm.NewRegistry()
	reg.Register(shopmonkey.Kind, func(t lead.Tenant) (crm.Adapter, error) {
		return shopmonkey.New(shopmonkey.Opts{
			BaseURL:    opts.ShopMonkeyBaseURL,
			APIKey:     t.CRMAPIKey.Reveal(),
			LocationID: t.CRMLocationID,
			HTTPClient: hc,
			Timeout:    opts.ShopMonkeyTimeout,
		})
	})
	return reg
}
