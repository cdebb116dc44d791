package main

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestTenantRotateKeys(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("ReSealsWithTheCurrentKey", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		keyA := b.env["LEADORCH_CREDENTIALS_KEYS"]
		secrets := map[string]string{"Main Street Auto": "sm_main_1111", "Elm Street Auto": "sm_elm_2222", "Oak Street Auto": "tk_oak_3333"}
		for name, secret := range secrets {
			b.setSecret("SECRET", secret)
			args := []string{"tenant", "add", "--name", name, "--location-id", "238", "--secret-env", "SECRET", "--sms-from", "+13125550100"}
			if name == "Oak Street Auto" {
				args = append(args, "--crm", "tekmetric", "--client-id", "oak", "--disabled")
			}
			if name == "Main Street Auto" {
				b.setSecret("HOOK", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
				args = append(args, "--webhook-secret-env", "HOOK")
			}
			_, _, err := b.run(t, args...)
			require.NoError(t, err)
		}

		// The new key goes first; the old one stays to open what it sealed.
		keyB := newKey(t, "B")
		keysBA := b.setKeys(t, keyB, keyA)
		stdout, _, err := b.run(t, "tenant", "rotate-keys")
		require.NoError(t, err)
		for name := range secrets {
			require.Regexp(t, `tenant `+regexp.QuoteMeta(name)+` \([0-9a-f-]{36}\): re-sealed, key A -> B\n`, stdout)
		}
		require.Contains(t, stdout, "3 re-sealed, 0 already current (current key B)\n")
		requireSealedWith := func(keys *credentials.Keyring, keyID string) {
			t.Helper()
			for name, secret := range secrets {
				tenant, err := b.store.FleetFindTenant(ctx, name)
				require.NoError(t, err)
				require.Equal(t, keyID, tenant.CRMSecret.KeyID)
				opened, err := keys.OpenFor(tenant)
				require.NoError(t, err)
				require.Equal(t, secret, opened.Reveal())
			}
		}
		requireSealedWith(keysBA, "B")
		require.Contains(t, stdout, "webhook secret re-sealed, key A -> B")
		main, err := b.store.FleetFindTenant(ctx, "Main Street Auto")
		require.NoError(t, err)
		require.Equal(t, "B", main.WebhookSecret.KeyID, "the webhook signing secret moved to the new key too")
		hook, err := keysBA.OpenWebhook(main.ID, main.WebhookSecret)
		require.NoError(t, err)
		require.Equal(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", hook.Reveal())

		// Nothing is re-sealed twice.
		stdout, _, err = b.run(t, "tenant", "rotate-keys")
		require.NoError(t, err)
		require.Contains(t, stdout, "0 re-sealed, 3 already current")

		// Key A can go: everything opens with B alone, for the CLI too.
		keysB := b.setKeys(t, keyB)
		requireSealedWith(keysB, "B")
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Street Auto", "--poll-interval", "5m")
		require.NoError(t, err)
		stdout, _, err = b.run(t, "tenant", "show", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		require.NotContains(t, stdout, "warning:")
	})

	t.Run("UnknownKey", func(t *testing.T) {
		t.Parallel()

		// A tenant sealed with a key that is not configured is reported,
		// the others are re-sealed all the same, and the command fails.
		b := setup(t)
		keyA := b.env["LEADORCH_CREDENTIALS_KEYS"]
		first := b.addTenant(t, "Ash Street Auto")
		lost := b.addTenantSealedWith(t, "Lost Auto", newKey(t, "Z"))
		last := b.addTenant(t, "Pine Street Auto")

		keys := b.setKeys(t, newKey(t, "B"), keyA)
		stdout, _, err := b.run(t, "tenant", "rotate-keys")
		require.ErrorContains(t, err, "tenant rotate-keys: 1 tenant(s) not re-sealed: Lost Auto")
		var uErr *usageError
		require.False(t, errors.As(err, &uErr))
		require.Contains(t, stdout, "tenant Lost Auto ("+lost.ID.String()+"): NOT re-sealed: ")
		require.Contains(t, stdout, `key "Z": sealed with a key that is not configured (configured: B, A)`)
		require.Contains(t, stdout, "2 re-sealed, 0 already current, 1 not re-sealed (current key B)")

		for _, want := range []struct {
			tenant lead.Tenant
			keyID  string
		}{{first, "B"}, {last, "B"}, {lost, "Z"}} {
			got, err := b.store.GetTenant(ctx, want.tenant.ID)
			require.NoError(t, err)
			require.Equal(t, want.keyID, got.CRMSecret.KeyID, want.tenant.Name)
			if want.keyID == "B" {
				secret, err := keys.OpenFor(got)
				require.NoError(t, err)
				require.Equal(t, "key-"+want.tenant.Name, secret.Reveal())
			}
		}
	})
}
