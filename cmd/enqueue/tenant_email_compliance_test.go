package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTenantEmailComplianceFlags: --postal-address and --asm-group-id set
// what a shop's customer email carries, show and update print it, and a
// bad value is refused naming its flag, saving nothing.
func TestTenantEmailComplianceFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
	_, _, err := b.run(t, "tenant", "add", "--name", "Elm Garage", "--location-id", "loc-9",
		"--secret-env", "SHOP_KEY", "--time-zone", "America/Chicago", "--sms-from", "+13125550142")
	require.NoError(t, err)

	stdout, _, err := b.run(t, "tenant", "show", "--tenant", "Elm Garage")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "postal address: none: follow-up emails are skipped")
	require.Contains(t, oneSpaced(stdout), "asm group: none")

	stdout, _, err = b.run(t, "tenant", "update", "--tenant", "Elm Garage",
		"--postal-address", "12 Main St, Springfield, IL 62701", "--asm-group-id", "4321")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "postal address: none: follow-up emails are skipped -> 12 Main St, Springfield, IL 62701")
	require.Contains(t, oneSpaced(stdout), "asm group: none -> 4321")
	tenant, err := b.store.FleetFindTenant(ctx, "Elm Garage")
	require.NoError(t, err)
	require.Equal(t, "12 Main St, Springfield, IL 62701", tenant.Compliance.PostalAddress)
	require.Equal(t, 4321, tenant.Compliance.ASMGroupID)

	_, _, err = b.run(t, "tenant", "update", "--tenant", "Elm Garage", "--postal-address", "Main Street", "--asm-group-id", "-2")
	require.ErrorContains(t, err, "--postal-address")
	require.ErrorContains(t, err, "has no number")
	require.ErrorContains(t, err, "--asm-group-id")
	_, _, err = b.run(t, "tenant", "update", "--tenant", "Elm Garage", "--asm-group-id", "four")
	require.ErrorContains(t, err, `--asm-group-id: "four" is not a whole number`)
	after, err := b.store.FleetFindTenant(ctx, "Elm Garage")
	require.NoError(t, err)
	require.Equal(t, tenant.Compliance, after.Compliance, "a refused update changes nothing")
}
