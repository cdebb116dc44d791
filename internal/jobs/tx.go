package jobs

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// The transaction helpers every job shares. Each step's writes, the jobs it
// inserts and its own completion commit in one transaction, so a crash
// leaves all of a step or none of it: inTx opens and commits it, completeTx
// ends it, cancelPendingSteps is the one way a job stops a lead's sends.

// inTx runs fn in a transaction and commits it. fn ends with completeTx,
// so the commit also completes the job.
func (d *Deps) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := d.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("error committing: %w", err)
	}
	return nil
}

// completeTx completes job in tx and writes its execution row in the same
// transaction. Every worker ends its successful path with it. The row is
// written directly rather than through a record_job_execution job: the
// completion and its record then commit together, and the path of a lead
// costs half the jobs (measured by `make bench`: the recording jobs were
// half of all jobs and most of Postgres' time per lead).
func completeTx[T river.JobArgs](ctx context.Context, tx pgx.Tx, job *river.Job[T]) error {
	if exec, ok := ctx.Value(executionKey{}).(*execution); ok {
		a := exec.args
		if err := store.New(tx).RecordExecution(ctx, a.TenantID, store.Execution{
			JobID: a.JobID, Run: a.Run, Attempt: a.Attempt, Kind: a.JobKind, Queue: a.Queue, LeadID: a.LeadID,
			Outcome: store.OutcomeCompleted, StartedAt: a.StartedAt, FinishedAt: exec.now(),
		}); err != nil {
			return err
		}
		exec.recordedTx = true
	}
	if err := dropCustomerData(ctx, tx, job.ID, job.Args); err != nil {
		return err
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("error completing job: %w", err)
	}
	return nil
}

// cancelPendingSteps cancels, in tx, the lead's send jobs of the given
// kinds that have never run, and returns how many. A job that ran before
// is left to run again: its send may be in flight or interrupted (the
// outbox row in sending), and only its next run can find out whether the
// provider has the message and record it (make chaos caught cancelled
// retries leaving texts the provider had unrecorded). When it runs, the
// guards read the lead's new status under the outbox row lock and stop
// anything not yet sent. An opt-out's confirmation is never cancelled: it
// is owed whatever the customer texts next, and a second "stop texting
// me" cancelling the first one's left the customer with none
// (TestOptOutInOwnWords caught it).
func cancelPendingSteps(ctx context.Context, tx pgx.Tx, tenantID, leadID uuid.UUID, kinds ...string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM river_job
		WHERE kind = ANY($1) AND args->>'tenant_id' = $2 AND args->>'lead_id' = $3
		AND state IN ('scheduled', 'available', 'pending') AND coalesce(cardinality(attempted_by), 0) = 0
		AND NOT starts_with(coalesce(args->>'step', ''), $4)`,
		kinds, tenantID.String(), leadID.String(), lead.OptOutConfirmationStepPrefix)
	if err != nil {
		return 0, fmt.Errorf("error finding pending steps of lead %s: %w", leadID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("error finding pending steps of lead %s: %w", leadID, err)
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	for _, id := range ids {
		if _, err := client.JobCancelTx(ctx, tx, id); err != nil {
			return 0, fmt.Errorf("error cancelling step job %d of lead %s: %w", id, leadID, err)
		}
	}
	return len(ids), nil
}
