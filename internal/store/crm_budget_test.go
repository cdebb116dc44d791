package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

var _ crm.Budget = (*store.CRMBudget)(nil)

// clock is a settable time for a CRMBudget.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestCRMBudget: two replicas' budgets share one tenant's bucket and never
// spend beyond its burst between them, though each takes a batch at a time;
// a replica's reserve is spent without a statement while it lasts, and
// what it leaves unspent when it expires is dropped, not carried over.
func TestCRMBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ReplicasShareTheBurst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := time.Now()
		replicas := []*store.CRMBudget{
			store.NewCRMBudget(b.db.App, func() time.Time { return now }),
			store.NewCRMBudget(b.db.App, func() time.Time { return now }),
		}
		// 240 a minute: a burst of 60, batches of 4.
		spent, waiting := 0, map[int]bool{}
		for i := 0; len(waiting) < len(replicas); i = (i + 1) % len(replicas) {
			if waiting[i] {
				continue
			}
			wait, err := replicas[i].SpendCRMRequest(ctx, b.a, 240)
			require.NoError(t, err)
			if wait > 0 {
				waiting[i] = true
				require.InDelta(t, 250*time.Millisecond, wait, float64(10*time.Millisecond), "one request every quarter second")
				continue
			}
			spent++
		}
		require.Equal(t, 60, spent)
	})

	t.Run("ReserveExpires", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		now := time.Now()
		clk := &clock{now: now}
		budget := store.NewCRMBudget(b.db.App, clk.Now)

		// The first spend takes a batch of 4: 56 of the burst of 60 are left.
		wait, err := budget.SpendCRMRequest(ctx, b.a, 240)
		require.NoError(t, err)
		require.Zero(t, wait)
		got, _, err := b.store.TakeCRMRequests(ctx, b.a.ID, 240, 60, 100, now)
		require.NoError(t, err)
		require.Equal(t, 56, got)

		// The reserve's three go without the bucket, empty as it is.
		for range 3 {
			wait, err := budget.SpendCRMRequest(ctx, b.a, 240)
			require.NoError(t, err)
			require.Zero(t, wait)
		}
		wait, err = budget.SpendCRMRequest(ctx, b.a, 240)
		require.NoError(t, err)
		require.Positive(t, wait, "reserve spent and the bucket empty")

		// A second on, the bucket has refilled 4; a spend takes them all,
		// and when its reserve expires unspent, the next spend takes from
		// the bucket again instead of using what is left.
		clk.Set(now.Add(time.Second))
		wait, err = budget.SpendCRMRequest(ctx, b.a, 240)
		require.NoError(t, err)
		require.Zero(t, wait)
		got, _, err = b.store.TakeCRMRequests(ctx, b.a.ID, 240, 60, 100, now.Add(time.Second))
		require.NoError(t, err)
		require.Zero(t, got, "the spend took the whole refill as its batch")

		clk.Set(now.Add(2 * time.Second))
		wait, err = budget.SpendCRMRequest(ctx, b.a, 240)
		require.NoError(t, err)
		require.Zero(t, wait)
		got, _, err = b.store.TakeCRMRequests(ctx, b.a.ID, 240, 60, 100, now.Add(2*time.Second))
		require.NoError(t, err)
		require.Zero(t, got, "the expired reserve was dropped: the spend took a new batch")
	})
}
