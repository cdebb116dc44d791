package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIndexRiverJobTakesNoLockOnceBuilt: `worker migrate` calls
// leadorch_index_river_job on every run (each deploy); once the index is
// there it must not lock river_job. It used to run CREATE INDEX IF NOT
// EXISTS, which takes its share lock before it looks for the name: with a
// job insert in flight (which holds ROW EXCLUSIVE) it waited, and held up
// every insert queued behind it.
func TestIndexRiverJobTakesNoLockOnceBuilt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	inserting, err := b.db.Owner.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = inserting.Rollback(ctx) })
	_, err = inserting.Exec(ctx, `LOCK TABLE river_job IN ROW EXCLUSIVE MODE`)
	require.NoError(t, err)

	migrate, err := b.db.Owner.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = migrate.Rollback(ctx) })
	_, err = migrate.Exec(ctx, `SET LOCAL lock_timeout = '500ms'`)
	require.NoError(t, err)
	_, err = migrate.Exec(ctx, `SELECT leadorch_index_river_job()`)
	require.NoError(t, err, "the index exists: nothing to lock")

	var indexed bool
	require.NoError(t, migrate.QueryRow(ctx, `SELECT to_regclass('river_job_backfill_idx') IS NOT NULL`).Scan(&indexed))
	require.True(t, indexed)
}
