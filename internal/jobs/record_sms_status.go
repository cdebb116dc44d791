package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// RecordSMSStatusArgs is one of Twilio's delivery status callbacks.
type RecordSMSStatusArgs struct {
	TenantID   uuid.UUID `json:"tenant_id" river:"unique"`
	MessageSID string    `json:"message_sid" river:"unique"`
	Status     string    `json:"status" river:"unique"`
	ErrorCode  int       `json:"error_code,omitempty"`
	// Verdict is the provider's reading of ErrorCode (the jobs know no
	// provider's codes). A job queued before it existed has none: its
	// status is recorded and no verdict acted on.
	Verdict messaging.Verdict `json:"verdict,omitempty"`
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
// (another system's text on the same number) is dropped. A final status
// is also the carrier's verdict, acted on in the same transaction: a
// landline stops texts to the number (notTextable), and the tenant's
// latest outcomes decide whether carriers are filtering its texts
// (carrierVerdict).
func (w *RecordSMSStatusWorker) Work(ctx context.Context, job *river.Job[RecordSMSStatusArgs]) error {
	a := job.Args
	var mark carrierMark
	err := w.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		m, err := st.RecordDelivery(ctx, a.TenantID, a.MessageSID, a.Status, a.ErrorCode)
		if errors.Is(err, store.ErrNotFound) {
			return completeTx(ctx, tx, job)
		}
		if err != nil {
			return err
		}
		if delivered, final := finalSMSStatus(a.Status); final {
			if a.Verdict == messaging.VerdictLandline {
				if err := notTextable(ctx, st, a.TenantID, m.To, a.ErrorCode); err != nil {
					return err
				}
			}
			if mark, err = w.deps.carrierVerdict(ctx, st, a, delivered); err != nil {
				return err
			}
		}
		return completeTx(ctx, tx, job)
	})
	if err != nil {
		return err
	}
	if _, final := finalSMSStatus(a.Status); final {
		w.deps.Metrics.CountCarrierVerdict(string(a.Verdict))
	}
	w.deps.logCarrierMark(ctx, a.TenantID, mark)
	return nil
}

// finalSMSStatus says whether a Twilio message status is final, and if so
// whether the text reached the handset (read comes after delivered).
func finalSMSStatus(status string) (delivered, final bool) {
	switch status {
	case "delivered", "read":
		return true, true
	case "undelivered", "failed":
		return false, true
	}
	return false, false
}

// notTextable records that the carrier cannot deliver texts to phone:
// suppressed on sms, a contact problem of its leads. The provider's code
// is in both, so a shop can look it up.
func notTextable(ctx context.Context, st *store.Store, tenantID uuid.UUID, phone string, code int) error {
	reason := fmt.Sprintf("landline: the carrier cannot deliver texts to this number (code %d)", code)
	problem := fmt.Sprintf("phone %s cannot receive texts (a landline, the carrier said: code %d), texts to it stopped, email goes on", phone, code)
	return st.MarkNotTextable(ctx, tenantID, lead.PhoneNumber(phone), reason, problem)
}

// refusedAtSend acts on the verdict of a text the provider refused at
// once: counted, and notTextable when the provider knows the number is not
// a mobile one (Twilio's 21614 comes back from the create call; 30006
// comes later, in a status callback). It runs in the transaction that
// records the failure, so a rolled-back one may count twice: a counter's
// rate, not an exact tally.
func (d *Deps) refusedAtSend(ctx context.Context, st *store.Store, tenantID uuid.UUID, msg lead.Message, sendErr error) error {
	var se *messaging.SendError
	if msg.Channel != lead.ChannelSMS || !errors.As(sendErr, &se) || se.Verdict == messaging.VerdictNone {
		return nil
	}
	d.Metrics.CountCarrierVerdict(string(se.Verdict))
	if se.Verdict != messaging.VerdictLandline {
		return nil
	}
	return notTextable(ctx, st, tenantID, msg.To, se.Code)
}
