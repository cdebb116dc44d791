package store_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

func TestMigrate(t *testing.T) {
	t.Parallel()

	logger := slog.New(slog.DiscardHandler)

	t.Run("UpDownUp", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		pool, _ := testdb.NewEmpty(t)

		exists := func(table string) bool {
			var ok bool
			require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok))
			return ok
		}
		tables := []string{"tenants", "leads", "messages", "suppressions", "job_executions", "river_job", "river_leader"}

		require.NoError(t, store.Migrate(ctx, pool, logger))
		for _, tbl := range tables {
			require.True(t, exists(tbl), "table %s after up", tbl)
		}
		v, dirty, err := store.AppSchemaVersion(pool)
		require.NoError(t, err)
		require.False(t, dirty)
		require.GreaterOrEqual(t, v, uint(1))

		require.NoError(t, store.MigrateDown(ctx, pool, logger))
		for _, tbl := range tables {
			require.False(t, exists(tbl), "table %s after down", tbl)
		}

		require.NoError(t, store.Migrate(ctx, pool, logger))
		for _, tbl := range tables {
			require.True(t, exists(tbl), "table %s after second up", tbl)
		}
		// Idempotent: running again changes nothing and does not fail.
		require.NoError(t, store.Migrate(ctx, pool, logger))
	})

	t.Run("ConcurrentReplicas", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		pool, _ := testdb.NewEmpty(t)

		const replicas = 4
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i := range replicas {
			wg.Go(func() { errs[i] = store.Migrate(ctx, pool, logger) })
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "replica %d", i)
		}
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_migration`).Scan(&n))
		require.Positive(t, n)
		v, dirty, err := store.AppSchemaVersion(pool)
		require.NoError(t, err)
		require.False(t, dirty)
		require.GreaterOrEqual(t, v, uint(1))
	})
}
