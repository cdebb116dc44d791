package credentials_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestKeyringSealOpen(t *testing.T) {
	t.Parallel()
	keys, spec := fixture.Keyring(t, "k1")
	tenant := uuid.New()
	sealed, err := keys.Seal(tenant, "sm_live_secret")
	require.NoError(t, err)
	require.Equal(t, "k1", sealed.KeyID)
	require.NotContains(t, string(sealed.Ciphertext), "sm_live_secret")

	got, err := keys.Open(tenant, sealed)
	require.NoError(t, err)
	require.Equal(t, "sm_live_secret", got.Reveal())

	again, err := keys.Seal(tenant, "sm_live_secret")
	require.NoError(t, err)
	require.NotEqual(t, sealed.Ciphertext, again.Ciphertext, "a fresh nonce every time")

	_, err = keys.Open(uuid.New(), sealed)
	require.ErrorContains(t, err, "sealed for another tenant", "bound to its tenant")
	tampered := lead.SealedSecret{KeyID: "k1", Ciphertext: append([]byte(nil), sealed.Ciphertext...)}
	tampered.Ciphertext[len(tampered.Ciphertext)-1] ^= 1
	_, err = keys.Open(tenant, tampered)
	require.Error(t, err)
	_, err = keys.Open(tenant, lead.SealedSecret{KeyID: "k1", Ciphertext: []byte{1, 2}})
	require.ErrorContains(t, err, "truncated")

	// Rotation: a new key first; the old still opens what it sealed.
	newSpec, err := credentials.NewKeySpec("k2")
	require.NoError(t, err)
	rotated, err := credentials.ParseKeyring(newSpec + "," + spec)
	require.NoError(t, err)
	require.Equal(t, "k2", rotated.CurrentKeyID())
	require.Equal(t, []string{"k2", "k1"}, rotated.KeyIDs())
	got, err = rotated.Open(tenant, sealed)
	require.NoError(t, err)
	require.Equal(t, "sm_live_secret", got.Reveal())
	resealed, err := rotated.Seal(tenant, got)
	require.NoError(t, err)
	require.Equal(t, "k2", resealed.KeyID)

	// Once the old key is gone, what it sealed no longer opens, and the
	// error says which key is missing.
	onlyNew, err := credentials.ParseKeyring(newSpec)
	require.NoError(t, err)
	_, err = onlyNew.Open(tenant, sealed)
	require.ErrorIs(t, err, credentials.ErrUnknownKey)
	require.ErrorContains(t, err, `"k1"`)
}

func TestParseKeyringErrors(t *testing.T) {
	t.Parallel()
	spec, err := credentials.NewKeySpec("good")
	require.NoError(t, err)
	_, secret, _ := strings.Cut(spec, "=")
	for name, tc := range map[string]struct{ spec, want string }{
		"Empty":     {"", "no keys"},
		"NoEquals":  {"just-a-key", "want ID=BASE64KEY"},
		"BadID":     {"bad id=" + secret, "must be 1-64 letters"},
		"NotBase64": {"k=not*base64", "not standard base64"},
		"Short":     {"k=c2hvcnQ=", "is 5 bytes, AES-256 needs 32"},
		"Duplicate": {"k=" + secret + ",k=" + secret, "appears twice"},
	} {
		_, err := credentials.ParseKeyring(tc.spec)
		require.ErrorContains(t, err, tc.want, name)
		require.NotContains(t, err.Error(), secret, "%s: an error never quotes a key", name)
	}
}

func TestSealFor(t *testing.T) {
	t.Parallel()
	keys, _ := fixture.Keyring(t, "k1")
	var tn lead.Tenant
	require.NoError(t, keys.SealFor(&tn, "secret"))
	require.NotEqual(t, uuid.Nil, tn.ID, "SealFor gives the tenant its id")
	got, err := keys.OpenFor(tn)
	require.NoError(t, err)
	require.Equal(t, "secret", got.Reveal())
}

// TestSealPurposes: a secret sealed for one purpose does not open as the
// other, even for the same tenant and key.
func TestSealPurposes(t *testing.T) {
	t.Parallel()
	keys, _ := fixture.Keyring(t, "k1")
	tenant := uuid.New()
	crm, err := keys.Seal(tenant, "crm-secret")
	require.NoError(t, err)
	hook, err := keys.SealWebhook(tenant, "whsec_secret")
	require.NoError(t, err)
	_, err = keys.OpenWebhook(tenant, crm)
	require.ErrorContains(t, err, "purpose")
	_, err = keys.Open(tenant, hook)
	require.Error(t, err)
	got, err := keys.OpenWebhook(tenant, hook)
	require.NoError(t, err)
	require.Equal(t, "whsec_secret", got.Reveal())
}

func TestLinkToken(t *testing.T) {
	t.Parallel()
	keys, spec := fixture.Keyring(t, "k1")
	tenant, leadID := uuid.New(), uuid.New()
	tok := keys.LinkToken(tenant, leadID)
	require.Regexp(t, `^[a-z2-7]{32}$`, tok, "20 bytes in lower-case base32, no padding")
	require.Equal(t, tok, keys.LinkToken(tenant, leadID), "deterministic: every attempt renders the same body")
	require.NotEqual(t, tok, keys.LinkToken(tenant, uuid.New()), "per lead")
	require.NotEqual(t, tok, keys.LinkToken(uuid.New(), leadID), "per tenant")

	newSpec, err := credentials.NewKeySpec("k2")
	require.NoError(t, err)
	rotated, err := credentials.ParseKeyring(newSpec + "," + spec)
	require.NoError(t, err)
	require.NotEqual(t, tok, rotated.LinkToken(tenant, leadID), "a rotation makes new tokens")
	same, err := credentials.ParseKeyring(spec)
	require.NoError(t, err)
	require.Equal(t, tok, same.LinkToken(tenant, leadID), "the same key, the same token")
}
