package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
)

// scriptArgs is a job that behaves as its script says on each run, so the
// recorder can be seen on every outcome.
type scriptArgs struct {
	Script []string `json:"script"`
}

func (scriptArgs) Kind() string { return "test_script" }

type scriptWorker struct {
	river.WorkerDefaults[scriptArgs]
}

func (w *scriptWorker) Timeout(*river.Job[scriptArgs]) time.Duration { return 200 * time.Millisecond }

func (w *scriptWorker) NextRetry(*river.Job[scriptArgs]) time.Time { return time.Now() }

func (w *scriptWorker) Work(ctx context.Context, job *river.Job[scriptArgs]) error {
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &meta)
	step := job.Args.Script[job.Attempt+meta.Snoozes-1]
	switch step {
	case "panic":
		panic("boom")
	case "error":
		return errors.New("transient trouble")
	case "snooze":
		return river.JobSnooze(10 * time.Millisecond)
	case "cancel":
		return river.JobCancel(errors.New("bad input: field x is empty"))
	case "panic-leak":
		panic("cannot text " + leakedPhone)
	case "leak":
		return fmt.Errorf("error sending sms to %s: The 'To' number %s is not valid; cc %s", leakedPhone, leakedPhone, leakedEmail)
	case "leak-cancel":
		return river.JobCancel(fmt.Errorf("email to %s failed for good: bounce", leakedEmail))
	case "timeout", "block":
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// scriptClient starts a client with the script worker and the recorder.
func scriptClient(t *testing.T, b *testBundle) *river.Client[pgx.Tx] {
	t.Helper()
	workers := jobs.NewWorkers(b.deps)
	river.AddWorker(workers, &scriptWorker{})
	client, err := river.NewClient(riverpgxv5.New(b.deps.Pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 5}, jobs.QueueBookkeeping: {MaxWorkers: 5}},
		Workers:           workers,
		Middleware:        []rivertype.Middleware{jobs.NewExecutionRecorder(b.deps)},
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            b.deps.Logger,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() { _ = client.StopAndCancel(context.Background()) })
	return client
}

func TestExecutionRecorder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	client := scriptClient(t, b)

	for _, tc := range []struct {
		script []string
		want   string
	}{
		{[]string{"ok"}, "[completed]"},
		{[]string{"error", "ok"}, "[error completed]"},
		{[]string{"panic", "ok"}, "[panic completed]"},
		{[]string{"snooze", "snooze", "ok"}, "[snoozed snoozed completed]"},
		{[]string{"cancel"}, "[cancelled]"},
		{[]string{"timeout", "ok"}, "[timeout completed]"},
	} {
		t.Run(fmt.Sprint(tc.script), func(t *testing.T) {
			t.Parallel()
			res, err := client.Insert(context.Background(), scriptArgs{Script: tc.script}, &river.InsertOpts{MaxAttempts: 5})
			require.NoError(t, err)
			waitFinal(t, client, res.Job.ID)
			require.Eventually(t, func() bool { return fmt.Sprint(b.outcomes(t, res.Job.ID)) == tc.want },
				10*time.Second, 20*time.Millisecond, "got %v", b.outcomes(t, res.Job.ID))
		})
	}

	t.Run("AbandonedRunIsRecordedByTheNext", func(t *testing.T) {
		t.Parallel()
		// A run whose process died: the job was fetched (attempt 1) and
		// never finished. Simulate it by inserting the job as River leaves
		// it after a rescue: attempt 1 spent, available again.
		var id int64
		require.NoError(t, b.pool.QueryRow(context.Background(), `
			INSERT INTO river_job (args, kind, max_attempts, queue, state, attempt, priority, errors)
			VALUES ('{"script":["ok","ok"]}', 'test_script', 5, 'default', 'available', 1, 1,
				ARRAY['{"at":"2026-01-01T00:00:00Z","attempt":1,"error":"Stuck job rescued by Rescuer","trace":""}'::jsonb])
			RETURNING id`).Scan(&id))
		waitFinal(t, client, id)
		require.Eventually(t, func() bool { return fmt.Sprint(b.outcomes(t, id)) == "[abandoned completed]" },
			10*time.Second, 20*time.Millisecond, "got %v", b.outcomes(t, id))
		var msg string
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT error FROM job_executions WHERE job_id = $1 AND run = 1`, id).Scan(&msg))
		require.Contains(t, msg, "rescued")
	})

	require.Eventually(t, func() bool { return b.unrecordedRuns(t) == 0 }, 10*time.Second, 20*time.Millisecond)
}

// A customer's number and address, as a provider's error would quote them.
const (
	leakedPhone = "+15552019876"
	leakedEmail = "ann.leak@example.com"
)

// TestExecutionRecorderMasksContacts: an error that quotes a customer's
// number or address (Twilio's 21211 does), or a panic's value that does,
// is stored in river_job, in the execution row and in the record job's
// args masked, and a cancel stays a cancel.
func TestExecutionRecorderMasksContacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	client := scriptClient(t, b)
	res, err := client.Insert(ctx, scriptArgs{Script: []string{"panic-leak", "leak", "leak-cancel"}}, &river.InsertOpts{MaxAttempts: 5})
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCancelled, waitFinal(t, client, res.Job.ID).State)
	require.Eventually(t, func() bool { return fmt.Sprint(b.outcomes(t, res.Job.ID)) == "[panic error cancelled]" },
		10*time.Second, 20*time.Millisecond, "got %v", b.outcomes(t, res.Job.ID))

	var errorsText, recorded, recordArgs string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT errors::text FROM river_job WHERE id = $1`, res.Job.ID).Scan(&errorsText))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT string_agg(error, ' | ' ORDER BY run) FROM job_executions WHERE job_id = $1`, res.Job.ID).Scan(&recorded))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(string_agg(args::text, ' | '), '') FROM river_job
		WHERE kind = 'record_job_execution' AND (args->>'job_id')::bigint = $1`, res.Job.ID).Scan(&recordArgs))
	for name, text := range map[string]string{"river_job.errors": errorsText, "job_executions.error": recorded, "record args": recordArgs} {
		require.NotContains(t, text, leakedPhone, name)
		require.NotContains(t, text, "ann.leak", name)
	}
	require.Contains(t, errorsText, "+1555***9876")
	require.Contains(t, errorsText, "a***@example.com")
	require.Contains(t, recorded, "+1555***9876 is not valid")
	require.Contains(t, errorsText, "cannot text +1555***9876", "a panic's value, masked")
	require.Contains(t, errorsText, "execution_middleware_test.go", "with the original trace: the panicking worker's frame")
}

// TestExecutionRecorderInterrupted: a run cut short by its replica's
// shutdown is recorded as interrupted, and the run that finishes the job on
// another replica gets its own row (River hands an interrupted job back
// with its attempt restored, so the attempt alone would repeat).
func TestExecutionRecorderInterrupted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := scriptClient(t, b)
	res, err := first.Insert(context.Background(), scriptArgs{Script: []string{"block", "ok"}}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		job, err := first.JobGet(context.Background(), res.Job.ID)
		require.NoError(t, err)
		return job.State == rivertype.JobStateRunning
	}, 10*time.Second, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, first.StopAndCancel(ctx))

	second := scriptClient(t, b)
	job := waitFinal(t, second, res.Job.ID)
	require.Equal(t, rivertype.JobStateCompleted, job.State)
	require.Equal(t, 1, job.Attempt, "the interruption did not spend an attempt")
	require.Eventually(t, func() bool { return fmt.Sprint(b.outcomes(t, res.Job.ID)) == "[interrupted completed]" },
		10*time.Second, 20*time.Millisecond, "got %v", b.outcomes(t, res.Job.ID))
	require.Eventually(t, func() bool { return b.unrecordedRuns(t) == 0 }, 10*time.Second, 20*time.Millisecond)
}

// TestRecordForDeletedTenant: a run of a tenant deleted since is still
// recorded (as the fleet's), instead of retrying against row-level
// security until discarded.
func TestRecordForDeletedTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "gone")
	client := b.startClient(t, jobs.ClientOpts{})
	_, err := b.pool.Exec(ctx, `DELETE FROM tenants WHERE id = $1`, shop.ID)
	require.NoError(t, err)
	res, err := client.Insert(ctx, jobs.RecordJobExecutionArgs{JobID: 424242, Run: 1, Attempt: 1, JobKind: "send_sms", Queue: "sms",
		TenantID: shop.ID, Outcome: "error", Error: "boom", StartedAt: time.Now(), FinishedAt: time.Now()}, nil)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, res.Job.ID).State)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM job_executions WHERE job_id = 424242 AND tenant_id IS NULL`))
}
