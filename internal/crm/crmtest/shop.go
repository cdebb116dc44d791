package crmtest

import (
	"cmp"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// ShopFake is the seeding every sandbox CRM fake offers: T its tables, K
// its record ids, L its shops' ids and S its lead spec.
type ShopFake[T ~string, K cmp.Ordered, L comparable, S any] interface {
	AddLead(loc L, spec S) (fake.LeadRef, error)
	AddRaw(loc L, table T, raw json.RawMessage) (K, error)
}

// Shop is the shop a CRM's test bundle seeds. The adapters' tests had
// each written the same wrappers that fail the test at a seeding error;
// a bundle embeds a Shop instead.
type Shop[T ~string, K cmp.Ordered, L comparable, S any] struct {
	Fake     ShopFake[T, K, L, S]
	Location L
}

// AddLead seeds a lead of spec in the shop.
func (s Shop[T, K, L, S]) AddLead(t *testing.T, spec S) fake.LeadRef {
	t.Helper()
	ref, err := s.Fake.AddLead(s.Location, spec)
	require.NoError(t, err)
	return ref
}

// AddRaw stores raw, a record as the CRM writes it, in table of the shop
// and returns its id.
func (s Shop[T, K, L, S]) AddRaw(t *testing.T, table T, raw string) K {
	t.Helper()
	id, err := s.Fake.AddRaw(s.Location, table, json.RawMessage(raw))
	require.NoError(t, err)
	return id
}

// RefIDs lists the seeded leads' external ids, in order.
func RefIDs(refs ...fake.LeadRef) []string {
	return IDsOf(refs, func(r fake.LeadRef) string { return r.ExternalID })
}

// Queries parses the query of every request of reqs for path, target
// giving a request's path and raw query (each fake has its own Request).
func Queries[R any](t *testing.T, reqs []R, path string, target func(R) (string, string)) []url.Values {
	t.Helper()
	var out []url.Values
	for _, r := range reqs {
		if p, raw := target(r); p == path {
			q, err := url.ParseQuery(raw)
			require.NoError(t, err)
			out = append(out, q)
		}
	}
	return out
}

// FakeCRM is what a World uses of every sandbox CRM fake alike (R is the
// fake's record of a request).
type FakeCRM[R any] interface {
	AddFault(f fake.Fault)
	SetClock(now func() time.Time)
	Requests() []R
}

// OnFake returns w, the World of adapter a polling from since, with the
// fields every fake fills alike filled from f: the two CRMs' worlds had
// written them out twice.
func OnFake[R any](f FakeCRM[R], a crm.Adapter, since time.Time, w World) *World {
	w.Adapter, w.Since = a, since
	w.AddFault, w.SetClock = f.AddFault, f.SetClock
	w.Requests = func() int { return len(f.Requests()) }
	return &w
}
