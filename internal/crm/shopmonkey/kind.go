package shopmonkey

import (
	"errors"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// NewKind returns ShopMonkey's entry in the CRM registry: its adapter
// (built from a tenant's settings and opts), its external id format and
// its default rate limit.
func NewKind(opts crm.KindOpts) crm.Kind {
	k := crm.Kind{
		Name:             Kind,
		ParseExternalID:  ParseExternalID,
		DefaultRateLimit: DefaultRateLimit,
		WebhookAuth:      crm.WebhookSigned,
		ParseWebhook:     ParseWebhook,
	}
	k.NewAdapter = func(t lead.Tenant, secret lead.Secret) (crm.Adapter, error) {
		if err := checkTenant(t, secret); err != nil {
			return nil, err
		}
		return New(Opts{
			BaseURL:    opts.Settings.BaseURLFor(t),
			APIKey:     secret.Reveal(),
			LocationID: t.CRMLocationID,
			HTTPClient: opts.Client(k, t),
			Timeout:    opts.Settings.Timeout,
		})
	}
	return k
}

// DefaultRateLimit is the requests a minute a ShopMonkey tenant may make
// when its crm_rate_limit is 0: ShopMonkey documents no limit, so a
// conservative 300.
func DefaultRateLimit(lead.Tenant) int { return crm.FallbackRateLimit }

// checkTenant names every setting of t that a ShopMonkey adapter cannot do
// without, so `enqueue tenant add` refuses a tenant that could never poll.
func checkTenant(t lead.Tenant, secret lead.Secret) error {
	var errs []error
	if strings.TrimSpace(t.CRMLocationID) == "" {
		errs = append(errs, &lead.ValidationError{Field: "crm_location_id", Reason: "is required: the ShopMonkey location id"})
	}
	if secret == "" {
		errs = append(errs, &lead.ValidationError{Field: "crm_secret", Reason: "is required: a ShopMonkey API key"})
	}
	return errors.Join(errs...)
}
