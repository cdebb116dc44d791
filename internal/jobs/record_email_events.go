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

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// RecordEmailEventsArgs names one tenant's share of a verified SendGrid
// event batch. The events (with the recipients' addresses) are in the
// tenant's email_event_batches row, stored by the webhook intake in the
// transaction that inserted this job: river_job has no row-level security,
// so its args carry ids only.
type RecordEmailEventsArgs struct {
	TenantID uuid.UUID `json:"tenant_id"`
	BatchID  int64     `json:"batch_id"`
}

// Kind is the River job kind. It is not record_email_events, the kind
// whose args carried the events: a replica still running the old code
// during an upgrade would find no events in these args and complete them,
// losing the events; not knowing this kind, it fails the job as an unknown
// kind, and River retries it until a new replica takes it.
func (RecordEmailEventsArgs) Kind() string { return "record_email_event_batch" }

// InsertOpts: bookkeeping, retried like any write.
func (RecordEmailEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts}
}

// eventBatchKeep is how long a recorded batch's delivery key is kept. A
// replay needs a signed timestamp within sendgrid.MaxEventAge of now (5
// minutes either way, so a batch can pass for 10 minutes at most); after
// that the signature check refuses it, and the key has no more work.
const eventBatchKeep = time.Hour

// RecordEmailEventsWorker applies SendGrid events to the outbox.
type RecordEmailEventsWorker struct {
	river.WorkerDefaults[RecordEmailEventsArgs]
	deps *Deps
}

// NewRecordEmailEventsWorker returns the worker.
func NewRecordEmailEventsWorker(deps *Deps) *RecordEmailEventsWorker {
	return &RecordEmailEventsWorker{deps: deps}
}

// Work claims the stored batch and applies its events, then forgets the
// tenant's batches recorded long ago; see recordEmailEvents.
func (w *RecordEmailEventsWorker) Work(ctx context.Context, job *river.Job[RecordEmailEventsArgs]) error {
	tenantID := job.Args.TenantID
	var firsts []*store.FirstMessage
	err := w.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		raw, claimed, err := st.ClaimEmailEventBatch(ctx, tenantID, job.Args.BatchID)
		if err != nil {
			return cancelIfNotFound(err)
		}
		if claimed {
			var events []messaging.EmailEvent
			if err := json.Unmarshal(raw, &events); err != nil {
				return river.JobCancel(fmt.Errorf("email event batch %d: field events: %w", job.Args.BatchID, err))
			}
			if firsts, err = recordEmailEvents(ctx, w.deps, tx, tenantID, events); err != nil {
				return err
			}
		}
		if _, err := st.PruneEmailEventBatches(ctx, tenantID, w.deps.now().Add(-eventBatchKeep)); err != nil {
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

// recordEmailEvents records each event once and applies it, in the
// caller's transaction:
//   - processed: the email was accepted; a message still sending (the
//     answer to its send was lost) or ambiguous becomes sent;
//   - delivered: sent becomes delivered;
//   - bounce, dropped: the message failed; bounce also suppresses the address;
//   - spamreport, unsubscribe, group_unsubscribe: the address is suppressed
//     for the tenant.
//
// It returns the leads' first accepted emails among them, for the caller
// to observe once the transaction has committed.
func recordEmailEvents(ctx context.Context, d *Deps, tx pgx.Tx, tenantID uuid.UUID, events []messaging.EmailEvent) (firsts []*store.FirstMessage, err error) {
	st := store.New(tx)
	for _, e := range events {
		msgID, err := uuid.Parse(e.MessageID)
		if err != nil {
			continue // ParseEvents already refused these
		}
		fresh, err := st.RecordMessageEvent(ctx, tenantID, store.MessageEvent{
			MessageID: msgID, Provider: "sendgrid", Event: e.Event, ProviderMessageID: e.ProviderMessageID,
			Reason: e.Reason, OccurredAt: e.OccurredAt,
		})
		if errors.Is(err, store.ErrNotFound) {
			d.Logger.WarnContext(ctx, "sendgrid event for a message this tenant does not have",
				slog.String("tenant_id", tenantID.String()), slog.String("message_id", e.MessageID), slog.String("event", e.Event))
			continue
		}
		if err != nil {
			return nil, err
		}
		if !fresh {
			continue
		}
		first, err := applyEmailEvent(ctx, tx, st, tenantID, msgID, e)
		if err != nil {
			return nil, err
		}
		if first != nil {
			firsts = append(firsts, first)
		}
	}
	return firsts, nil
}

// applyEmailEvent applies one new event to its message, and returns the
// lead's first accepted email when the event recorded it.
func applyEmailEvent(ctx context.Context, tx pgx.Tx, st *store.Store, tenantID, msgID uuid.UUID, e messaging.EmailEvent) (*store.FirstMessage, error) {
	m, err := st.GetMessage(ctx, tenantID, msgID)
	if err != nil {
		return nil, err
	}
	switch e.Event {
	case "processed":
		if m.Status == lead.MessageSending || m.Status == lead.MessageAmbiguous {
			return markSent(ctx, st, tenantID, m, e.ProviderMessageID, e.OccurredAt)
		}
	case "delivered":
		// Events are not ordered: a delivered may beat its processed.
		var first *store.FirstMessage
		switch m.Status {
		case lead.MessageSending, lead.MessageAmbiguous:
			if first, err = markSent(ctx, st, tenantID, m, e.ProviderMessageID, e.OccurredAt); err != nil {
				return nil, err
			}
			fallthrough
		case lead.MessageSent:
			return first, st.SetMessageStatus(ctx, tenantID, msgID, lead.MessageDelivered, "")
		}
	case "bounce", "dropped":
		if err := st.SetMessageStatus(ctx, tenantID, msgID, lead.MessageFailed, e.Event+": "+e.Reason); err != nil {
			return nil, err
		}
		if e.Event == "bounce" {
			return nil, suppressEmail(ctx, tx, st, tenantID, m, "bounce: "+e.Reason)
		}
	case "spamreport", "unsubscribe", "group_unsubscribe":
		return nil, suppressEmail(ctx, tx, st, tenantID, m, e.Event)
	}
	return nil, nil
}

// suppressEmail blocks the message's address for the tenant, after the
// claims of that address under way have committed (store.LockCustomer):
// one that starts now reads the suppression.
func suppressEmail(ctx context.Context, tx pgx.Tx, st *store.Store, tenantID uuid.UUID, m lead.Message, reason string) error {
	if err := store.LockCustomer(ctx, tx, tenantID, m.To, []uuid.UUID{m.LeadID}); err != nil {
		return err
	}
	return st.Suppress(ctx, tenantID, lead.ChannelEmail, m.To, reason, "sendgrid")
}
