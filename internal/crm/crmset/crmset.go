// Package crmset builds the registry of every CRM this build supports. It is
// the one place that names the CRM packages; adding a CRM adds a line here.
package crmset

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// Opts are the fleet-wide settings of the adapters (per-tenant settings come
// from the tenant, and a tenant's own crm_base_url wins over the fleet's).
type Opts struct {
	ShopMonkeyBaseURL string
	ShopMonkeyTimeout time.Duration
	TekmetricBaseURL  string
	TekmetricTimeout  time.Duration
	// HTTPClient is shared by every adapter so connections are reused
	// across jobs; nil means a client with sensible pooling.
	HTTPClient *http.Client
	// Budget, when set, spends one request of the tenant's CRM rate limit
	// (its crm_rate_limit, else its CRM's DefaultRateLimit) before every
	// request; the worker passes the fleet-wide budget kept in Postgres.
	Budget func(ctx context.Context, t lead.Tenant, perMinute int) (time.Duration, error)
}

// DefaultRateLimit is the requests per minute a tenant of each CRM may make
// when its crm_rate_limit is 0: Tekmetric documents 600 in production (300
// on its sandbox host); ShopMonkey documents none, so a conservative 300.
func DefaultRateLimit(t lead.Tenant) int {
	switch {
	case t.CRMRateLimit > 0:
		return t.CRMRateLimit
	case t.CRMKind == tekmetric.Kind && strings.Contains(t.CRMBaseURL, "sandbox.tekmetric.com"):
		return 300
	case t.CRMKind == tekmetric.Kind:
		return 600
	}
	return 300
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
	// Adapters are built per job; the OAuth tokens they fetch outlive them.
	tokens := tekmetric.NewTokenCache()
	clientFor := func(t lead.Tenant) *http.Client {
		if opts.Budget == nil {
			return hc
		}
		perMinute := DefaultRateLimit(t)
		return crm.BudgetedClient(hc, t, func(ctx context.Context, t lead.Tenant) (time.Duration, error) {
			return opts.Budget(ctx, t, perMinute)
		})
	}

	reg := crm.NewRegistry()
	reg.Register(crm.Kind{Name: shopmonkey.Kind, ParseExternalID: shopmonkey.ParseExternalID, WebhookAuth: crm.WebhookSigned, ParseWebhook: shopmonkey.ParseWebhook, NewAdapter: func(t lead.Tenant, secret lead.Secret) (crm.Adapter, error) {
		var errs []error
		if strings.TrimSpace(t.CRMLocationID) == "" {
			errs = append(errs, invalid("crm_location_id", "is required: the ShopMonkey location id"))
		}
		if secret == "" {
			errs = append(errs, invalid("crm_secret", "is required: a ShopMonkey API key"))
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return shopmonkey.New(shopmonkey.Opts{
			BaseURL:    or(t.CRMBaseURL, opts.ShopMonkeyBaseURL),
			APIKey:     secret.Reveal(),
			LocationID: t.CRMLocationID,
			HTTPClient: clientFor(t),
			Timeout:    opts.ShopMonkeyTimeout,
		})
	}})
	reg.Register(crm.Kind{Name: tekmetric.Kind, ParseExternalID: tekmetric.ParseExternalID, WebhookAuth: crm.WebhookURLToken, ParseWebhook: tekmetric.ParseWebhook, NewAdapter: func(t lead.Tenant, secret lead.Secret) (crm.Adapter, error) {
		var errs []error
		shopID, err := strconv.ParseInt(t.CRMLocationID, 10, 64)
		if err != nil || shopID <= 0 {
			errs = append(errs, invalid("crm_location_id", "must be the Tekmetric shop id, a positive integer"))
		}
		switch {
		case strings.TrimSpace(t.CRMClientID) == "":
			errs = append(errs, invalid("crm_client_id", "is required: the OAuth client id of the Tekmetric partner application"))
		case strings.Contains(t.CRMClientID, ":"):
			errs = append(errs, invalid("crm_client_id", "must not contain ':' (it is sent with HTTP Basic auth)"))
		}
		if secret == "" {
			errs = append(errs, invalid("crm_secret", "is required: the OAuth client secret of the Tekmetric partner application"))
		}
		loc, err := t.Location()
		if err != nil {
			errs = append(errs, invalid("time_zone", "must be an IANA time zone: Tekmetric writes some times in the shop's local time"))
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return tekmetric.New(tekmetric.Opts{
			BaseURL:      or(t.CRMBaseURL, opts.TekmetricBaseURL),
			ClientID:     t.CRMClientID,
			ClientSecret: secret.Reveal(),
			ShopID:       shopID,
			Location:     loc,
			HTTPClient:   clientFor(t),
			Timeout:      opts.TekmetricTimeout,
			Tokens:       tokens,
		})
	}})
	return reg
}

func invalid(field, reason string) error { return &lead.ValidationError{Field: field, Reason: reason} }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
