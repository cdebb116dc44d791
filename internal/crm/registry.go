package crm

import (
	"fmt"
	"sort"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// NewAdapterFunc builds the adapter of one tenant from its settings and its
// CRM secret, opened for this one call (the tenant carries it sealed). It
// checks the settings its CRM needs and names the field of any that is
// wrong, so `enqueue tenant add` can refuse a tenant that could never poll.
type NewAdapterFunc func(t lead.Tenant, secret lead.Secret) (Adapter, error)

// ParseExternalIDFunc reads a lead's external id as an operator typed it
// (copied from the CRM's screens, or from a lead) into the form the CRM's
// adapter writes and its GetLead reads, or says what is wrong with it.
// Each CRM owns its format: ShopMonkey's "order:<id>" is not a Tekmetric
// id, whose repair orders are "repair-order:<n>".
type ParseExternalIDFunc func(s string) (string, error)

// Kind is everything the fleet needs of one CRM: each crm/<kind> package
// returns its own, and the registry is the one list of them. Nothing
// outside the CRM's package knows its wire formats.
type Kind struct {
	// Name is the tenants' crm_kind ("shopmonkey").
	Name string
	// NewAdapter builds a tenant's adapter.
	NewAdapter NewAdapterFunc
	// ParseExternalID is the CRM's external id format.
	ParseExternalID ParseExternalIDFunc
	// DefaultRateLimit is the requests a minute a tenant of this CRM may
	// make when its crm_rate_limit is 0, as the CRM documents it (it may
	// depend on the tenant's host); nil means FallbackRateLimit. Use
	// RateLimit, which applies the tenant's own limit first.
	DefaultRateLimit func(t lead.Tenant) int
	// WebhookAuth is how the CRM's webhooks authenticate; WebhookNone
	// serves no route.
	WebhookAuth WebhookAuth
	// ParseWebhook verifies (WebhookSigned) and decodes a webhook request.
	// Required unless WebhookAuth is WebhookNone.
	ParseWebhook ParseWebhookFunc
}

// FallbackRateLimit is the requests a minute of a tenant whose CRM
// documents no limit: a conservative 300.
const FallbackRateLimit = 300

// RateLimit is the requests a minute tenant t may make of this CRM: its
// crm_rate_limit, else the CRM's default.
func (k Kind) RateLimit(t lead.Tenant) int {
	switch {
	case t.CRMRateLimit > 0:
		return t.CRMRateLimit
	case k.DefaultRateLimit != nil:
		return k.DefaultRateLimit(t)
	}
	return FallbackRateLimit
}

// Registry maps a tenant's CRM kind to everything about it, so that jobs,
// routes and commands never name a CRM: adding one is a new package and
// one Register call where the registry is built (crm/crmset).
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]Kind{}}
}

// Register makes k available. Registering a kind twice, or one without
// the parts it declares, is a programming error and panics at start-up.
func (r *Registry) Register(k Kind) {
	switch {
	case k.Name == "":
		panic("crm: kind registered without a name")
	case k.NewAdapter == nil || k.ParseExternalID == nil:
		panic("crm: kind " + k.Name + " registered without NewAdapter or ParseExternalID")
	case k.WebhookAuth != WebhookNone && k.ParseWebhook == nil:
		panic("crm: kind " + k.Name + " has webhooks but no ParseWebhook")
	}
	if _, ok := r.kinds[k.Name]; ok {
		panic("crm: kind registered twice: " + k.Name)
	}
	r.kinds[k.Name] = k
}

// Kind returns the registered kind called name.
func (r *Registry) Kind(name string) (Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Kinds lists the registered kinds' names, sorted.
func (r *Registry) Kinds() []string {
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseExternalID reads s as an external id of a lead in a CRM of kind,
// with ParseExternalIDFunc's rules for that CRM.
func (r *Registry) ParseExternalID(kind, s string) (string, error) {
	k, ok := r.kinds[kind]
	if !ok {
		return "", fmt.Errorf("CRM kind %q has no external id format in this build (known: %v)", kind, r.Kinds())
	}
	return k.ParseExternalID(s)
}

// Adapter builds the adapter for tenant t with its opened secret.
func (r *Registry) Adapter(t lead.Tenant, secret lead.Secret) (Adapter, error) {
	k, ok := r.kinds[t.CRMKind]
	if !ok {
		return nil, fmt.Errorf("tenant %s uses CRM kind %q, which this build does not know (known: %v)", t.Name, t.CRMKind, r.Kinds())
	}
	a, err := k.NewAdapter(t, secret)
	if err != nil {
		return nil, fmt.Errorf("error building %s adapter for tenant %s: %w", t.CRMKind, t.Name, err)
	}
	return a, nil
}
