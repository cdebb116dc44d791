package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

type riverpgxv5Driver = riverpgxv5.Driver

// ExecutionRecorder is River middleware that gives every run of every job
// (success, error, panic, cancel, snooze, timeout) exactly one
// job_executions row:
//
//   - a run that completes through completeTx writes its row in the step's
//     own transaction, so the record and the completion commit together;
//   - any other run (error, panic, cancel, snooze, timeout, interruption)
//     has no transaction to join: it inserts a record_job_execution job
//     after the work returns, and that job writes the row;
//   - a run whose process died left no record; the next run of the same
//     job notices the gap in run numbers and records it as abandoned.
//
// Runs are numbered by runNumber, not by attempt: River gives a snoozed or
// interrupted job its attempt back, so the attempt alone repeats.
type ExecutionRecorder struct {
	river.MiddlewareDefaults
	deps *Deps
}

// NewExecutionRecorder returns the middleware.
func NewExecutionRecorder(deps *Deps) *ExecutionRecorder { return &ExecutionRecorder{deps: deps} }

type executionKey struct{}

// execution is the run in progress, carried in the work context so that
// completeTx can record it in the step's transaction.
type execution struct {
	args       RecordJobExecutionArgs
	recordedTx bool
	// now is the Deps clock, so that the row completeTx writes is timed by
	// the same clock as the rest of the run's.
	now func() time.Time
}

// Work wraps one run.
func (r *ExecutionRecorder) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	if job.Kind == (RecordJobExecutionArgs{}).Kind() {
		return doInner(ctx)
	}
	ids := jobSubject(job.EncodedArgs)
	exec := &execution{args: RecordJobExecutionArgs{
		JobID: job.ID, Run: runNumber(job), Attempt: job.Attempt, JobKind: job.Kind, Queue: job.Queue,
		TenantID: ids.TenantID, LeadID: ids.LeadID, StartedAt: r.deps.now(),
	}, now: r.deps.now}
	if exec.args.Run > 1 {
		r.recordAbandoned(ctx, job, exec.args)
	}
	defer func() {
		if p := recover(); p != nil {
			r.record(ctx, exec.args, store.OutcomePanic, fmt.Sprint(p))
			panic(maskPanic(p))
		}
	}()
	err = maskError(doInner(context.WithValue(ctx, executionKey{}, exec)))
	if err == nil && exec.recordedTx {
		return nil
	}
	if interrupted(ctx, err) {
		// The worker is shutting down (or the job was cancelled from
		// outside, which River records as cancelled whatever we return).
		// River would hand the job back with its attempt restored, so the
		// next run would repeat this run's number; a zero snooze hands it
		// back the same way and counts the run.
		r.record(ctx, exec.args, store.OutcomeInterrupted, err.Error())
		return river.JobSnooze(0)
	}
	outcome, msg := outcomeOf(ctx, err)
	if outcome == store.OutcomeCancelled {
		r.logCancel(ctx, job, exec.args.TenantID, err)
	}
	r.record(ctx, exec.args, outcome, msg)
	return err
}

// interrupted reports whether a run ended because its context was
// cancelled (not timed out): a client stopping, or a remote cancel.
func interrupted(ctx context.Context, err error) bool {
	return err != nil && errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

func outcomeOf(ctx context.Context, err error) (string, string) {
	var (
		cancel *rivertype.JobCancelError
		snooze *rivertype.JobSnoozeError
	)
	switch {
	case err == nil:
		return store.OutcomeCompleted, ""
	case errors.As(err, &snooze):
		return store.OutcomeSnoozed, fmt.Sprintf("snoozed for %s", snooze.Duration)
	case errors.As(err, &cancel):
		return store.OutcomeCancelled, err.Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return store.OutcomeTimeout, err.Error()
	}
	return store.OutcomeError, err.Error()
}

// record inserts the record job outside any transaction. It never fails the
// step: a failure is logged and the run stays unrecorded until the next run
// of the job notices (or an operator reads the log).
func (r *ExecutionRecorder) record(ctx context.Context, a RecordJobExecutionArgs, outcome, msg string) {
	a.Outcome, a.Error, a.FinishedAt = outcome, truncate(lead.MaskContacts(msg), 2000), r.deps.now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err == nil {
		_, err = client.Insert(ctx, a, nil)
	}
	if err != nil {
		r.deps.Logger.ErrorContext(ctx, "error recording job execution",
			slog.Int64("job_id", a.JobID), slog.Int("run", a.Run), slog.String("kind", a.JobKind), slog.String("error", err.Error()))
	}
}

// recordAbandoned records the earlier runs of job that have no row. Their
// record may still be queued; RecordExecution lets a real outcome replace
// the placeholder, whichever lands first.
func (r *ExecutionRecorder) recordAbandoned(ctx context.Context, job *rivertype.JobRow, cur RecordJobExecutionArgs) {
	seen, err := store.New(r.deps.Pool).RecordedRuns(ctx, cur.TenantID, job.ID)
	if err != nil {
		r.deps.Logger.WarnContext(ctx, "error checking earlier runs", slog.Int64("job_id", job.ID), slog.String("error", err.Error()))
		return
	}
	for run := 1; run < cur.Run; run++ {
		if seen[run] {
			continue
		}
		a := cur
		a.Run, a.Attempt = run, 0
		a.StartedAt = job.CreatedAt
		msg := "the run left no record: its worker stopped without finishing it"
		for _, e := range job.Errors {
			if e.Attempt == run {
				msg = e.Error
			}
		}
		r.record(ctx, a, store.OutcomeAbandoned, msg)
	}
}

// runNumber numbers a job's runs 1, 2, 3...: River decrements attempt on a
// snooze and counts snoozes in metadata, so their sum grows by one per run;
// and River appends the fetching client to attempted_by on every fetch, so
// its length is the number of runs so far. Either alone can stall: the
// list stops growing at River's cap of 100, and the sum stops matching when
// River's completer re-applies a stale state update after a database crash
// (seen in `make chaos`: a snooze's metadata kept, its attempt decrement
// lost). Their maximum still grows with every run.
func runNumber(job *rivertype.JobRow) int {
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &meta)
	return max(job.Attempt+meta.Snoozes, len(job.AttemptedBy))
}

// jobSubject reads the tenant and lead a job is about from its args; every
// args type of ours names them tenant_id and lead_id.
func jobSubject(encoded []byte) (ids struct {
	TenantID uuid.UUID `json:"tenant_id"`
	LeadID   uuid.UUID `json:"lead_id"`
}) {
	var raw struct {
		TenantID string `json:"tenant_id"`
		LeadID   string `json:"lead_id"`
	}
	_ = json.Unmarshal(encoded, &raw)
	ids.TenantID, _ = uuid.Parse(raw.TenantID)
	ids.LeadID, _ = uuid.Parse(raw.LeadID)
	return ids
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
