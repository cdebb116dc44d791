package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
)

func TestBackfill(t *testing.T) {
	t.Parallel()

	// requireWindows checks that the jobs cover [since, until) with
	// contiguous windows of size (the last one possibly shorter).
	requireWindows := func(t *testing.T, got []jobs.PollCRMArgs, since, until time.Time, size time.Duration) {
		t.Helper()
		require.NotEmpty(t, got)
		require.True(t, got[0].Since.Equal(since), "first window starts at %s, want %s", got[0].Since, since)
		require.True(t, got[len(got)-1].Until.Equal(until), "last window ends at %s, want %s", got[len(got)-1].Until, until)
		for i, a := range got {
			require.True(t, a.Since.Before(a.Until), "window %d is empty", i)
			require.LessOrEqual(t, a.Until.Sub(a.Since), size, "window %d", i)
			if i < len(got)-1 {
				require.Equal(t, size, a.Until.Sub(a.Since), "only the last window may be shorter (window %d)", i)
				require.True(t, a.Until.Equal(got[i+1].Since), "window %d ends at %s, window %d starts at %s", i, a.Until, i+1, got[i+1].Since)
			}
		}
	}

	t.Run("ThirtyDays", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		tenant := b.addTenant(t, "Main Street Auto")
		stdout, _, err := b.run(t, "backfill", "--tenant", "Main Street Auto",
			"--since", "2024-01-01T00:00:00Z", "--until", "2024-01-31T00:00:00Z", "--window", "24h")
		require.NoError(t, err)
		require.Contains(t, stdout, "inserted 30 poll_crm jobs for tenant Main Street Auto")
		require.Contains(t, stdout, "jobs/s")
		require.Contains(t, stdout, "backfill 1: see its progress with `enqueue backfill status --tenant "+tenant.ID.String()+"`")

		got := jobArgs[jobs.PollCRMArgs](t, b, "poll_crm")
		require.Len(t, got, 30)
		requireWindows(t, got, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC), 24*time.Hour)
		for _, a := range got {
			require.Equal(t, tenant.ID, a.TenantID)
			require.False(t, a.Live)
			require.False(t, a.SendMessages)
			require.EqualValues(t, 1, a.BackfillID, "each job names its backfill")
		}

		// Historic polls run in their own queue, never taking a worker
		// that a live lead is waiting for.
		var queue string
		var priority, distinct int
		require.NoError(t, b.owner.QueryRow(context.Background(),
			`SELECT min(queue), min(priority), count(DISTINCT args->>'since') FROM river_job WHERE kind = 'poll_crm'`).Scan(&queue, &priority, &distinct))
		require.Equal(t, jobs.QueueCRMBackfill, queue)
		require.Equal(t, 4, priority)
		require.Equal(t, 30, distinct)
	})

	t.Run("SendMessages", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		_, _, err := b.run(t, "backfill", "--tenant", "Main Street Auto", "--send-messages",
			"--since", "2024-01-01T00:00:00Z", "--until", "2024-01-04T00:00:00Z")
		require.NoError(t, err)
		got := jobArgs[jobs.PollCRMArgs](t, b, "poll_crm")
		require.Len(t, got, 3)
		for _, a := range got {
			require.True(t, a.SendMessages)
			require.False(t, a.Live)
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		stdout, _, err := b.run(t, "backfill", "--tenant", "Main Street Auto", "--dry-run",
			"--since", "2024-01-01T00:00:00Z", "--until", "2024-01-31T00:00:00Z")
		require.NoError(t, err)
		require.Contains(t, stdout, "would insert 30 poll_crm jobs")
		// Shown in the tenant's time zone (America/Chicago).
		require.Contains(t, stdout, "first window: 2023-12-31T18:00:00-06:00 to 2024-01-01T18:00:00-06:00")
		require.Contains(t, stdout, "last window:  2024-01-29T18:00:00-06:00 to 2024-01-30T18:00:00-06:00")
		require.Empty(t, jobArgs[jobs.PollCRMArgs](t, b, "poll_crm"))
	})

	t.Run("BareDatesAreTenantMidnight", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		_, _, err := b.run(t, "backfill", "--tenant", "Main Street Auto", "--since", "2024-03-01", "--until", "2024-03-02", "--window", "10h")
		require.NoError(t, err)
		got := jobArgs[jobs.PollCRMArgs](t, b, "poll_crm")
		chicago, err := time.LoadLocation("America/Chicago")
		require.NoError(t, err)
		// 24 hours in windows of 10: 10, 10 and a last one of 4.
		require.Len(t, got, 3)
		requireWindows(t, got, time.Date(2024, 3, 1, 0, 0, 0, 0, chicago), time.Date(2024, 3, 2, 0, 0, 0, 0, chicago), 10*time.Hour)
		require.Equal(t, 4*time.Hour, got[2].Until.Sub(got[2].Since))
	})

	t.Run("UntilDefaultsToNow", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		before := time.Now()
		_, _, err := b.run(t, "backfill", "--tenant", "Main Street Auto", "--since", before.Add(-5*time.Hour).Format(time.RFC3339Nano), "--window", "2h")
		require.NoError(t, err)
		got := jobArgs[jobs.PollCRMArgs](t, b, "poll_crm")
		// 2h, 2h, and the last a little over 1h: from the start to now.
		require.Len(t, got, 3)
		last := got[len(got)-1].Until
		require.False(t, last.Before(before))
		require.False(t, last.After(time.Now()))
	})

	t.Run("ManyBatches", func(t *testing.T) {
		t.Parallel()

		// 8 days of one-minute windows is 11,520 jobs: more than one COPY
		// batch, all in one transaction.
		b := setup(t)
		tenant := b.addTenant(t, "Main Street Auto")
		since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		until := since.Add(8 * 24 * time.Hour)
		stdout, stderr, err := b.run(t, "backfill", "--tenant", tenant.ID.String(), "--window", "1m",
			"--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339))
		require.NoError(t, err)
		require.Greater(t, 8*24*60, backfillBatch)
		require.Contains(t, stdout, "inserted 11520 poll_crm jobs")
		require.Contains(t, stderr, "inserted 11520 of 11520 jobs")

		var n, distinct int
		var first, last time.Time
		require.NoError(t, b.owner.QueryRow(context.Background(), `
			SELECT count(*), count(DISTINCT args->>'since'), min((args->>'since')::timestamptz), max((args->>'until')::timestamptz)
			FROM river_job WHERE kind = 'poll_crm'`).Scan(&n, &distinct, &first, &last))
		require.Equal(t, 11520, n)
		require.Equal(t, 11520, distinct)
		require.True(t, first.Equal(since))
		require.True(t, last.Equal(until))
	})
}

func TestBackfillWindows(t *testing.T) {
	t.Parallel()

	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		length    time.Duration
		size      time.Duration
		wantCount int
		wantLast  time.Duration
	}{
		{"Exact", 48 * time.Hour, 24 * time.Hour, 2, 24 * time.Hour},
		{"ShorterLast", 25 * time.Hour, 24 * time.Hour, 2, time.Hour},
		{"OneShortWindow", time.Minute, 24 * time.Hour, 1, time.Minute},
		// 2024 and 2028 are leap years: 1,827 days.
		{"FiveYearsOfMinutes", since.AddDate(5, 0, 0).Sub(since), time.Minute, 1827 * 24 * 60, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			w := backfillWindows{since: since, until: since.Add(tt.length), size: tt.size}
			require.Equal(t, tt.wantCount, w.count())
			s, u := w.at(w.count() - 1)
			require.Equal(t, tt.wantLast, u.Sub(s))
			require.True(t, u.Equal(since.Add(tt.length)))
		})
	}
}
