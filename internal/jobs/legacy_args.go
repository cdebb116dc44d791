package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// The args shapes before migration 7 carried customers' numbers, texts and
// addresses in river_job, which has no row-level security. Jobs of those
// kinds that a fleet queued before its upgrade still run, once, through the
// workers below; nothing inserts them any more, and the migration took the
// customer data out of the ones already finished. Remove these one release
// after migration 7, when no such job can be left.

// LegacyHandleInboundArgs is a handle_inbound job as queued before
// migration 7, with the text in its args.
type LegacyHandleInboundArgs struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	MessageSID string    `json:"message_sid"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Body       string    `json:"body"`
	OptOutType string    `json:"opt_out_type,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// Kind is the River job kind.
func (LegacyHandleInboundArgs) Kind() string { return "handle_inbound" }

// InsertOpts are those the jobs were queued with.
func (LegacyHandleInboundArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts}
}

// LegacyHandleInboundWorker stores the text as the intake now does, then
// handles it like handle_inbound_message. A text already stored (the old
// worker stored it as it handled it) is not handled twice.
type LegacyHandleInboundWorker struct {
	river.WorkerDefaults[LegacyHandleInboundArgs]
	deps *Deps
}

// NewLegacyHandleInboundWorker returns the worker.
func NewLegacyHandleInboundWorker(deps *Deps) *LegacyHandleInboundWorker {
	return &LegacyHandleInboundWorker{deps: deps}
}

// Work stores, then handles, the text.
func (w *LegacyHandleInboundWorker) Work(ctx context.Context, job *river.Job[LegacyHandleInboundArgs]) error {
	a := job.Args
	if _, err := loadTenant(ctx, store.New(w.deps.Pool), a.TenantID, evenDisabled); err != nil {
		return err
	}
	id, _, err := store.New(w.deps.Pool).RecordInbound(ctx, a.TenantID, inboundMessage(messaging.InboundText{
		ProviderID: a.MessageSID, From: a.From, To: a.To, Body: a.Body, OptOutType: a.OptOutType, ReceivedAt: a.ReceivedAt,
	}))
	if err != nil {
		return err
	}
	return handleInbound(ctx, w.deps, job, a.TenantID, id)
}

func (LegacyHandleInboundArgs) customerDataKeys() []string { return []string{"from", "to", "body"} }

// LegacyRecordEmailEventsArgs is a record_email_events job as queued
// before migration 7, with the events in its args.
type LegacyRecordEmailEventsArgs struct {
	TenantID uuid.UUID              `json:"tenant_id"`
	Events   []messaging.EmailEvent `json:"events"`
}

// Kind is the River job kind.
func (LegacyRecordEmailEventsArgs) Kind() string { return "record_email_events" }

// InsertOpts are those the jobs were queued with.
func (LegacyRecordEmailEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts}
}

// LegacyRecordEmailEventsWorker applies the events in its args, as
// record_email_event_batch applies a stored batch.
type LegacyRecordEmailEventsWorker struct {
	river.WorkerDefaults[LegacyRecordEmailEventsArgs]
	deps *Deps
}

// NewLegacyRecordEmailEventsWorker returns the worker.
func NewLegacyRecordEmailEventsWorker(deps *Deps) *LegacyRecordEmailEventsWorker {
	return &LegacyRecordEmailEventsWorker{deps: deps}
}

// Work applies the events.
func (w *LegacyRecordEmailEventsWorker) Work(ctx context.Context, job *river.Job[LegacyRecordEmailEventsArgs]) error {
	var firsts []*store.FirstMessage
	err := w.deps.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if firsts, err = recordEmailEvents(ctx, w.deps, tx, job.Args.TenantID, job.Args.Events); err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	})
	if err != nil {
		return err
	}
	w.deps.observeFirstMessages(firsts...)
	return nil
}

func (LegacyRecordEmailEventsArgs) customerDataKeys() []string { return []string{"events"} }

// legacyArgs are args that carry customer data (the kinds above).
type legacyArgs interface{ customerDataKeys() []string }

// dropCustomerData takes the customer data out of a legacy job's args in
// the transaction that completes it (completeTx calls it), so that it does
// not wait in river_job for River's cleaner.
func dropCustomerData(ctx context.Context, tx pgx.Tx, jobID int64, args any) error {
	legacy, ok := args.(legacyArgs)
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE river_job SET args = args - $2::text[] WHERE id = $1`, jobID, legacy.customerDataKeys()); err != nil {
		return fmt.Errorf("error dropping customer data from the args of job %d: %w", jobID, err)
	}
	return nil
}
