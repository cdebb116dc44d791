package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTenantClosedDaysFlags: --closed-days sets the shop's closed days
// (comma-separated, spaces trimmed, "none" clears) and
// --answer-on-closed-days whether a new inquiry is answered on them; show
// and update print both; a bad day is refused naming the flag and which
// day, saving nothing.
func TestTenantClosedDaysFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
	_, _, err := b.run(t, "tenant", "add", "--name", "Elm Garage", "--location-id", "loc-9",
		"--secret-env", "SHOP_KEY", "--time-zone", "America/Chicago", "--sms-from", "+13125550142")
	require.NoError(t, err)

	stdout, _, err := b.run(t, "tenant", "show", "--tenant", "Elm Garage")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "closed days: none")
	require.Contains(t, oneSpaced(stdout), "answer on closed days: no: a new inquiry's answer waits for the next open day")

	stdout, _, err = b.run(t, "tenant", "update", "--tenant", "Elm Garage",
		"--closed-days", "2026-12-25, 2026-12-31,2027-01-01", "--answer-on-closed-days")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "closed days: none -> 2026-12-25, 2026-12-31, 2027-01-01")
	require.Contains(t, oneSpaced(stdout), "answer on closed days: no: a new inquiry's answer waits for the next open day -> yes: a new inquiry is answered on closed days too")
	tenant, err := b.store.FleetFindTenant(ctx, "Elm Garage")
	require.NoError(t, err)
	require.Equal(t, []string{"2026-12-25", "2026-12-31", "2027-01-01"}, tenant.Compliance.ClosedDays)
	require.True(t, tenant.Compliance.AnswerOnClosedDays)

	_, _, err = b.run(t, "tenant", "update", "--tenant", "Elm Garage", "--closed-days", "2026-12-25,2026-13-01,2026-12-25")
	require.ErrorContains(t, err, `--closed-days: compliance.closed_days[1]: "2026-13-01" is not a date written YYYY-MM-DD`)
	require.ErrorContains(t, err, "--closed-days: compliance.closed_days[2]: 2026-12-25 is already closed_days[0]")
	_, _, err = b.run(t, "tenant", "update", "--tenant", "Elm Garage", "--answer-on-closed-days=maybe")
	require.ErrorContains(t, err, "--answer-on-closed-days")
	after, err := b.store.FleetFindTenant(ctx, "Elm Garage")
	require.NoError(t, err)
	require.Equal(t, tenant.Compliance, after.Compliance, "a refused update changes nothing")

	stdout, _, err = b.run(t, "tenant", "update", "--tenant", "Elm Garage", "--closed-days", "none", "--answer-on-closed-days=false")
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "closed days: 2026-12-25, 2026-12-31, 2027-01-01 -> none")
	after, err = b.store.FleetFindTenant(ctx, "Elm Garage")
	require.NoError(t, err)
	require.Empty(t, after.Compliance.ClosedDays)
	require.False(t, after.Compliance.AnswerOnClosedDays)
}
