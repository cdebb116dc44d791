package jobs

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// SchedulePollsArgs starts one round of the poll scheduler. River runs it
// periodically on the elected leader only. Per-tenant schedules live in the
// tenants table (next_poll_at), not in River's memory, so a leader change
// loses nothing: the new leader finds the same tenants due.
type SchedulePollsArgs struct{}

// Kind is the River job kind.
func (SchedulePollsArgs) Kind() string { return "schedule_polls" }

// InsertOpts keeps at most one round queued, on the bookkeeping queue:
// its work is a few quick writes, and on the crm queue it would wait behind
// shops whose CRMs are slow or down, delaying every shop's next poll.
func (SchedulePollsArgs) InsertOpts() river.InsertOpts {
	return leaderRoundOpts(1)
}

// SchedulePollsWorker enqueues a live poll_crm for every tenant that is due.
type SchedulePollsWorker struct {
	river.WorkerDefaults[SchedulePollsArgs]
	deps *Deps
}

// NewSchedulePollsWorker returns the worker.
func NewSchedulePollsWorker(deps *Deps) *SchedulePollsWorker {
	return &SchedulePollsWorker{deps: deps}
}

// scheduleBatch bounds the tenants claimed per statement.
const scheduleBatch = 1000

// Work claims due tenants in batches and inserts their polls, all in one
// transaction with the job's completion: a crash re-runs the round and
// claims the same tenants again.
func (w *SchedulePollsWorker) Work(ctx context.Context, job *river.Job[SchedulePollsArgs]) error {
	now := w.deps.now()
	total := 0
	err := w.deps.inTx(ctx, func(tx pgx.Tx) error {
		client := river.ClientFromContext[pgx.Tx](ctx)
		for {
			due, err := store.New(tx).FleetClaimDuePolls(ctx, now, scheduleBatch)
			if err != nil {
				return err
			}
			if len(due) == 0 {
				break
			}
			params := make([]river.InsertManyParams, 0, len(due))
			for _, d := range due {
				since := d.PollCursor.Add(-w.deps.PollOverlap)
				until := now
				if w.deps.PollMaxWindow > 0 && until.Sub(since) > w.deps.PollMaxWindow {
					until = since.Add(w.deps.PollMaxWindow)
				}
				params = append(params, river.InsertManyParams{Args: PollCRMArgs{
					TenantID: d.TenantID, Since: since, Until: until, Live: true, SendMessages: true,
				}})
			}
			if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
				return err
			}
			total += len(due)
			if len(due) < scheduleBatch {
				break
			}
		}
		return completeTx(ctx, tx, job)
	})
	if err != nil {
		return err
	}
	if total > 0 {
		w.deps.Logger.DebugContext(ctx, "scheduled polls", slog.Int("tenants", total), slog.Duration("took", w.deps.now().Sub(now)))
	}
	return nil
}
