// Package shopmonkey is the crm.Adapter for ShopMonkey API v3.
//
// The live API has quirks that shape this package: list calls cap limit at
// 100 without saying so, ignore orderBy on the date fields, silently drop
// Mongo-style "$gte" filters, and return shifting pages when paged with
// skip. So polls ask for small time windows with bare operators, split a
// window that comes back full instead of paging, re-check every filter on
// the client and dedupe by id.
package shopmonkey

import (
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
)

// Kind is the CRM name tenants and leads are recorded with.
const Kind = "shopmonkey"

// DefaultBaseURL is ShopMonkey's only host; there is no sandbox host, which
// is why internal/sandbox fakes it.
const DefaultBaseURL = "https://api.shopmonkey.cloud"

// Opts configures an Adapter for one tenant: one shop location and the API
// key an admin of that shop created.
type Opts struct {
	// BaseURL is the API host, optionally with a path prefix
	// ("http://127.0.0.1:8080/shopmonkey"); empty means DefaultBaseURL. A
	// trailing "/v3" is accepted too, since ShopMonkey's docs give the base
	// with it.
	BaseURL string
	// APIKey is sent as a Bearer token and never appears in errors.
	APIKey string
	// LocationID is the shop; a key may see several locations, so every
	// list is filtered by it and every record checked against it.
	LocationID string
	// HTTPClient defaults to a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each HTTP call; zero means crmhttp.DefaultTimeout.
	Timeout time.Duration
}

// Adapter talks to ShopMonkey for one tenant. It is safe for concurrent use.
type Adapter struct {
	ep         crmhttp.Endpoint
	apiKey     string
	locationID string
}

var _ crm.Adapter = (*Adapter)(nil)

// New checks opts and returns an Adapter. Every invalid field is reported at
// once, each error naming the field.
func New(opts Opts) (*Adapter, error) {
	ep, err := crmhttp.NewEndpoint(Kind, crmhttp.EndpointOpts{
		BaseURL: opts.BaseURL, DefaultBaseURL: DefaultBaseURL, APISuffix: "/v3", HTTPClient: opts.HTTPClient, Timeout: opts.Timeout,
	}, crmhttp.Required(Kind, "APIKey", opts.APIKey), crmhttp.Required(Kind, "LocationID", opts.LocationID))
	if err != nil {
		return nil, err
	}
	return &Adapter{ep: ep, apiKey: opts.APIKey, locationID: opts.LocationID}, nil
}
