package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// PruneExpiredArgs starts one round of the retention prune: webhook
// receipts and inbound messages older than their retention are deleted.
// River runs it periodically on the elected leader only. The retentions
// travel in the args (Go durations, "720h"), so River UI shows what each
// run kept.
type PruneExpiredArgs struct {
	// WebhookReceipts is how long a webhook delivery id is kept to drop
	// the provider's redeliveries of it (retention.webhook_receipts).
	WebhookReceipts string `json:"webhook_receipts"`
	// InboundMessages is how long what customers texted is kept
	// (retention.inbound_messages).
	InboundMessages string `json:"inbound_messages"`
}

// Kind is the River job kind.
func (PruneExpiredArgs) Kind() string { return "prune_expired" }

// InsertOpts keeps at most one round queued, on the bookkeeping queue.
func (PruneExpiredArgs) InsertOpts() river.InsertOpts {
	return leaderRoundOpts(4)
}

// PruneExpiredWorker runs prune_expired.
type PruneExpiredWorker struct {
	river.WorkerDefaults[PruneExpiredArgs]
	deps *Deps
}

// NewPruneExpiredWorker returns the worker.
func NewPruneExpiredWorker(deps *Deps) *PruneExpiredWorker { return &PruneExpiredWorker{deps: deps} }

// pruneBatch bounds the rows of one table one transaction deletes.
const pruneBatch = 5000

// Work lists the tenants holding expired rows through the narrow fleet-wide
// function, then deletes each tenant's under its row-level security, a
// short transaction per batch, so that a prune never holds locks a webhook
// or a reply waits on for long. A crash midway loses nothing: the next run
// deletes the rest.
func (w *PruneExpiredWorker) Work(ctx context.Context, job *river.Job[PruneExpiredArgs]) error {
	receiptsFor, err := retentionArg("webhook_receipts", job.Args.WebhookReceipts)
	if err != nil {
		return err
	}
	inboundFor, err := retentionArg("inbound_messages", job.Args.InboundMessages)
	if err != nil {
		return err
	}
	now := w.deps.now()
	receiptsBefore, inboundBefore := now.Add(-receiptsFor), now.Add(-inboundFor)
	st := store.New(w.deps.Pool)
	tenants, err := st.FleetTenantsWithExpiredRows(ctx, receiptsBefore, inboundBefore)
	if err != nil {
		return err
	}
	var total store.Pruned
	for _, tenantID := range tenants {
		for {
			p, err := st.PruneExpiredRows(ctx, tenantID, receiptsBefore, inboundBefore, pruneBatch)
			if err != nil {
				return fmt.Errorf("error pruning tenant %s: %w", tenantID, err)
			}
			total.WebhookReceipts += p.WebhookReceipts
			total.InboundMessages += p.InboundMessages
			if p.WebhookReceipts < pruneBatch && p.InboundMessages < pruneBatch {
				break
			}
		}
	}
	if err := w.deps.inTx(ctx, func(tx pgx.Tx) error { return completeTx(ctx, tx, job) }); err != nil {
		return err
	}
	if len(tenants) > 0 {
		w.deps.Logger.InfoContext(ctx, "pruned rows past retention", slog.Int("tenants", len(tenants)),
			slog.Int64("webhook_receipts", total.WebhookReceipts), slog.Int64("inbound_messages", total.InboundMessages))
	}
	return nil
}

// retentionArg parses one retention of the args. A bad one cancels the job
// with the field named: retrying cannot fix args, and guessing could
// delete what must be kept.
func retentionArg(field, value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, river.JobCancel(fmt.Errorf("prune_expired: %s: must be a positive duration such as 720h, got %q", field, value))
	}
	return d, nil
}
