package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// RecordJobExecutionArgs is one run of another job, to be written to
// job_executions. Recording is a job of its own so that it never slows or
// fails the step it records, and retries like any other write.
type RecordJobExecutionArgs struct {
	JobID      int64     `json:"job_id"`
	Run        int       `json:"run"`
	Attempt    int       `json:"attempt"`
	JobKind    string    `json:"kind"`
	Queue      string    `json:"queue"`
	TenantID   uuid.UUID `json:"tenant_id"`
	LeadID     uuid.UUID `json:"lead_id"`
	Outcome    string    `json:"outcome"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// Kind is the River job kind.
func (RecordJobExecutionArgs) Kind() string { return "record_job_execution" }

// InsertOpts puts recording on the bookkeeping queue. No unique options:
// the row's own key (job, run) makes a repeat harmless and keeps inserts
// cheap.
func (RecordJobExecutionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts}
}

// RecordJobExecutionWorker writes job_executions rows.
type RecordJobExecutionWorker struct {
	river.WorkerDefaults[RecordJobExecutionArgs]
	deps *Deps
}

// NewRecordJobExecutionWorker returns the worker.
func NewRecordJobExecutionWorker(deps *Deps) *RecordJobExecutionWorker {
	return &RecordJobExecutionWorker{deps: deps}
}

// Work writes the recorded run and, in the same transaction as its own
// completion, the rows of this recording job's own runs: the recorder is
// not wrapped by the recording middleware (that would recurse), so it
// records itself, its failed earlier runs included (from River's error
// list; it never snoozes, so its runs are its attempts).
func (w *RecordJobExecutionWorker) Work(ctx context.Context, job *river.Job[RecordJobExecutionArgs]) error {
	started := w.deps.now()
	a := job.Args
	tenantID := a.TenantID
	if tenantID != store.Fleet {
		// A tenant deleted since the run: its row is kept as the fleet's
		// (tenant NULL), which row-level security lets only the fleet
		// scope write.
		if _, err := store.New(w.deps.Pool).GetTenant(ctx, tenantID); errors.Is(err, store.ErrNotFound) {
			tenantID = store.Fleet
		}
	}
	return w.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		if err := st.RecordExecution(ctx, tenantID, store.Execution{
			JobID: a.JobID, Run: a.Run, Attempt: a.Attempt, Kind: a.JobKind, Queue: a.Queue, LeadID: a.LeadID,
			Outcome: a.Outcome, Error: a.Error, StartedAt: a.StartedAt, FinishedAt: a.FinishedAt,
		}); err != nil {
			return err
		}
		run := runNumber(job.JobRow)
		for earlier := 1; earlier < run; earlier++ {
			e := store.Execution{JobID: job.ID, Run: earlier, Attempt: earlier, Kind: job.Kind, Queue: job.Queue,
				Outcome: store.OutcomeAbandoned, Error: "the run left no record: its worker stopped without finishing it",
				StartedAt: job.CreatedAt, FinishedAt: job.CreatedAt}
			for _, je := range job.Errors {
				if je.Attempt == earlier {
					e.Outcome, e.Error, e.StartedAt, e.FinishedAt = store.OutcomeError, je.Error, je.At, je.At
				}
			}
			if err := st.RecordExecution(ctx, tenantID, e); err != nil {
				return err
			}
		}
		if err := st.RecordExecution(ctx, tenantID, store.Execution{
			JobID: job.ID, Run: run, Attempt: job.Attempt, Kind: job.Kind, Queue: job.Queue,
			Outcome: store.OutcomeCompleted, StartedAt: started, FinishedAt: w.deps.now(),
		}); err != nil {
			return err
		}
		_, err := river.JobCompleteTx[*riverpgxv5Driver](ctx, tx, job)
		return err
	})
}
