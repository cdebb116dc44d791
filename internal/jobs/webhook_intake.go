package jobs

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/store"
)

// WebhookIntake turns verified webhooks into jobs. Each call is one
// transaction (a delivery's dedupe record and its job commit together), so
// a handler answers in milliseconds and a failure makes the provider
// redeliver.
type WebhookIntake struct {
	Pool   *pgxpool.Pool
	Client *river.Client[pgx.Tx]
}

// Ingest enqueues ingest_lead for a CRM record a webhook named (to be
// fetched again by id: nothing in the webhook is trusted). deliveryID,
// when not empty, is the provider's delivery id: a redelivery enqueues
// nothing. The job runs at the head of the live CRM queue.
func (w *WebhookIntake) Ingest(ctx context.Context, tenantID uuid.UUID, source, deliveryID, externalID string, version int64) error {
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if deliveryID != "" {
			isNew, err := store.New(tx).TakeWebhookDelivery(ctx, tenantID, source, deliveryID)
			if err != nil || !isNew {
				return err
			}
		}
		_, err := w.Client.InsertTx(ctx, tx, IngestLeadArgs{TenantID: tenantID, ExternalID: externalID, Version: version, SendMessages: true},
			&river.InsertOpts{Priority: 1})
		if err != nil {
			return fmt.Errorf("error enqueueing ingest of %s: %w", externalID, err)
		}
		return nil
	})
}

// Inbound enqueues a customer's text.
func (w *WebhookIntake) Inbound(ctx context.Context, args HandleInboundArgs) error {
	if _, err := w.Client.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("error enqueueing inbound message %s: %w", args.MessageSID, err)
	}
	return nil
}

// SMSStatus enqueues a delivery status callback.
func (w *WebhookIntake) SMSStatus(ctx context.Context, args RecordSMSStatusArgs) error {
	if _, err := w.Client.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("error enqueueing status of message %s: %w", args.MessageSID, err)
	}
	return nil
}
