package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestTenantPhoneRegions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AddUpdateShowClear", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
		// A shop near the border whose Twilio number is Canadian.
		_, _, err := b.run(t, "tenant", "add", "--name", "Border Auto", "--location-id", "loc-7",
			"--secret-env", "SHOP_KEY", "--sms-from", "(416) 201-3344", "--phone-regions", "ca, us")
		require.NoError(t, err)
		tenant, err := b.store.FleetFindTenant(ctx, "Border Auto")
		require.NoError(t, err)
		require.Equal(t, []string{"CA", "US"}, tenant.Compliance.PhoneRegions, "trimmed and upper-cased")
		require.Equal(t, "+14162013344", tenant.SMSFrom)
		require.Regexp(t, `phone regions:\s+CA, US\n`, b.mustRun(t, "tenant", "show", "--tenant", "Border Auto"))

		out := b.mustRun(t, "tenant", "update", "--tenant", "Border Auto", "--phone-regions", "CA,US,MX")
		require.Contains(t, out, "phone regions")
		tenant, err = b.store.FleetFindTenant(ctx, "Border Auto")
		require.NoError(t, err)
		require.Equal(t, []string{"CA", "US", "MX"}, tenant.Compliance.PhoneRegions)

		b.mustRun(t, "tenant", "update", "--tenant", "Border Auto", "--phone-regions", "default")
		tenant, err = b.store.FleetFindTenant(ctx, "Border Auto")
		require.NoError(t, err)
		require.Empty(t, tenant.Compliance.PhoneRegions)
		require.Equal(t, []string{"US", "CA"}, tenant.Compliance.Regions())
		require.Regexp(t, `phone regions:\s+US, CA \(the default\)\n`, b.mustRun(t, "tenant", "show", "--tenant", "Border Auto"))
	})

	t.Run("ProblemsNameTheFlag", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.addTenant(t, "Main Street Auto")

		_, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--phone-regions", "US,XX,US")
		require.ErrorContains(t, err, `--phone-regions: "XX" is not a region libphonenumber knows (an ISO 3166-1 alpha-2 code such as US or CA)`)
		require.ErrorContains(t, err, `--phone-regions: "US" is listed twice`)
		var uErr *usageError
		require.ErrorAs(t, err, &uErr)

		// The fixture shop texts from a Chicago number: a Canadian-only
		// shop could not.
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--phone-regions", "CA")
		require.ErrorContains(t, err, "--sms-from: is a number of US, not of the shop's phone regions (CA)")

		tenant, err := b.store.FleetFindTenant(ctx, "Main Street Auto")
		require.NoError(t, err)
		require.Equal(t, lead.Compliance{}, tenant.Compliance, "nothing refused is saved")
	})
}
