// Package tekmetric is the crm.Adapter for Tekmetric API v1.
//
// Tekmetric differs from ShopMonkey in ways that shape this package:
//
//   - Access is OAuth2 client credentials per partner application. A token
//     lasts until revoked and its scope lists the shops it may read, so one
//     token serves every tenant of the same application: tokens live in a
//     TokenCache shared by all adapters of the process, and a 401 drops the
//     cached token and fetches a new one once.
//   - Lists are Spring pages (page from 0, size capped at 100 without a
//     word) that are paged to the end; updatedDateEnd is inclusive, so the
//     window is re-checked on the client.
//   - Ids are integers; ExternalIDs are "repair-order:123" and
//     "appointment:456".
//   - Some times (appointment times, a job's authorizedDate) come back
//     without a zone offset. They are the shop's wall-clock time and are
//     read in Opts.Location.
//   - A 429 has an empty body and no Retry-After: the caller must back off
//     exponentially (RateLimitedError.RetryAfter is then 0).
//   - There is no version counter: the updatedDate, in milliseconds, is the
//     Version, since it rises with every change Tekmetric records.
package tekmetric

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
)

// Kind is the CRM name tenants and leads are recorded with.
const Kind = "tekmetric"

// DefaultBaseURL is Tekmetric's production host. Its sandbox host is
// https://sandbox.tekmetric.com, for partner applications in development.
const DefaultBaseURL = "https://shop.tekmetric.com"

// Opts configures a Client for one tenant: one Tekmetric shop and the
// credentials of the partner application the shop granted access to.
type Opts struct {
	// BaseURL is the API host, optionally with a path prefix
	// ("http://127.0.0.1:9090/tekmetric"); empty means DefaultBaseURL. A
	// trailing "/api/v1" is accepted too.
	BaseURL string
	// ClientID and ClientSecret are the partner application's OAuth2
	// client credentials. The secret never appears in errors.
	ClientID     string
	ClientSecret string
	// ShopID is the Tekmetric shop; every list is filtered by it and every
	// record checked against it, since one token may read many shops.
	ShopID int64
	// Location is the shop's time zone. Tekmetric writes some times
	// without a zone offset, in the shop's wall-clock time; they are read
	// in Location. Nil means UTC.
	Location *time.Location
	// HTTPClient defaults to a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each HTTP call, token requests included; zero means
	// crmhttp.DefaultTimeout.
	Timeout time.Duration
	// Tokens caches access tokens. Pass the process's one shared cache, so
	// that adapters built per job reuse a token instead of asking for one
	// per call; nil means a cache of this Client's own.
	Tokens *TokenCache
}

// Client talks to Tekmetric for one tenant. It implements crm.Adapter and
// is safe for concurrent use.
type Client struct {
	ep       crmhttp.Endpoint
	clientID string
	secret   string
	shopID   int64
	location *time.Location
	tokens   *TokenCache
	tokenKey string
}

var _ crm.Adapter = (*Client)(nil)

// New checks opts and returns a Client. Every invalid field is reported at
// once, each error naming the field. New makes no request: the token is
// fetched on first use.
func New(opts Opts) (*Client, error) {
	invalid := []error{crmhttp.Required(Kind, "ClientID", opts.ClientID)}
	if strings.Contains(opts.ClientID, ":") {
		invalid = append(invalid, errors.New("tekmetric: ClientID must not contain a colon (it is sent with HTTP Basic auth)"))
	}
	invalid = append(invalid, crmhttp.Required(Kind, "ClientSecret", opts.ClientSecret))
	if opts.ShopID <= 0 {
		invalid = append(invalid, fmt.Errorf("tekmetric: ShopID must be a positive Tekmetric shop id, got %d", opts.ShopID))
	}
	ep, err := crmhttp.NewEndpoint(Kind, crmhttp.EndpointOpts{
		BaseURL: opts.BaseURL, DefaultBaseURL: DefaultBaseURL, APISuffix: "/api/v1", HTTPClient: opts.HTTPClient, Timeout: opts.Timeout,
	}, invalid...)
	if err != nil {
		return nil, err
	}
	c := &Client{
		ep:       ep,
		clientID: opts.ClientID,
		secret:   opts.ClientSecret,
		shopID:   opts.ShopID,
		location: opts.Location,
		tokens:   opts.Tokens,
	}
	if c.location == nil {
		c.location = time.UTC
	}
	if c.tokens == nil {
		c.tokens = NewTokenCache()
	}
	c.tokenKey = tokenKey(ep.BaseURL, opts.ClientID, opts.ClientSecret)
	return c, nil
}
