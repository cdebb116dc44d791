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

// Registry maps a tenant's CRM kind to the constructor of its adapter, so
// that jobs never name a CRM: adding one is a new package and one Register
// call where the registry is built.
type Registry struct {
	kinds       map[string]NewAdapterFunc
	externalIDs map[string]ParseExternalIDFunc
}

// ParseExternalIDFunc reads a lead's external id as an operator typed it
// (copied from the CRM's screens, or from a lead) into the form the CRM's
// adapter writes and its GetLead reads, or says what is wrong with it.
// Each CRM owns its format: ShopMonkey's "order:<id>" is not a Tekmetric
// id, whose repair orders are "repair-order:<n>".
type ParseExternalIDFunc func(s string) (string, error)

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{kinds: map[string]NewAdapterFunc{}, externalIDs: map[string]ParseExternalIDFunc{}}
}

// Register makes kind available. Registering a kind twice is a programming
// error and panics at start-up.
func (r *Registry) Register(kind string, fn NewAdapterFunc) {
	if _, ok := r.kinds[kind]; ok {
		panic("crm: kind registered twice: " + kind)
	}
	r.kinds[kind] = fn
}

// RegisterExternalID gives kind its external id format. Registering one
// twice is a programming error and panics at start-up.
func (r *Registry) RegisterExternalID(kind string, fn ParseExternalIDFunc) {
	if _, ok := r.externalIDs[kind]; ok {
		panic("crm: external id format registered twice: " + kind)
	}
	r.externalIDs[kind] = fn
}

// ParseExternalID reads s as an external id of a lead in a CRM of kind,
// with ParseExternalIDFunc's rules for that CRM.
func (r *Registry) ParseExternalID(kind, s string) (string, error) {
	fn, ok := r.externalIDs[kind]
	if !ok {
		return "", fmt.Errorf("CRM kind %q has no external id format in this build (known: %v)", kind, r.Kinds())
	}
	return fn(s)
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	out := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Adapter builds the adapter for tenant t with its opened secret.
func (r *Registry) Adapter(t lead.Tenant, secret lead.Secret) (Adapter, error) {
	fn, ok := r.kinds[t.CRMKind]
	if !ok {
		return nil, fmt.Errorf("tenant %s uses CRM kind %q, which this build does not know (known: %v)", t.Name, t.CRMKind, r.Kinds())
	}
	a, err := fn(t, secret)
	if err != nil {
		return nil, fmt.Errorf("error building %s adapter for tenant %s: %w", t.CRMKind, t.Name, err)
	}
	return a, nil
}
