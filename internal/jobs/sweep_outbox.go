package jobs

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// SweepOutboxArgs starts one round of the orphan sweep. River runs it
// periodically on the elected leader only.
//
// A send job settles its own outbox row, but only while River still runs
// it: one cancelled or deleted from River UI, discarded after its last
// attempt (a timeout or a database error on the last try), or cancelled by
// a customer's reply after an operator queued a resend, leaves its row
// pending or sending with nothing to finish it, and `enqueue messages`
// never showed such a row. The sweep settles those rows: a row that was
// sending may be at the provider (ambiguous, for an operator to resend or
// not); one still pending certainly is not (failed, with the reason).
//
// Rows whose job is still live (available, scheduled, running, retryable,
// pending) are left alone, however long they wait: a text snoozed to the
// shop's morning, a step days away, a reconcile waiting for the provider.
type SweepOutboxArgs struct{}

// Kind is the River job kind.
func (SweepOutboxArgs) Kind() string { return "sweep_outbox" }

// InsertOpts keeps at most one round queued, on the bookkeeping queue,
// like the poll scheduler.
func (SweepOutboxArgs) InsertOpts() river.InsertOpts {
	return leaderRoundOpts(1)
}

// SweepOutboxWorker runs sweep_outbox.
type SweepOutboxWorker struct {
	river.WorkerDefaults[SweepOutboxArgs]
	deps *Deps
}

// NewSweepOutboxWorker returns the worker.
func NewSweepOutboxWorker(deps *Deps) *SweepOutboxWorker { return &SweepOutboxWorker{deps: deps} }

// sweepBatch bounds the rows found per statement, and sweepRounds the
// statements per run; a fleet with more orphans than that is finished by
// the next runs.
const (
	sweepBatch  = 500
	sweepRounds = 10
)

// sendJobKinds are the kinds whose jobs settle outbox rows.
var sendJobKinds = store.SendJobKinds{SMS: SendSMSArgs{}.Kind(), Email: SendEmailArgs{}.Kind()}

// Work finds the fleet's orphaned rows through the narrow fleet-wide
// function, settles each tenant's under that tenant's row-level security,
// and completes, all in one transaction: a crash settles nothing and the
// next run finds the same rows.
func (w *SweepOutboxWorker) Work(ctx context.Context, job *river.Job[SweepOutboxArgs]) error {
	var settled []settledOrphan
	err := w.deps.inTx(ctx, func(tx pgx.Tx) error {
		settled = settled[:0]
		for range sweepRounds {
			found, err := store.New(tx).FleetOrphanedMessages(ctx, sendJobKinds, sweepBatch)
			if err != nil {
				return err
			}
			byTenant := map[uuid.UUID][]uuid.UUID{}
			var tenants []uuid.UUID
			for _, o := range found {
				if _, ok := byTenant[o.TenantID]; !ok {
					tenants = append(tenants, o.TenantID)
				}
				byTenant[o.TenantID] = append(byTenant[o.TenantID], o.MessageID)
			}
			for _, tenantID := range tenants {
				msgs, err := store.New(tx).SettleOrphanedMessages(ctx, tenantID, byTenant[tenantID], sendJobKinds)
				if err != nil {
					return err
				}
				for _, m := range msgs {
					settled = append(settled, settledOrphan{tenantID: tenantID, SettledMessage: m})
				}
			}
			if len(found) < sweepBatch {
				break
			}
		}
		return completeTx(ctx, tx, job)
	})
	if err != nil {
		return err
	}
	for _, s := range settled {
		// The address is not logged: the message id finds it, for those
		// who may see it (`enqueue messages`).
		w.deps.Logger.WarnContext(ctx, "outbox message had no send job left; marked "+string(s.Status)+" for an operator (enqueue messages)",
			slog.String("tenant_id", s.tenantID.String()), slog.String("message_id", s.ID.String()),
			slog.String("lead_id", s.LeadID.String()), slog.String("step", s.Step), slog.String("channel", string(s.Channel)),
			slog.String("status", string(s.Status)), slog.String("reason", s.Reason))
	}
	return nil
}

// settledOrphan is a row the sweep settled, with its tenant.
type settledOrphan struct {
	tenantID uuid.UUID
	store.SettledMessage
}
