package main

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeSystem is a clock the test moves and timers it fires, so a watch
// runs step by step without a real second passing.
type fakeSystem struct {
	mu       sync.Mutex
	now      time.Time
	terminal bool
	// timers receives each timer the watcher starts; buffered so that
	// the watcher reaches its select (and sees a Ctrl-C) on its own.
	timers chan chan time.Time
}

func newFakeSystem(terminal bool) *fakeSystem {
	return &fakeSystem{now: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), terminal: terminal, timers: make(chan chan time.Time, 1)}
}

func (f *fakeSystem) system() system {
	return system{
		now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.now
		},
		isTerminal: func(io.Writer) bool { return f.terminal },
		after: func(time.Duration) <-chan time.Time {
			c := make(chan time.Time, 1)
			f.timers <- c
			return c
		},
	}
}

// tick waits for the watcher to start its timer, moves the clock by d and
// fires the timer. The watcher reads the clock only before it starts a
// timer, so the move never lands in the middle of one round.
func (f *fakeSystem) tick(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case c := <-f.timers:
		c <- f.advance(d)
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher started no timer")
	}
}

// advance moves the clock by d and returns the new time.
func (f *fakeSystem) advance(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	return f.now
}

// writes is stdout as a channel: one element per Write, which is one
// Fprintf of the command.
type writes chan string

func (w writes) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

func (w writes) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-w:
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("nothing more was printed")
		return ""
	}
}

// startWait runs `backfill --wait` over three days in windows of a day,
// on fs, and returns what it prints and its result once it ends.
func (b *testBundle) startWait(t *testing.T, ctx context.Context, fs *fakeSystem) (writes, <-chan error) {
	t.Helper()
	out := make(writes, 16)
	done := make(chan error, 1)
	go func() {
		done <- runOn(ctx, fs.system(), []string{"enqueue", "backfill", "--tenant", "Main Street Auto", "--wait",
			"--since", "2024-01-01T00:00:00Z", "--until", "2024-01-04T00:00:00Z"},
			func(k string) string { return b.env[k] }, out, io.Discard)
	}()
	require.Contains(t, out.next(t), "inserted 3 poll_crm jobs for tenant Main Street Auto")
	require.Equal(t, "watching backfill 1 (Ctrl-C stops the watching, not the backfill)\n", out.next(t))
	return out, done
}

// finishWindows moves n of the backfill's waiting jobs to state, as a
// worker would leave them, and counts leads found for each completed one
// as its poll would.
func (b *testBundle) finishWindows(t *testing.T, backfillID int64, state string, n, leads int) {
	t.Helper()
	ctx := context.Background()
	tag, err := b.owner.Exec(ctx, `
		UPDATE river_job SET state = $1::text::river_job_state, finalized_at = now()
		WHERE id IN (SELECT id FROM river_job WHERE args->>'backfill_id' = $2::bigint::text AND state = 'available' ORDER BY id LIMIT $3)`,
		state, backfillID, n)
	require.NoError(t, err)
	require.EqualValues(t, n, tag.RowsAffected())
	if state == "completed" {
		_, err = b.owner.Exec(ctx, `UPDATE backfills SET leads_found = leads_found + $2 WHERE id = $1`, backfillID, n*leads)
		require.NoError(t, err)
	}
}

func requireDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the command did not end")
	}
}

func TestBackfillWait(t *testing.T) {
	t.Parallel()

	t.Run("PlainLines", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		fs := newFakeSystem(false)
		out, done := b.startWait(t, context.Background(), fs)
		require.Equal(t, "backfill 1: running: 0 of 3 windows done, 0 leads found, time left unknown\n", out.next(t))

		b.finishWindows(t, 1, "completed", 2, 4)
		// A second later: no line yet (one every 10 s); at 10 s, the
		// next, with the rate since the backfill started.
		fs.tick(t, time.Second)
		fs.tick(t, 9*time.Second)
		require.Equal(t, "backfill 1: running: 2 of 3 windows done, 8 leads found, 0.20 windows/s, about 5s left\n", out.next(t))

		// The last window is discarded: a line at once, naming where to look.
		b.finishWindows(t, 1, "discarded", 1, 0)
		fs.tick(t, time.Second)
		require.Equal(t, "backfill 1: some windows failed: 1 of 3 (see them in River UI: Jobs, Discarded, kind poll_crm, "+
			`args "backfill_id": 1); 3 of 3 windows done, 8 leads found`+"\n", out.next(t))
		requireDone(t, done)
	})

	t.Run("TerminalBar", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		fs := newFakeSystem(true)
		out, done := b.startWait(t, context.Background(), fs)
		require.Equal(t, "\r\x1b[K[------------------------] 0/3 windows, 0 leads, time left unknown", out.next(t))

		b.finishWindows(t, 1, "completed", 1, 5)
		fs.tick(t, 3*time.Second)
		require.Equal(t, "\r\x1b[K[########----------------] 1/3 windows, 5 leads, 0.33 windows/s, about 6s left", out.next(t))

		b.finishWindows(t, 1, "completed", 2, 0)
		fs.tick(t, time.Second)
		require.Equal(t, "\r\x1b[K", out.next(t), "the bar is cleared")
		require.Equal(t, "backfill 1: done: 3 of 3 windows done, 5 leads found\n", out.next(t))
		requireDone(t, done)
	})

	t.Run("CtrlCStopsWatchingOnly", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		tenant := b.addTenant(t, "Main Street Auto")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out, done := b.startWait(t, ctx, newFakeSystem(false))
		require.Contains(t, out.next(t), "running: 0 of 3 windows done")

		cancel()
		require.Equal(t, "stopped watching; backfill 1 keeps running (see `enqueue backfill status --tenant "+tenant.ID.String()+"`)\n", out.next(t))
		requireDone(t, done)
		var waiting int
		require.NoError(t, b.owner.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE args->>'backfill_id' = '1' AND state = 'available'`).Scan(&waiting))
		require.Equal(t, 3, waiting, "the backfill's jobs are still there to run")
	})
}

func TestBackfillStatus(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.addTenant(t, "Main Street Auto")
	other := b.addTenant(t, "Elm Street Tires")
	fs := newFakeSystem(false)
	runAt := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		require.NoError(t, runOn(context.Background(), fs.system(), append([]string{"enqueue"}, args...),
			func(k string) string { return b.env[k] }, &out, io.Discard))
		return out.String()
	}
	require.Equal(t, "tenant Main Street Auto has no backfills\n", runAt("backfill", "status", "--tenant", "Main Street Auto"))

	backfill := func(tenant, since, until, window string) {
		t.Helper()
		require.Contains(t, runAt("backfill", "--tenant", tenant, "--since", since, "--until", until, "--window", window), "inserted")
	}
	backfill("Main Street Auto", "2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z", "24h") // 1: done
	backfill("Main Street Auto", "2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z", "6h")  // 2: a window failed
	backfill(other.Name, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "24h")         // 3: not Main Street's
	backfill("Main Street Auto", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", "12h") // 4: running
	b.finishWindows(t, 1, "completed", 2, 3)
	b.finishWindows(t, 2, "completed", 3, 1)
	b.finishWindows(t, 2, "discarded", 1, 0)
	b.finishWindows(t, 3, "completed", 1, 9)
	b.finishWindows(t, 4, "completed", 1, 2)

	fs.advance(20 * time.Second)
	got := runAt("backfill", "status", "--tenant", "Main Street Auto")
	require.Equal(t, strings.Join([]string{
		// Times in the tenant's zone (America/Chicago); all four were
		// started at the same instant of the fake clock.
		"backfill 4: 2024-02-29T18:00:00-06:00 to 2024-03-01T18:00:00-06:00, window 12h0m0s, started 2026-03-02T09:00:00-06:00: " +
			"running: 1 of 2 windows done, 2 leads found, 0.05 windows/s, about 20s left",
		"backfill 2: 2024-01-31T18:00:00-06:00 to 2024-02-01T18:00:00-06:00, window 6h0m0s, started 2026-03-02T09:00:00-06:00: " +
			`some windows failed: 1 of 4 (see them in River UI: Jobs, Discarded, kind poll_crm, args "backfill_id": 2); 4 of 4 windows done, 3 leads found`,
		"backfill 1: 2023-12-31T18:00:00-06:00 to 2024-01-02T18:00:00-06:00, window 24h0m0s, started 2026-03-02T09:00:00-06:00: " +
			"done: 2 of 2 windows done, 6 leads found",
		"",
	}, "\n"), got)
}
