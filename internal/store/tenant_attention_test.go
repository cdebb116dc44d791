package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestTenantAttention: the flag a refused credential raises stays through
// updates that do not touch the credentials, and goes (with the next poll
// due at once) when the secret or the CRM settings that reach the CRM
// change; the backoff doubles with the time the refusals have lasted.
func TestTenantAttention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	flag := func(t *testing.T, b *testBundle, since time.Time) lead.Tenant {
		t.Helper()
		mark, err := b.store.MarkTenantNeedsAttention(ctx, b.a.ID, "crm rejected the credentials", since, time.Hour)
		require.NoError(t, err)
		require.True(t, mark.Began)
		got, err := b.store.GetTenant(ctx, b.a.ID)
		require.NoError(t, err)
		require.True(t, got.NeedsAttention)
		return got
	}

	t.Run("BackoffDoublesToAnHour", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		start := time.Now().Truncate(time.Second)
		flag(t, b, start)
		// Refusals at 1, 2, 4 ... minutes after the first wait as long
		// again (the interval is a minute), and never more than an hour.
		for _, elapsed := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 50 * time.Minute, 3 * time.Hour} {
			mark, err := b.store.MarkTenantNeedsAttention(ctx, b.a.ID, "crm rejected the credentials", start.Add(elapsed), time.Hour)
			require.NoError(t, err)
			require.False(t, mark.Began, "the flag was already up")
			require.WithinDuration(t, start.Add(elapsed).Add(min(elapsed, time.Hour)), mark.NextPollAt, time.Millisecond, "after %s", elapsed)
		}
	})

	t.Run("KeptByOtherUpdates", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		got := flag(t, b, time.Now())
		got.PollInterval = 2 * time.Minute
		got.SMSFrom = "+15125550199"
		updated, err := b.store.UpdateTenant(ctx, got, nil)
		require.NoError(t, err)
		require.True(t, updated.NeedsAttention)
		require.Equal(t, "crm rejected the credentials", updated.AttentionReason)
		require.False(t, updated.AttentionSince.IsZero())
		// Re-sealing the same secret under a new key is not a new one.
		require.NoError(t, b.store.ReplaceTenantSecret(ctx, b.a.ID, updated.CRMSecret, lead.SealedSecret{KeyID: "k2", Ciphertext: []byte("x")}))
		again, err := b.store.GetTenant(ctx, b.a.ID)
		require.NoError(t, err)
		require.True(t, again.NeedsAttention)
	})

	for name, change := range map[string]func(t *lead.Tenant) *lead.SealedSecret{
		"NewSecret": func(t *lead.Tenant) *lead.SealedSecret {
			return &lead.SealedSecret{KeyID: "k", Ciphertext: []byte("new")}
		},
		"NewLocation": func(t *lead.Tenant) *lead.SealedSecret { t.CRMLocationID = "loc-other"; return nil },
		"NewBaseURL":  func(t *lead.Tenant) *lead.SealedSecret { t.CRMBaseURL = "https://staging.example.com"; return nil },
	} {
		t.Run("ClearedBy"+name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			got := flag(t, b, time.Now().Add(-time.Hour))
			secret := change(&got)
			updated, err := b.store.UpdateTenant(ctx, got, secret)
			require.NoError(t, err)
			require.False(t, updated.NeedsAttention)
			require.Empty(t, updated.AttentionReason)
			require.True(t, updated.AttentionSince.IsZero())
			require.LessOrEqual(t, time.Until(updated.NextPollAt), time.Second, "the new credentials are tried at once")
			other, err := b.store.GetTenant(ctx, b.b.ID)
			require.NoError(t, err)
			require.False(t, other.NeedsAttention)
		})
	}
}
