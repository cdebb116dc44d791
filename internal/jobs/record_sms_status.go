package jobs

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// RecordSMSStatusArgs is one of Twilio's delivery status callbacks.
type RecordSMSStatusArgs struct {
	TenantID   uuid.UUID `json:"tenant_id" river:"unique"`
	MessageSID string    `json:"message_sid" river:"unique"`
	Status     string    `json:"status" river:"unique"`
	ErrorCode  int       `json:"error_code,omitempty"`
}

// Kind is the River job kind.
func (RecordSMSStatusArgs) Kind() string { return "record_sms_status" }

// InsertOpts: once per message and status, however often Twilio calls.
func (RecordSMSStatusArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RecordSMSStatusWorker writes delivery status onto the outbox row.
type RecordSMSStatusWorker struct {
	river.WorkerDefaults[RecordSMSStatusArgs]
	deps *Deps
}

// NewRecordSMSStatusWorker returns the worker.
func NewRecordSMSStatusWorker(deps *Deps) *RecordSMSStatusWorker {
	return &RecordSMSStatusWorker{deps: deps}
}

// Work records the status; callbacks that arrive out of order never move
// a final status back. A status for a message the outbox does not hold
// (another system's text on the same number) is dropped.
func (w *RecordSMSStatusWorker) Work(ctx context.Context, job *river.Job[RecordSMSStatusArgs]) error {
	a := job.Args
	return w.deps.inTx(ctx, func(tx pgx.Tx) error {
		_, err := store.New(tx).RecordDelivery(ctx, a.TenantID, a.MessageSID, a.Status, a.ErrorCode)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return completeTx(ctx, tx, job)
	})
}
