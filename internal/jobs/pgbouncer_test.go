package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// TestPipelineThroughPgBouncer runs the whole path of a lead with two
// replicas whose only way to Postgres is a real PgBouncer in transaction
// pooling mode, configured as the README says: River polling instead of
// LISTEN, pgx in exec mode (Debian's PgBouncer 1.18 has no prepared
// statements), the application role under row-level security. N leads in
// the CRM become N texts and N emails at the providers, each exactly once,
// and every run of every job is recorded, while the replicas' 20 client
// connections share a handful of server connections.
func TestPipelineThroughPgBouncer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewApp(t)
	bouncer := testdb.StartPgBouncer(t, db.AppURL, testdb.PgBouncerOpts{PoolSize: 4})
	pooled, err := store.NewPool(ctx, bouncer.URL(db.AppURL), store.PoolOpts{MaxConns: 10, QueryExecMode: "exec"})
	require.NoError(t, err)
	t.Cleanup(pooled.Close)
	var dbName string
	require.NoError(t, db.Owner.QueryRow(ctx, `SELECT current_database()`).Scan(&dbName))

	b := setupOn(t, db, pooled)
	shop := b.addShop(t, "birch")
	const total = 40
	b.addLeads(t, shop, total)

	opts := jobs.ClientOpts{ScheduleInterval: time.Second, PollOnly: true}
	b.startClient(t, opts)
	b.startClient(t, opts)

	// The application's sessions on Postgres are PgBouncer's server
	// connections: never more than its pool, however many clients.
	maxServerConns := 0
	serverConns := func() int {
		n := b.count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND usename = $2`, dbName, testdb.AppRole)
		maxServerConns = max(maxServerConns, n)
		return n
	}
	require.Eventually(t, func() bool {
		serverConns()
		st := b.sandbox.Stats()
		return st.SMS >= total && st.Emails >= total
	}, 60*time.Second, 50*time.Millisecond, "texts and emails for %d leads; pgbouncer's log:\n%s", total, bouncer.Log())

	// Let two more scheduled polls overlap the same window and what they
	// found run to the end: only then can a duplicate be ruled out.
	var mark int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM river_job`).Scan(&mark))
	require.Eventually(t, func() bool {
		serverConns()
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'poll_crm' AND state = 'completed' AND id > $1`, mark) >= 2
	}, 30*time.Second, 50*time.Millisecond, "two more scheduled polls")
	b.settled(t, "schedule_polls", "poll_crm", "ingest_lead", "send_sms", "send_email")

	require.Equal(t, total, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
	st := b.sandbox.Stats()
	require.Equal(t, total, st.SMS, "texts at Twilio")
	require.Equal(t, total, st.Emails, "emails at SendGrid")
	texts := map[string]int{}
	for _, m := range b.sandbox.Twilio.Messages() {
		texts[m.To]++
	}
	require.Len(t, texts, total, "one text to each lead's own number")
	emails := map[string]int{}
	for _, e := range b.sandbox.SendGrid.Emails() {
		require.Equal(t, shop.ID.String(), e.CustomArgs["tenant_id"])
		emails[e.To]++
	}
	require.Len(t, emails, total, "one email to each lead's own address")
	require.Equal(t, 2*total, b.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND status = 'sent' AND provider_id IS NOT NULL`, shop.ID))

	// Every run recorded, nothing failed on the way.
	require.Zero(t, b.unrecordedRuns(t))
	for _, kind := range []string{"schedule_polls", "poll_crm", "ingest_lead", "send_sms", "send_email"} {
		require.Positive(t, b.count(t, `SELECT count(*) FROM job_executions WHERE kind = $1`, kind), kind)
	}
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE state IN ('retryable', 'discarded', 'cancelled')`))
	require.Zero(t, b.count(t, `SELECT count(*) FROM job_executions WHERE outcome <> 'completed'`))

	// Only through the pooler: its pool bounds the app's sessions.
	require.Positive(t, maxServerConns)
	require.LessOrEqual(t, maxServerConns, bouncer.PoolSize, "the app's sessions on Postgres")
}
