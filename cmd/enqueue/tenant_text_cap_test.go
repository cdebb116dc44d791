package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestTenantTextCapFlag: --text-cap sets how many texts a shop may send
// one number in a rolling window, show and update print it, and a value
// out of bounds or of the wrong shape is refused naming the flag, saving
// nothing.
func TestTenantTextCapFlag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
	_, _, err := b.run(t, "tenant", "add", "--name", "Oak Garage", "--location-id", "loc-7",
		"--secret-env", "SHOP_KEY", "--time-zone", "America/Chicago", "--sms-from", "+13125550142")
	require.NoError(t, err)

	stdout, _, err := b.run(t, "tenant", "show", "--tenant", "Oak Garage")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "text cap: 3/24h (default)")

	stdout, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--text-cap", "5/48h")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "text cap: 3/24h (default) -> 5/48h")
	tenant, err := b.store.FleetFindTenant(ctx, "Oak Garage")
	require.NoError(t, err)
	require.Equal(t, lead.TextCap{Texts: 5, WindowHours: 48}, tenant.Compliance.TextCap)

	_, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--text-cap", "60/200h")
	require.ErrorContains(t, err, "--text-cap: compliance.text_cap.texts: is 60, must be 1 to 50 texts")
	require.ErrorContains(t, err, "--text-cap: compliance.text_cap.window_hours: is 200, must be 1 to 168 hours")
	_, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--text-cap", "lots")
	require.ErrorContains(t, err, `--text-cap: "lots" is not texts per hours, such as 3/24h`)
	after, err := b.store.FleetFindTenant(ctx, "Oak Garage")
	require.NoError(t, err)
	require.Equal(t, tenant.Compliance, after.Compliance, "a refused update changes nothing")

	stdout, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--text-cap", "default")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "text cap: 5/48h -> 3/24h (default)")
}
