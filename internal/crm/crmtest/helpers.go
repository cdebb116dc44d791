package crmtest

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// IDsOf lists id(x) of every x, in order.
func IDsOf[T any](xs []T, id func(T) string) []string {
	ids := make([]string, 0, len(xs))
	for _, x := range xs {
		ids = append(ids, id(x))
	}
	return ids
}

// ExternalIDs lists the inquiries' external ids, in order.
func ExternalIDs(ins []lead.Inquiry) []string {
	return IDsOf(ins, func(in lead.Inquiry) string { return in.ExternalID })
}

// RequireInvalidRecord asserts err is a crm.InvalidRecordError about field
// of record.
func RequireInvalidRecord(t *testing.T, err error, record, field string) {
	t.Helper()
	var invalid *crm.InvalidRecordError
	require.ErrorAs(t, err, &invalid)
	require.Equal(t, field, invalid.Field, "error: %v", err)
	require.Equal(t, record, invalid.Record, "error: %v", err)
}

// RoundTripFunc is an http.RoundTripper of one function, to see or change
// what an adapter sends.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// NewLead reads ref's inquiry and vehicle through a and makes the lead a
// poll would store of them with customer c, which must be valid.
func NewLead(t *testing.T, a crm.Adapter, kind string, ref fake.LeadRef, c lead.Customer) lead.Lead {
	t.Helper()
	in, err := a.GetLead(t.Context(), ref.ExternalID)
	require.NoError(t, err)
	v, err := a.GetVehicle(t.Context(), ref.VehicleID)
	require.NoError(t, err)
	l, err := lead.NewLead(uuid.New(), kind, in, c, v)
	require.NoError(t, err)
	return l
}
