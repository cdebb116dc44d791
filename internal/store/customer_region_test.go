package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestCustomerRegionStored: a lead's customer region is stored with it,
// read back by every read of a lead (one lead, and the leads of a phone
// number an inbound text answers for), and refreshed by a newer CRM
// version when the customer moves or loses the address, as the phone
// is, never by an older one.
func TestCustomerRegionStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	region := func(want string) {
		t.Helper()
		byPhone, err := b.store.FindLeadsByPhone(ctx, b.a.ID, "+13122013344")
		require.NoError(t, err)
		require.Len(t, byPhone, 1)
		require.Equal(t, want, byPhone[0].CustomerRegion, "by phone")
		got, err := b.store.GetLead(ctx, b.a.ID, byPhone[0].ID)
		require.NoError(t, err)
		require.Equal(t, want, got.CustomerRegion, "by id")
	}

	l := fixture.Lead("order:1", func(l *lead.Lead) { l.CustomerRegion = "US-TX" })
	_, inserted, err := b.store.UpsertLead(ctx, b.a.ID, l, false)
	require.NoError(t, err)
	require.True(t, inserted)
	region("US-TX")

	// Version 2: the customer moved to Ontario.
	l.CRMVersion, l.CustomerRegion = 2, "CA-ON"
	_, inserted, err = b.store.UpsertLead(ctx, b.a.ID, l, false)
	require.NoError(t, err)
	require.False(t, inserted)
	region("CA-ON")

	// A late, older version changes nothing.
	l.CRMVersion, l.CustomerRegion = 1, "US-TX"
	_, _, err = b.store.UpsertLead(ctx, b.a.ID, l, false)
	require.NoError(t, err)
	region("CA-ON")

	// Version 3: the address is gone (or its state became unreadable):
	// no region, rather than the one it had.
	l.CRMVersion, l.CustomerRegion = 3, ""
	_, _, err = b.store.UpsertLead(ctx, b.a.ID, l, false)
	require.NoError(t, err)
	region("")
}
