package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// RecordEmailEventsArgs are one tenant's share of a verified SendGrid event
// batch.
type RecordEmailEventsArgs struct {
	TenantID uuid.UUID              `json:"tenant_id"`
	Events   []messaging.EmailEvent `json:"events"`
}

// Kind is the River job kind.
func (RecordEmailEventsArgs) Kind() string { return "record_email_events" }

// InsertOpts: bookkeeping, retried like any write.
func (RecordEmailEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: 25}
}

// EnqueueEmailEvents splits a verified batch by tenant and inserts one job
// per tenant, all in one transaction: the webhook answers 200 only when
// every event is safely queued.
func EnqueueEmailEvents(ctx context.Context, client *river.Client[pgx.Tx], events []messaging.EmailEvent) error {
	byTenant := map[uuid.UUID][]messaging.EmailEvent{}
	var order []uuid.UUID
	for _, e := range events {
		id, err := uuid.Parse(e.TenantID)
		if err != nil {
			return fmt.Errorf("event for message %s: field tenant_id: %w", e.MessageID, err)
		}
		if _, ok := byTenant[id]; !ok {
			order = append(order, id)
		}
		byTenant[id] = append(byTenant[id], e)
	}
	params := make([]river.InsertManyParams, 0, len(order))
	for _, id := range order {
		params = append(params, river.InsertManyParams{Args: RecordEmailEventsArgs{TenantID: id, Events: byTenant[id]}})
	}
	_, err := client.InsertMany(ctx, params)
	return err
}

// RecordEmailEventsWorker applies SendGrid events to the outbox.
type RecordEmailEventsWorker struct {
	river.WorkerDefaults[RecordEmailEventsArgs]
	deps *Deps
}

// NewRecordEmailEventsWorker returns the worker.
func NewRecordEmailEventsWorker(deps *Deps) *RecordEmailEventsWorker {
	return &RecordEmailEventsWorker{deps: deps}
}

// Work records each event once and applies it:
//   - processed: the email was accepted; a message still sending (the
//     answer to its send was lost) or ambiguous becomes sent;
//   - delivered: sent becomes delivered;
//   - bounce, dropped: the message failed; bounce also suppresses the address;
//   - spamreport, unsubscribe, group_unsubscribe: the address is suppressed
//     for the tenant.
func (w *RecordEmailEventsWorker) Work(ctx context.Context, job *river.Job[RecordEmailEventsArgs]) error {
	tenantID := job.Args.TenantID
	return w.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		for _, e := range job.Args.Events {
			msgID, err := uuid.Parse(e.MessageID)
			if err != nil {
				continue // ParseEvents already refused these
			}
			fresh, err := st.RecordMessageEvent(ctx, tenantID, store.MessageEvent{
				MessageID: msgID, Provider: "sendgrid", Event: e.Event, ProviderMessageID: e.ProviderMessageID,
				Reason: e.Reason, OccurredAt: e.OccurredAt,
			})
			if errors.Is(err, store.ErrNotFound) {
				w.deps.Logger.WarnContext(ctx, "sendgrid event for a message this tenant does not have",
					slog.String("tenant_id", tenantID.String()), slog.String("message_id", e.MessageID), slog.String("event", e.Event))
				continue
			}
			if err != nil {
				return err
			}
			if !fresh {
				continue
			}
			if err := w.apply(ctx, st, tenantID, msgID, e); err != nil {
				return err
			}
		}
		return completeTx(ctx, tx, job)
	})
}

func (w *RecordEmailEventsWorker) apply(ctx context.Context, st *store.Store, tenantID, msgID uuid.UUID, e messaging.EmailEvent) error {
	m, err := st.GetMessage(ctx, tenantID, msgID)
	if err != nil {
		return err
	}
	switch e.Event {
	case "processed":
		if m.Status == lead.MessageSending || m.Status == lead.MessageAmbiguous {
			if err := st.MarkMessageSent(ctx, tenantID, msgID, e.ProviderMessageID, e.OccurredAt); err != nil {
				return err
			}
			return st.MarkLeadContacted(ctx, tenantID, m.LeadID)
		}
	case "delivered":
		// Events are not ordered: a delivered may beat its processed.
		switch m.Status {
		case lead.MessageSending, lead.MessageAmbiguous:
			if err := st.MarkMessageSent(ctx, tenantID, msgID, e.ProviderMessageID, e.OccurredAt); err != nil {
				return err
			}
			if err := st.MarkLeadContacted(ctx, tenantID, m.LeadID); err != nil {
				return err
			}
			fallthrough
		case lead.MessageSent:
			return st.SetMessageStatus(ctx, tenantID, msgID, lead.MessageDelivered, "")
		}
	case "bounce", "dropped":
		if err := st.SetMessageStatus(ctx, tenantID, msgID, lead.MessageFailed, e.Event+": "+e.Reason); err != nil {
			return err
		}
		if e.Event == "bounce" {
			return st.Suppress(ctx, tenantID, lead.ChannelEmail, m.To, "bounce: "+e.Reason, "sendgrid")
		}
	case "spamreport", "unsubscribe", "group_unsubscribe":
		return st.Suppress(ctx, tenantID, lead.ChannelEmail, m.To, e.Event, "sendgrid")
	}
	return nil
}
