package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// TestFleetStats: the figures /metrics exports come out right as the
// application role, across tenants, through row-level security.
func TestFleetStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	owner := b.db.Owner

	// Tenant a: one lead with an ambiguous text, a pending email and an
	// old and a new failed text; its latest live poll failed (an earlier
	// one completed) and its CRM refused its key. Tenant b: all well,
	// polled up to 10 minutes ago.
	leadID, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
	require.NoError(t, err)
	for i, row := range []struct{ step, channel, status, updated string }{
		{"s1", "sms", "ambiguous", "now()"},
		{"s2", "email", "pending", "now()"},
		{"s3", "sms", "failed", "now() - interval '1 hour'"},
		{"s4", "sms", "failed", "now() - interval '25 hours'"},
		{"s5", "sms", "sent", "now()"},
	} {
		_, err := owner.Exec(ctx, `INSERT INTO messages (tenant_id, lead_id, step, channel, to_address, body, status, updated_at)
			VALUES ($1, $2, $3, $4, 'x', 'body', $5, `+row.updated+`)`, b.a.ID, leadID, row.step, row.channel, row.status)
		require.NoError(t, err, "row %d", i)
	}
	for i, run := range []struct {
		tenant                     any
		kind, queue, outcome, when string
	}{
		{b.a.ID, "poll_crm", "crm", "completed", "now() - interval '2 minutes'"},
		{b.a.ID, "poll_crm", "crm", "error", "now() - interval '1 minute'"},
		{b.a.ID, "poll_crm", "crm_backfill", "completed", "now()"}, // a backfill's poll says nothing of live polls
		{b.b.ID, "poll_crm", "crm", "completed", "now()"},
		{nil, "schedule_polls", "bookkeeping", "completed", "now() - interval '30 seconds'"},
		{nil, "schedule_polls", "bookkeeping", "error", "now()"},
	} {
		_, err := owner.Exec(ctx, `INSERT INTO job_executions (job_id, run, attempt, kind, queue, tenant_id, outcome, started_at, finished_at)
			VALUES ($1, 1, 1, $2, $3, $4, $5, `+run.when+`, `+run.when+`)`, i+1, run.kind, run.queue, run.tenant, run.outcome)
		require.NoError(t, err, "run %d", i)
	}
	_, err = owner.Exec(ctx, `UPDATE tenants SET needs_attention = (id = $1),
		poll_cursor = CASE WHEN id = $1 THEN now() - interval '1 hour' ELSE now() - interval '10 minutes' END`, b.a.ID)
	require.NoError(t, err)
	_, err = owner.Exec(ctx, `INSERT INTO river_job (kind, args, queue, state, priority, scheduled_at, max_attempts) VALUES
		('send_sms', '{}', 'sms', 'available', 2, now() - interval '100 seconds', 5),
		('send_sms', '{}', 'sms', 'available', 1, now() - interval '5 seconds', 5),
		('send_sms', '{}', 'sms', 'scheduled', 1, now() + interval '1 hour', 5),
		('send_email', '{}', 'email', 'retryable', 1, now() + interval '1 minute', 5)`)
	require.NoError(t, err)

	fs, err := store.New(b.db.App).FleetStats(ctx, []string{"sms", "email", "crm"})
	require.NoError(t, err)

	require.Len(t, fs.Queues, 3)
	sms, email, crm := fs.Queues[0], fs.Queues[1], fs.Queues[2]
	require.Equal(t, [4]int64{2, 1, 0}, [4]int64{sms.Available, sms.Scheduled, sms.Retryable})
	require.InDelta(t, 100, sms.OldestAvailableAge.Seconds(), 5, "the oldest is the lower priority's")
	require.Equal(t, [4]int64{0, 0, 1}, [4]int64{email.Available, email.Scheduled, email.Retryable})
	require.Zero(t, email.OldestAvailableAge)
	require.Equal(t, store.QueueDepth{Queue: "crm"}, crm)

	require.ElementsMatch(t, []store.OutboxCount{
		{Channel: "sms", Status: "ambiguous", Messages: 1},
		{Channel: "email", Status: "pending", Messages: 1},
		{Channel: "sms", Status: "failed", Messages: 1},
	}, fs.Outbox, "sent rows are not counted, nor failures older than a day")

	require.Len(t, fs.Tenants, 2)
	byID := map[any]store.TenantStats{}
	for _, ts := range fs.Tenants {
		byID[ts.TenantID] = ts
	}
	a, bb := byID[b.a.ID], byID[b.b.ID]
	require.Equal(t, "shopmonkey", a.CRMKind)
	require.True(t, a.Enabled)
	require.InDelta(t, time.Hour.Seconds(), a.PollLag.Seconds(), 5)
	require.True(t, a.PollFailing, "its latest live poll failed")
	require.True(t, a.CredentialsRejected)
	require.True(t, a.AmbiguousMessages)
	require.InDelta(t, (10 * time.Minute).Seconds(), bb.PollLag.Seconds(), 5)
	require.False(t, bb.PollFailing || bb.CredentialsRejected || bb.AmbiguousMessages)

	require.WithinDuration(t, fs.ReadAt.Add(-30*time.Second), fs.LastPollSchedule, 5*time.Second,
		"the last completed round, not the failed one after it")
}

// TestFleetStatsAtAMillionJobs: the queue figures are scraped every 15 s
// by every replica, so they must not read the whole of river_job. With a
// million rows (70% completed, as River keeps finished jobs for a day, and
// 200,000 available) the plan uses no sequential scan of river_job, and
// the oldest available job is found even when it is not in the first
// priority.
func TestFleetStatsAtAMillionJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	owner := b.db.Owner

	// Only to load faster: indexes the queue figures cannot use are
	// dropped (they give the planner no alternative to a sequential scan,
	// so the plan is the one a full set of indexes would get), and the
	// table skips the WAL (which changes no plan).
	_, err := owner.Exec(ctx, `DROP INDEX river_job_args_index, river_job_metadata_index, river_job_kind, river_job_backfill_idx;
		ALTER TABLE river_job SET UNLOGGED`)
	require.NoError(t, err)
	start := time.Now()
	_, err = owner.Exec(ctx, `
		INSERT INTO river_job (kind, args, queue, state, priority, scheduled_at, finalized_at, max_attempts)
		SELECT 'send_sms', '{}', (ARRAY['crm', 'crm_backfill', 'sms', 'email', 'bookkeeping'])[1 + (i / 20) % 5],
			s.state, 1 + (i / 100) % 4,
			CASE WHEN s.state = 'scheduled' THEN now() + interval '1 hour' ELSE now() - make_interval(secs => i % 3600) END,
			CASE WHEN s.state = 'completed' THEN now() END, 5
		FROM generate_series(1, 1000000) AS i,
		LATERAL (SELECT (CASE WHEN i % 10 < 7 THEN 'completed' WHEN i % 10 < 9 THEN 'available'
			WHEN i % 20 = 9 THEN 'scheduled' ELSE 'retryable' END)::river_job_state AS state) AS s`)
	require.NoError(t, err)
	// The oldest available job of sms waits in priority 3.
	_, err = owner.Exec(ctx, `INSERT INTO river_job (kind, args, queue, state, priority, scheduled_at, max_attempts)
		VALUES ('send_sms', '{}', 'sms', 'available', 3, now() - interval '2 hours', 5)`)
	require.NoError(t, err)
	_, err = owner.Exec(ctx, `VACUUM ANALYZE river_job`)
	require.NoError(t, err)
	t.Logf("loaded 1,000,001 river_job rows and vacuumed in %s", time.Since(start).Round(time.Millisecond))

	queues := []string{"crm", "crm_backfill", "sms", "email", "bookkeeping"}
	var plan []byte
	require.NoError(t, b.db.App.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+store.QueueDepthSQL(), queues).Scan(&plan))
	var tree any
	require.NoError(t, json.Unmarshal(plan, &tree))
	scans := map[string]bool{}
	for _, node := range planNodes(tree) {
		if node["Relation Name"] == "river_job" {
			scans[node["Node Type"].(string)+" using "+fmt.Sprint(node["Index Name"])] = true
		}
		require.False(t, node["Node Type"] == "Seq Scan" && node["Relation Name"] == "river_job",
			"a sequential scan of river_job in the plan:\n%s", plan)
	}

	t.Logf("river_job is read by: %v", scans)

	st := store.New(b.db.App)
	_, err = st.FleetStats(ctx, queues) // warm the pool and the cache
	require.NoError(t, err)
	const reads = 5
	start = time.Now()
	var fs store.FleetStats
	for range reads {
		fs, err = st.FleetStats(ctx, queues)
		require.NoError(t, err)
	}
	t.Logf("FleetStats over 1,000,001 river_job rows (200,001 available): %s per read (mean of %d)",
		(time.Since(start) / reads).Round(100*time.Microsecond), reads)

	var want int64
	require.NoError(t, owner.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'available' AND queue = 'sms'`).Scan(&want))
	for _, q := range fs.Queues {
		if q.Queue == "sms" {
			require.Equal(t, want, q.Available)
			require.InDelta(t, (2 * time.Hour).Seconds(), q.OldestAvailableAge.Seconds(), 10)
			require.Positive(t, q.Retryable)
			require.Positive(t, q.Scheduled)
		}
	}
}

// planNodes flattens an EXPLAIN (FORMAT JSON) tree into its plan nodes.
func planNodes(v any) []map[string]any {
	var out []map[string]any
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			out = append(out, planNodes(e)...)
		}
	case map[string]any:
		if _, ok := v["Node Type"]; ok {
			out = append(out, v)
		}
		for _, e := range v {
			out = append(out, planNodes(e)...)
		}
	}
	return out
}

// TestFleetOutboxReadsOnlyOpenMessages: the outbox figures are read by
// every replica every metrics.database_stats_interval, and almost every
// message is long sent. Each branch of leadorch_fleet_outbox's body (the
// function as the database has it) reads a partial index, never the
// table, with 200,000 sent messages; and the counts are right.
func TestFleetOutboxReadsOnlyOpenMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	owner := b.db.Owner

	leadID, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
	require.NoError(t, err)
	_, err = owner.Exec(ctx, `
		INSERT INTO messages (tenant_id, lead_id, step, channel, to_address, body, status, updated_at)
		SELECT $1, $2, 'step-' || i, (ARRAY['sms', 'email'])[1 + i % 2], 'x', 'body',
			CASE WHEN i <= 3 THEN 'pending' WHEN i <= 5 THEN 'sending' WHEN i <= 6 THEN 'ambiguous'
				WHEN i <= 8 THEN 'failed' ELSE 'sent' END, now()
		FROM generate_series(1, 200000) AS i`, b.a.ID, leadID)
	require.NoError(t, err)
	_, err = owner.Exec(ctx, `VACUUM ANALYZE messages`)
	require.NoError(t, err)

	var body string
	require.NoError(t, owner.QueryRow(ctx, `SELECT prosrc FROM pg_proc WHERE proname = 'leadorch_fleet_outbox'`).Scan(&body))
	var plan []byte
	require.NoError(t, owner.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+strings.ReplaceAll(body, "failed_since", "$1::timestamptz"),
		time.Now().Add(-store.FailedWindow)).Scan(&plan))
	var tree any
	require.NoError(t, json.Unmarshal(plan, &tree))
	indexes := map[string]bool{}
	for _, node := range planNodes(tree) {
		if node["Relation Name"] != "messages" {
			continue
		}
		require.NotEqual(t, "Seq Scan", node["Node Type"], "leadorch_fleet_outbox reads the whole of messages:\n%s", plan)
		indexes[fmt.Sprint(node["Index Name"])] = true
	}
	require.Equal(t, map[string]bool{"messages_unsettled_idx": true, "messages_ambiguous_idx": true, "messages_failed_idx": true}, indexes,
		"each branch reads its own partial index:\n%s", plan)

	fs, err := store.New(b.db.App).FleetStats(ctx, nil)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, o := range fs.Outbox {
		got[o.Channel+"/"+o.Status] = o.Messages
	}
	require.Equal(t, map[string]int64{"email/pending": 2, "sms/pending": 1, "email/sending": 1, "sms/sending": 1,
		"sms/ambiguous": 1, "email/failed": 1, "sms/failed": 1}, got)
}
