package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRefusesOwnerURL: run with the owner's URL (which row-level security
// does not bind), every command that reaches the database refuses before
// it reads or writes anything, and says which URL to use instead.
func TestRefusesOwnerURL(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.addTenant(t, "Main Street Auto")
	b.setSecret("SHOP_KEY", "sk_test_owner")
	b.env["LEADORCH_DATABASE_URL"] = b.ownerURL
	const snapshot = `SELECT (SELECT count(*) FROM river_job), (SELECT string_agg(t::text, E'\n' ORDER BY id) FROM tenants t)`
	var tenantsBefore string
	var jobsBefore int
	require.NoError(t, b.owner.QueryRow(context.Background(), snapshot).Scan(&jobsBefore, &tenantsBefore))

	for _, args := range [][]string{
		{"tenant", "list"},
		{"tenant", "show", "--tenant", "Main Street Auto"},
		{"poll", "--tenant", "Main Street Auto"},
		{"ingest", "--tenant", "Main Street Auto", "--external-id", "order:1"},
		{"backfill", "--tenant", "Main Street Auto", "--since", "2024-01-01", "--until", "2024-01-02"},
		{"messages", "--tenant", "Main Street Auto"},
		{"tenant", "disable", "--tenant", "Main Street Auto"},
		{"tenant", "add", "--name", "New Auto", "--location-id", "loc", "--sms-from", "+13125550100", "--secret-env", "SHOP_KEY"},
		{"tenant", "rotate-keys"},
	} {
		stdout, _, err := b.run(t, args...)
		require.Error(t, err, "%v ran as the owner", args)
		require.Empty(t, stdout, "%v printed before refusing", args)
		for _, want := range []string{"enqueue refuses to run", "row-level security would not keep tenants apart",
			"database.url", "LEADORCH_DATABASE_URL", "leadorch_app", "not the owner's"} {
			require.Contains(t, err.Error(), want, "%v", args)
		}
		var uErr *usageError
		require.False(t, errors.As(err, &uErr), "a configuration error exits 1, not 2")
	}

	var tenantsAfter string
	var jobsAfter int
	require.NoError(t, b.owner.QueryRow(context.Background(), snapshot).Scan(&jobsAfter, &tenantsAfter))
	require.Equal(t, jobsBefore, jobsAfter)
	require.Equal(t, tenantsBefore, tenantsAfter)
}
