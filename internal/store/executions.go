package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Execution is one run of one job, as job_executions records it.
type Execution struct {
	JobID   int64
	Run     int
	Attempt int
	Kind    string
	Queue   string
	// LeadID is uuid.Nil when the job is not about one lead.
	LeadID     uuid.UUID
	Outcome    string
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Execution outcomes.
const (
	OutcomeCompleted = "completed"
	OutcomeError     = "error"
	OutcomePanic     = "panic"
	OutcomeCancelled = "cancelled"
	OutcomeSnoozed   = "snoozed"
	OutcomeTimeout   = "timeout"
	// OutcomeInterrupted is a run cut short by its worker's shutdown; the
	// job goes back to the queue without spending an attempt.
	OutcomeInterrupted = "interrupted"
	// OutcomeAbandoned is written for a run that left no record of its own
	// (its process died): a later run of the job notices the gap.
	OutcomeAbandoned = "abandoned"
)

// RecordExecution writes one run's row; tenantID is uuid.Nil for fleet-wide
// jobs. Recording the same run again changes nothing, except that a real
// outcome replaces an "abandoned" placeholder written while the real record
// was still on its way.
func (s *Store) RecordExecution(ctx context.Context, tenantID uuid.UUID, e Execution) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	_, err = db.Exec(ctx, `
		INSERT INTO job_executions (job_id, run, attempt, kind, queue, tenant_id, lead_id, outcome, error, started_at, finished_at)
		-- A tenant deleted since the run leaves the row without one rather
		-- than failing the record forever on the foreign key.
		VALUES ($1, $2, $3, $4, $5, (SELECT id FROM tenants WHERE id = $6), $7, $8, $9, $10, $11)
		ON CONFLICT (job_id, run) DO UPDATE SET attempt = EXCLUDED.attempt, outcome = EXCLUDED.outcome,
			error = EXCLUDED.error, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at
		WHERE job_executions.outcome = 'abandoned' AND EXCLUDED.outcome <> 'abandoned'`,
		e.JobID, e.Run, e.Attempt, e.Kind, e.Queue, nullUUID(tenantID), nullUUID(e.LeadID),
		e.Outcome, e.Error, e.StartedAt, e.FinishedAt)
	if err != nil {
		return fmt.Errorf("error recording run %d of job %d: %w", e.Run, e.JobID, err)
	}
	return nil
}

// RecordedRuns returns which runs of one of the tenant's jobs (Fleet for the
// fleet's own) have a row. Used by a run to notice earlier runs that died
// without one.
func (s *Store) RecordedRuns(ctx context.Context, tenantID uuid.UUID, jobID int64) (out map[int]bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT run FROM job_executions WHERE job_id = $1`, jobID)
	if err != nil {
		return nil, fmt.Errorf("error listing runs of job %d: %w", jobID, err)
	}
	defer rows.Close()
	out = map[int]bool{}
	for rows.Next() {
		var r int
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out[r] = true
	}
	return out, rows.Err()
}

// ListExecutions returns the tenant's execution rows, oldest first, for
// operators and tests.
func (s *Store) ListExecutions(ctx context.Context, tenantID uuid.UUID) (out []Execution, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `
		SELECT job_id, run, attempt, kind, queue, coalesce(lead_id, '00000000-0000-0000-0000-000000000000'),
			outcome, error, started_at, finished_at
		FROM job_executions WHERE tenant_id = $1 ORDER BY started_at, job_id, run`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("error listing executions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Execution
		if err := rows.Scan(&e.JobID, &e.Run, &e.Attempt, &e.Kind, &e.Queue, &e.LeadID, &e.Outcome, &e.Error, &e.StartedAt, &e.FinishedAt); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
