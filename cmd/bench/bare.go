package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// noopArgs is the bare River job: it does nothing, so its rate is what
// River and Postgres alone allow on this machine.
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench_noop" }

func (noopArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: "bench"} }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// bareResult is the bare River rate.
type bareResult struct {
	Jobs          int     `json:"jobs"`
	MaxWorkers    int     `json:"max_workers"`
	FetchCooldown string  `json:"fetch_cooldown"`
	FetchPoll     string  `json:"fetch_poll_interval"`
	MaxConns      int     `json:"max_conns"`
	Seconds       float64 `json:"seconds"`
	JobsPerSec    float64 `json:"jobs_per_sec"`
	InsertPerSec  float64 `json:"insert_many_fast_jobs_per_sec"`
}

// runBare inserts the no-op jobs with InsertManyFast, then starts a River
// client with the workers' fetch settings and times it from Start until
// the last completion event.
func (b *bench) runBare(ctx context.Context, res *results) error {
	const dbName = "bench_bare"
	w := b.o.worker
	maxWorkers := b.o.bareWorkers
	if maxWorkers == 0 {
		maxWorkers = w.largestQueue()
	}
	b.say("bare River: %d no-op jobs, MaxWorkers %d, fetch cooldown %s, poll %s ...", b.o.bareJobs, maxWorkers, w.FetchCooldown, w.FetchPollInterval)
	if _, err := b.db.clone(ctx, dbName); err != nil {
		return err
	}
	defer b.db.drop(dbName)
	pool, err := b.db.pool(ctx, dbName, int32(w.MaxConns))
	if err != nil {
		return err
	}
	defer pool.Close()

	workers := river.NewWorkers()
	river.AddWorker(workers, &noopWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:            map[string]river.QueueConfig{"bench": {MaxWorkers: maxWorkers}},
		Workers:           workers,
		FetchCooldown:     w.FetchCooldown,
		FetchPollInterval: w.FetchPollInterval,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}

	insertTook, err := insertNoops(ctx, client, b.o.bareJobs)
	if err != nil {
		return err
	}

	// A buffer for every event: a full subscription channel drops events.
	events, cancelSub := client.SubscribeConfig(&river.SubscribeConfig{ChanSize: b.o.bareJobs, Kinds: []river.EventKind{river.EventKindJobCompleted}})
	defer cancelSub()
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}()
	last, err := awaitNoops(ctx, events, b.o.bareJobs)
	if err != nil {
		return err
	}
	took := last.Sub(start)
	r := &bareResult{
		Jobs: b.o.bareJobs, MaxWorkers: maxWorkers, FetchCooldown: w.FetchCooldown.String(), FetchPoll: w.FetchPollInterval.String(),
		MaxConns: w.MaxConns, Seconds: took.Seconds(), JobsPerSec: float64(b.o.bareJobs) / took.Seconds(),
		InsertPerSec: float64(b.o.bareJobs) / insertTook.Seconds(),
	}
	res.Bare = r
	b.say("bare River: %.0f jobs/s (%d jobs in %.2fs); InsertManyFast %.0f jobs/s", r.JobsPerSec, r.Jobs, r.Seconds, r.InsertPerSec)
	return nil
}

// insertNoops inserts n no-op jobs with InsertManyFast, in batches, and
// says how long that took.
func insertNoops(ctx context.Context, client *river.Client[pgx.Tx], n int) (time.Duration, error) {
	insertStart := time.Now()
	const batch = 10_000
	params := make([]river.InsertManyParams, 0, batch)
	for first := 0; first < n; first += batch {
		params = params[:0]
		for i := first; i < min(first+batch, n); i++ {
			params = append(params, river.InsertManyParams{Args: noopArgs{N: i}})
		}
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			return 0, fmt.Errorf("error inserting no-op jobs: %w", err)
		}
	}
	return time.Since(insertStart), nil
}

// awaitNoops waits for n completion events, for at most 5 minutes, and
// returns when the last one came.
func awaitNoops(ctx context.Context, events <-chan *river.Event, n int) (time.Time, error) {
	timeout := time.After(5 * time.Minute)
	var last time.Time
	for done := 0; done < n; {
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-timeout:
			return time.Time{}, fmt.Errorf("only %d of %d no-op jobs completed in 5 minutes", done, n)
		case ev := <-events:
			if ev == nil {
				return time.Time{}, fmt.Errorf("subscription closed after %d jobs", done)
			}
			done++
			last = time.Now()
		}
	}
	return last, nil
}
