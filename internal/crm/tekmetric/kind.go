package tekmetric

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// NewKind returns Tekmetric's entry in the CRM registry: its adapter
// (built from a tenant's settings and opts), its external id format and
// its default rate limit. Adapters are built per job; the OAuth tokens they
// fetch outlive them, in one TokenCache per kind.
func NewKind(opts crm.KindOpts) crm.Kind {
	tokens := NewTokenCache()
	k := crm.Kind{
		Name:             Kind,
		ParseExternalID:  ParseExternalID,
		DefaultRateLimit: DefaultRateLimit,
		WebhookAuth:      crm.WebhookURLToken,
		ParseWebhook:     ParseWebhook,
	}
	k.NewAdapter = func(t lead.Tenant, secret lead.Secret) (crm.Adapter, error) {
		shopID, loc, err := checkTenant(t, secret)
		if err != nil {
			return nil, err
		}
		return New(Opts{
			BaseURL:      opts.Settings.BaseURLFor(t),
			ClientID:     t.CRMClientID,
			ClientSecret: secret.Reveal(),
			ShopID:       shopID,
			Location:     loc,
			HTTPClient:   opts.Client(k, t),
			Timeout:      opts.Settings.Timeout,
			Tokens:       tokens,
		})
	}
	return k
}

// DefaultRateLimit is the requests a minute a Tekmetric tenant may make
// when its crm_rate_limit is 0: Tekmetric documents 600 in production, 300
// on its sandbox host.
func DefaultRateLimit(t lead.Tenant) int {
	if strings.Contains(t.CRMBaseURL, "sandbox.tekmetric.com") {
		return 300
	}
	return 600
}

// checkTenant names every setting of t that a Tekmetric adapter cannot do
// without, so `enqueue tenant add` refuses a tenant that could never poll,
// and returns the shop id and time zone it reads from them.
func checkTenant(t lead.Tenant, secret lead.Secret) (int64, *time.Location, error) {
	var errs []error
	invalid := func(field, reason string) { errs = append(errs, &lead.ValidationError{Field: field, Reason: reason}) }
	shopID, err := strconv.ParseInt(t.CRMLocationID, 10, 64)
	if err != nil || shopID <= 0 {
		invalid("crm_location_id", "must be the Tekmetric shop id, a positive integer")
	}
	switch {
	case strings.TrimSpace(t.CRMClientID) == "":
		invalid("crm_client_id", "is required: the OAuth client id of the Tekmetric partner application")
	case strings.Contains(t.CRMClientID, ":"):
		invalid("crm_client_id", "must not contain ':' (it is sent with HTTP Basic auth)")
	}
	if secret == "" {
		invalid("crm_secret", "is required: the OAuth client secret of the Tekmetric partner application")
	}
	loc, err := t.Location()
	if err != nil {
		invalid("time_zone", "must be an IANA time zone: Tekmetric writes some times in the shop's local time")
	}
	return shopID, loc, errors.Join(errs...)
}
