package store_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// TestBackfillProgressUsesIndex seeds one backfill's jobs among other
// jobs and checks that counting it reads river_job_backfill_idx, not the
// whole table. LEADORCH_BACKFILL_JOBS sets the backfill's size (default
// 20,000); the test prints how long one count takes, for the record:
//
//	LEADORCH_BACKFILL_JOBS=1000000 go test ./internal/store/ -run TestBackfillProgressUsesIndex -v
func TestBackfillProgressUsesIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	n := 20_000
	if s := os.Getenv("LEADORCH_BACKFILL_JOBS"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(t, err, "LEADORCH_BACKFILL_JOBS")
	}
	id, err := b.store.CreateBackfill(ctx, store.Backfill{TenantID: b.a.ID, Since: time.Now().Add(-time.Duration(n) * time.Minute),
		Until: time.Now(), Window: time.Minute, WindowsTotal: n, CreatedAt: time.Now().Add(-time.Hour)})
	require.NoError(t, err)
	seed := time.Now()
	// The backfill's jobs, a quarter completed and one
	// in a thousand discarded; and as many other jobs (live polls, sends)
	// that the count must not read.
	_, err = b.db.Owner.Exec(ctx, `
		INSERT INTO river_job (kind, queue, args, state, max_attempts, finalized_at, metadata)
		SELECT 'poll_crm', 'crm_backfill', jsonb_build_object('tenant_id', $1::text, 'backfill_id', $2::bigint, 'since', i),
			s.state, 5, CASE WHEN s.state = 'available' THEN NULL ELSE now() END, '{}'
		FROM generate_series(1, $3::int) i,
		LATERAL (SELECT (CASE WHEN i % 1000 = 0 THEN 'discarded' WHEN i % 4 = 0 THEN 'completed' ELSE 'available' END)::river_job_state AS state) s`,
		b.a.ID, id, n)
	require.NoError(t, err)
	_, err = b.db.Owner.Exec(ctx, `
		INSERT INTO river_job (kind, queue, args, state, max_attempts, finalized_at)
		SELECT 'send_sms', 'sms', jsonb_build_object('tenant_id', $1::text, 'lead_id', gen_random_uuid()), 'completed', 5, now()
		FROM generate_series(1, $2::int)`, b.a.ID, n)
	require.NoError(t, err)
	_, err = b.db.Owner.Exec(ctx, `ANALYZE river_job`)
	require.NoError(t, err)
	t.Logf("seeded %d backfill jobs and %d others in %s", n, n, time.Since(seed).Round(time.Millisecond))

	start := time.Now()
	p, err := b.store.BackfillProgress(ctx, b.a.ID, id)
	took := time.Since(start)
	require.NoError(t, err)
	// Every thousandth job is also a fourth: discarded, not completed.
	require.Equal(t, n/4, p.Finished)
	require.Equal(t, n/1000, p.Failed)
	t.Logf("counting a backfill of %d jobs took %s", n, took.Round(time.Millisecond))
	// Once more, as --wait counts again and again: now from a warm cache.
	start = time.Now()
	_, err = b.store.BackfillProgress(ctx, b.a.ID, id)
	require.NoError(t, err)
	t.Logf("counting it again took %s", time.Since(start).Round(time.Millisecond))

	var plan []string
	require.NoError(t, pgxQueryPlan(ctx, b, id, &plan))
	require.Contains(t, strings.Join(plan, "\n"), "river_job_backfill_idx", "the count must go through the index")
	require.NotContains(t, strings.Join(plan, "\n"), "Seq Scan on river_job", "the count must not read all of river_job")
}

// pgxQueryPlan explains the count at the heart of BackfillProgress, the
// lateral part of its query with the backfill's id in place.
func pgxQueryPlan(ctx context.Context, b *testBundle, id int64, plan *[]string) error {
	tx, err := b.db.Owner.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	rows, err := tx.Query(ctx, `EXPLAIN SELECT count(*) FILTER (WHERE j.state NOT IN ('completed', 'cancelled', 'discarded'))
		FROM river_job j WHERE j.args->>'backfill_id' = $1::bigint::text`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		*plan = append(*plan, line)
	}
	return rows.Err()
}
