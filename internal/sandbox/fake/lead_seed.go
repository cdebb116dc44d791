package fake

import (
	"cmp"
	"time"
)

// LeadSeed is how a fake makes the records of one seeded lead, in the
// order its generator draws them (so that a seeded fake repeats itself):
// the customer, the vehicle of that customer, then the lead's own record
// in Table.
type LeadSeed[T ~string, K cmp.Ordered, L comparable] struct {
	Table    T
	Customer func() (*Row[K, L], error)
	Vehicle  func(cust *Row[K, L]) (*Row[K, L], error)
	Record   func(cust, veh *Row[K, L]) map[string]any
}

// InsertLead makes seed's records in loc and lists the lead among loc's
// (see AddLeadRef). Every fake's AddLead had written these steps out;
// the caller holds the fake's lock.
func (rs *Records[T, K, L]) InsertLead(loc L, seed LeadSeed[T, K, L]) (LeadRef, error) {
	cust, err := seed.Customer()
	if err != nil {
		return LeadRef{}, err
	}
	veh, err := seed.Vehicle(cust)
	if err != nil {
		return LeadRef{}, err
	}
	r, err := rs.Insert(loc, seed.Table, seed.Record(cust, veh))
	if err != nil {
		return LeadRef{}, err
	}
	return rs.AddLeadRef(seed.Table, r), nil
}

// SeedTimes are a seeded lead's creation time, now() when created is
// zero, and its update time, the creation time when updated is zero.
func SeedTimes(now func() time.Time, created, updated time.Time) (time.Time, time.Time) {
	if created.IsZero() {
		created = now()
	}
	return created, cmp.Or(updated, created)
}
