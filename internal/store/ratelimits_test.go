package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// takeOne takes a single request of the budget: zero when it may go, else
// how long until one may.
func takeOne(t *testing.T, st *store.Store, ctx context.Context, tenantID uuid.UUID, perMinute, burst int, now time.Time) (time.Duration, error) {
	t.Helper()
	got, wait, err := st.TakeCRMRequests(ctx, tenantID, perMinute, burst, 1, now)
	if err == nil && got == 1 {
		return 0, nil
	}
	return wait, err
}

func TestTakeCRMRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Now()

	// A burst of 5 goes at once, then the bucket is empty: 60/min is one a
	// second.
	for i := range 5 {
		wait, err := takeOne(t, b.store, ctx, b.a.ID, 60, 5, now)
		require.NoError(t, err)
		require.Zero(t, wait, "take %d", i)
	}
	wait, err := takeOne(t, b.store, ctx, b.a.ID, 60, 5, now)
	require.NoError(t, err)
	require.InDelta(t, time.Second, wait, float64(10*time.Millisecond))

	// Another tenant's budget is its own.
	wait, err = takeOne(t, b.store, ctx, b.b.ID, 60, 5, now)
	require.NoError(t, err)
	require.Zero(t, wait)

	// Half a second later half a token is back: still a wait, of the rest.
	wait, err = takeOne(t, b.store, ctx, b.a.ID, 60, 5, now.Add(500*time.Millisecond))
	require.NoError(t, err)
	require.InDelta(t, 500*time.Millisecond, wait, float64(10*time.Millisecond))
	// A second later than that, one token: it goes.
	wait, err = takeOne(t, b.store, ctx, b.a.ID, 60, 5, now.Add(1500*time.Millisecond))
	require.NoError(t, err)
	require.Zero(t, wait)

	// A long pause refills to the burst, not beyond.
	later := now.Add(time.Hour)
	taken := 0
	for range 10 {
		wait, err := takeOne(t, b.store, ctx, b.a.ID, 60, 5, later)
		require.NoError(t, err)
		if wait == 0 {
			taken++
		}
	}
	require.Equal(t, 5, taken)

	_, err = takeOne(t, b.store, ctx, b.a.ID, 0, 5, now)
	require.Error(t, err)
}

// TestTakeCRMRequestConcurrently: many takers at once (replicas) never get
// more than the bucket holds.
func TestTakeCRMRequestConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Now()
	var (
		wg    sync.WaitGroup
		taken atomic.Int32
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				wait, err := takeOne(t, b.store, ctx, b.a.ID, 6, 20, now)
				if err == nil && wait == 0 {
					taken.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 20, taken.Load())
}

// TestTakeCRMRequests: a batch take gets what the bucket holds, up to what
// was asked, and nothing more.
func TestTakeCRMRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Now()
	got, wait, err := b.store.TakeCRMRequests(ctx, b.a.ID, 60, 5, 3, now)
	require.NoError(t, err)
	require.Equal(t, 3, got)
	require.Zero(t, wait)
	got, _, err = b.store.TakeCRMRequests(ctx, b.a.ID, 60, 5, 3, now)
	require.NoError(t, err)
	require.Equal(t, 2, got, "what was left of the burst")
	got, wait, err = b.store.TakeCRMRequests(ctx, b.a.ID, 60, 5, 3, now)
	require.NoError(t, err)
	require.Zero(t, got)
	require.InDelta(t, time.Second, wait, float64(10*time.Millisecond))
	got, _, err = b.store.TakeCRMRequests(ctx, b.a.ID, 60, 5, 3, now.Add(2500*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, 2, got, "two whole tokens refilled in 2.5s")
	_, _, err = b.store.TakeCRMRequests(ctx, b.a.ID, 60, 5, 0, now)
	require.Error(t, err)
}

// TestTakeWebhookIntake: a tenant's webhook deliveries go while its burst
// lasts, then one per refill, whatever replica takes them; another
// tenant's intake and the tenant's own CRM budget are separate buckets.
func TestTakeWebhookIntake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Now()

	// Eight replicas take at once: exactly the burst of 30 goes.
	var (
		wg    sync.WaitGroup
		taken atomic.Int32
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				wait, err := b.store.TakeWebhookIntake(ctx, b.a.ID, 120, 30, now)
				if err == nil && wait == 0 {
					taken.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 30, taken.Load())

	// Empty: 120/min is one every half second.
	wait, err := b.store.TakeWebhookIntake(ctx, b.a.ID, 120, 30, now)
	require.NoError(t, err)
	require.InDelta(t, 500*time.Millisecond, wait, float64(10*time.Millisecond))
	wait, err = b.store.TakeWebhookIntake(ctx, b.a.ID, 120, 30, now.Add(500*time.Millisecond))
	require.NoError(t, err)
	require.Zero(t, wait, "refilled")

	// Neither b's intake nor a's CRM budget was spent.
	wait, err = b.store.TakeWebhookIntake(ctx, b.b.ID, 120, 30, now)
	require.NoError(t, err)
	require.Zero(t, wait)
	got, _, err := b.store.TakeCRMRequests(ctx, b.a.ID, 60, 5, 5, now)
	require.NoError(t, err)
	require.Equal(t, 5, got)

	_, err = b.store.TakeWebhookIntake(ctx, b.a.ID, 0, 30, now)
	require.ErrorContains(t, err, "rate 0/min")
}
