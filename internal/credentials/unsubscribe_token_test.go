package credentials_test

import (
	"encoding/base64"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
)

// TestUnsubscribeToken: a token names its tenant, lead and step, is
// deterministic, URL-safe and under the endpoint's bound, and checks only
// for the address it was made for, under a key the keyring holds.
func TestUnsubscribeToken(t *testing.T) {
	t.Parallel()
	keys, spec := fixture.Keyring(t, "k1")
	tenant, leadID := uuid.New(), uuid.New()
	tok := keys.UnsubscribeToken(tenant, leadID, "day3", "Ann@Example.com")
	require.Regexp(t, `^[A-Za-z0-9_-]+$`, tok, "base64url, no padding: a URL path segment as it is")
	require.Equal(t, tok, keys.UnsubscribeToken(tenant, leadID, "day3", "Ann@Example.com"), "deterministic: every attempt renders the same body")
	require.NotContains(t, tok, "Ann", "the address is not in the token")

	ref, err := credentials.ReadUnsubscribeToken(tok)
	require.NoError(t, err)
	require.Equal(t, tenant, ref.TenantID)
	require.Equal(t, leadID, ref.LeadID)
	require.Equal(t, "day3", ref.Step)
	require.NoError(t, keys.CheckUnsubscribeToken(ref, "Ann@Example.com"))
	require.NoError(t, keys.CheckUnsubscribeToken(ref, "ann@example.com"), "addresses compare without case")
	require.ErrorIs(t, keys.CheckUnsubscribeToken(ref, "bob@example.com"), credentials.ErrBadUnsubscribeToken, "bound to its address")

	t.Run("Rotation", func(t *testing.T) {
		t.Parallel()
		newSpec, err := credentials.NewKeySpec("k2")
		require.NoError(t, err)
		rotated, err := credentials.ParseKeyring(newSpec + "," + spec)
		require.NoError(t, err)
		require.NoError(t, rotated.CheckUnsubscribeToken(ref, "ann@example.com"), "an old token works while its key is configured")
		fresh, err := credentials.ReadUnsubscribeToken(rotated.UnsubscribeToken(tenant, leadID, "day3", "ann@example.com"))
		require.NoError(t, err)
		require.NoError(t, rotated.CheckUnsubscribeToken(fresh, "ann@example.com"))
		require.ErrorIs(t, keys.CheckUnsubscribeToken(fresh, "ann@example.com"), credentials.ErrBadUnsubscribeToken, "k2 is not in the old keyring")
		dropped, err := credentials.ParseKeyring(newSpec)
		require.NoError(t, err)
		require.ErrorIs(t, dropped.CheckUnsubscribeToken(ref, "ann@example.com"), credentials.ErrBadUnsubscribeToken, "its key dropped, an old token is dead")
	})

	t.Run("Forged", func(t *testing.T) {
		t.Parallel()
		other, _ := fixture.Keyring(t, "k1")
		forged, err := credentials.ReadUnsubscribeToken(other.UnsubscribeToken(tenant, leadID, "day3", "ann@example.com"))
		require.NoError(t, err, "the layout is public")
		require.ErrorIs(t, keys.CheckUnsubscribeToken(forged, "ann@example.com"), credentials.ErrBadUnsubscribeToken, "another key of the same id")

		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err)
		for i := range raw {
			b := append([]byte(nil), raw...)
			b[i] ^= 0x01
			ref, err := credentials.ReadUnsubscribeToken(base64.RawURLEncoding.EncodeToString(b))
			if err != nil {
				continue
			}
			require.ErrorIs(t, keys.CheckUnsubscribeToken(ref, "ann@example.com"), credentials.ErrBadUnsubscribeToken, "byte %d altered", i)
		}
		// A booking link's token is an HMAC under the same key: never an
		// unsubscribe token.
		for _, bad := range []string{"", "x", keys.LinkToken(tenant, leadID), tok[:len(tok)-4], tok + "AAAA", string(make([]byte, 300))} {
			ref, err := credentials.ReadUnsubscribeToken(bad)
			if err == nil {
				err = keys.CheckUnsubscribeToken(ref, "ann@example.com")
			}
			require.ErrorIs(t, err, credentials.ErrBadUnsubscribeToken, "%q", bad)
		}
	})
}
