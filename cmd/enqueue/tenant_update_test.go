package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestTenantUpdate(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	// without clears what an update may legitimately change besides the
	// settings given, so that two tenants compare on everything else.
	without := func(t lead.Tenant) lead.Tenant {
		t.UpdatedAt, t.NextPollAt = time.Time{}, time.Time{}
		return t
	}

	t.Run("ChangesOnlyWhatIsGiven", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		added := b.addTenant(t, "Main Street Auto")
		// A new tenant's first poll is due at a random point of its first
		// interval; put it beyond any 30s interval.
		_, err := b.owner.Exec(ctx, `UPDATE tenants SET next_poll_at = now() + interval '1 hour' WHERE id = $1`, added.ID)
		require.NoError(t, err)
		before, err := b.store.GetTenant(ctx, added.ID)
		require.NoError(t, err)

		stdout, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto",
			"--poll-interval", "30s", "--quiet-hours", "07:30-20:00", "--rate-limit", "90", "--email-from", "Desk@Main.Example.COM")
		require.NoError(t, err)
		require.Contains(t, stdout, "updated tenant Main Street Auto ("+before.ID.String()+"):")
		require.Regexp(t, `poll interval:\s+1m0s\s+-> 30s\n`, stdout)
		require.Regexp(t, `quiet hours:\s+texts only 08:00-21:00\s+-> texts only 07:30-20:00\n`, stdout)
		require.Regexp(t, `rate limit:\s+the CRM's default\s+-> 90 requests per minute\n`, stdout)
		require.Regexp(t, `email from:\s+none\s+-> Desk@main.example.com\n`, stdout)
		// A shorter poll interval brings the next poll forward.
		require.Regexp(t, `next poll:\s+\S+\s+-> \S+\n`, stdout)
		require.Contains(t, stdout, "applies from the tenant's next poll and send on")
		require.NotContains(t, stdout, "time zone")
		require.NotContains(t, stdout, "crm secret")

		after, err := b.store.GetTenant(ctx, before.ID)
		require.NoError(t, err)
		want := before
		want.PollInterval = 30 * time.Second
		want.QuietHours = lead.QuietHours{Start: 7*60 + 30, End: 20 * 60}
		want.CRMRateLimit = 90
		want.EmailFrom = "Desk@main.example.com"
		require.Equal(t, without(want), without(after))
		require.True(t, after.UpdatedAt.After(before.UpdatedAt))
		require.True(t, after.NextPollAt.Before(before.NextPollAt))

		// The same values again change nothing and write nothing.
		stdout, _, err = b.run(t, "tenant", "update", "--tenant", before.ID.String(), "--poll-interval", "30s", "--rate-limit", "90")
		require.NoError(t, err)
		require.Contains(t, stdout, "nothing changed")
		again, err := b.store.GetTenant(ctx, before.ID)
		require.NoError(t, err)
		require.Equal(t, after, again)
	})

	t.Run("RenameDisableAndTemplates", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		before := b.addTenant(t, "Main Street Auto")
		stdout, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--name", "Main St. Auto",
			"--disabled", "--sms-template", "Hi {{.Lead.FirstName}}. Reply STOP to opt out")
		require.NoError(t, err)
		require.Contains(t, stdout, "updated tenant Main St. Auto")
		require.Regexp(t, `name:\s+Main Street Auto\s+-> Main St. Auto\n`, stdout)
		require.Regexp(t, `enabled:\s+true\s+-> false\n`, stdout)
		require.Regexp(t, `sms template:\s+fleet default\s+-> "Hi \{\{\.Lead\.FirstName\}\}\. Reply STOP to opt out"\n`, stdout)

		after, err := b.store.FleetFindTenant(ctx, "Main St. Auto")
		require.NoError(t, err)
		require.Equal(t, before.ID, after.ID)
		require.False(t, after.Enabled)
		require.Equal(t, "Hi {{.Lead.FirstName}}. Reply STOP to opt out", after.Templates.SMS)

		// An empty template goes back to the fleet's; --disabled=false
		// enables.
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Main St. Auto", "--sms-template", "", "--disabled=false")
		require.NoError(t, err)
		after, err = b.store.GetTenant(ctx, before.ID)
		require.NoError(t, err)
		require.Empty(t, after.Templates.SMS)
		require.True(t, after.Enabled)
	})

	t.Run("NewSecret", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		before := b.addTenant(t, "Main Street Auto")
		secretFile := filepath.Join(t.TempDir(), "secret")
		b.secrets = append(b.secrets, "sm_rotated_0099")
		require.NoError(t, os.WriteFile(secretFile, []byte("sm_rotated_0099\n"), 0o600))

		stdout, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--secret-file", secretFile)
		require.NoError(t, err)
		require.Regexp(t, `crm secret:\s+sealed with key A\s+-> a new secret, sealed with key A\n`, stdout)

		after, err := b.store.GetTenant(ctx, before.ID)
		require.NoError(t, err)
		require.NotEqual(t, before.CRMSecret.Ciphertext, after.CRMSecret.Ciphertext)
		secret, err := b.keys.OpenFor(after)
		require.NoError(t, err)
		require.Equal(t, "sm_rotated_0099", secret.Reveal())
		after.CRMSecret = before.CRMSecret
		require.Equal(t, without(before), without(after))
	})

	t.Run("ToTekmetric", func(t *testing.T) {
		t.Parallel()

		// The CRM's own rules are checked with the secret the tenant
		// keeps: the update changes the kind and its settings only.
		b := setup(t)
		before := b.addTenant(t, "Main Street Auto")
		_, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--crm", "tekmetric", "--location-id", "0")
		require.ErrorContains(t, err, "2 problems:")
		require.ErrorContains(t, err, "--location-id: must be the Tekmetric shop id")
		require.ErrorContains(t, err, "--client-id: is required")

		stdout, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--crm", "tekmetric",
			"--location-id", "238", "--client-id", "main-client", "--crm-base-url", "https://sandbox.tekmetric.com")
		require.NoError(t, err)
		require.Regexp(t, `crm:\s+shopmonkey\s+-> tekmetric\n`, stdout)
		require.Regexp(t, `client id:\s+none\s+-> main-client\n`, stdout)
		after, err := b.store.GetTenant(ctx, before.ID)
		require.NoError(t, err)
		require.Equal(t, "tekmetric", after.CRMKind)
		require.Equal(t, "238", after.CRMLocationID)
		require.Equal(t, "main-client", after.CRMClientID)
		require.Equal(t, "https://sandbox.tekmetric.com", after.CRMBaseURL)
		require.Equal(t, before.CRMSecret, after.CRMSecret)
	})

	t.Run("StoredSecretDoesNotOpen", func(t *testing.T) {
		t.Parallel()

		// Sealed with a key the configuration no longer has: the update
		// cannot check the CRM's rules with it, so it says how to go on.
		b := setup(t)
		lost := b.addTenantSealedWith(t, "Lost Auto", newKey(t, "Z"))
		_, _, err := b.run(t, "tenant", "update", "--tenant", "Lost Auto", "--poll-interval", "2m")
		require.ErrorIs(t, err, credentials.ErrUnknownKey)
		require.ErrorContains(t, err, "give the secret again (--secret-env or --secret-file) or put its key back in credentials.keys")
		var uErr *usageError
		require.False(t, errors.As(err, &uErr))

		// A new secret is what fixes it.
		b.setSecret("LOST_KEY", "sm_found_again")
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Lost Auto", "--poll-interval", "2m", "--secret-env", "LOST_KEY")
		require.NoError(t, err)
		after, err := b.store.GetTenant(ctx, lost.ID)
		require.NoError(t, err)
		require.Equal(t, "A", after.CRMSecret.KeyID)
		secret, err := b.keys.OpenFor(after)
		require.NoError(t, err)
		require.Equal(t, "sm_found_again", secret.Reveal())
	})
}
