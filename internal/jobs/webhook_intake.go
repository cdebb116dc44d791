package jobs

import (
	"context"
	"fmt"
	"time"

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

	// IntakePerMinute and IntakeBurst are each tenant's CRM webhook
	// budget across the fleet (webhooks.intake_per_minute and
	// webhooks.intake_burst); Admit spends it.
	IntakePerMinute int
	IntakeBurst     int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Admit spends one delivery of the tenant's CRM webhook budget, shared by
// every replica. It returns zero when the delivery may be taken, else how
// long until one may; the route then answers 429 and enqueues nothing.
// Without it one shop's webhook credential could insert live ingests
// without limit, ahead of every other shop's leads.
func (w *WebhookIntake) Admit(ctx context.Context, tenantID uuid.UUID) (time.Duration, error) {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return store.New(w.Pool).TakeWebhookIntake(ctx, tenantID, w.IntakePerMinute, w.IntakeBurst, now)
}

// Ingest enqueues ingest_lead for a CRM record a webhook named (to be
// fetched again by id: nothing in the webhook is trusted). deliveryID,
// when not empty, is the provider's delivery id: a redelivery enqueues
// nothing. version is the record's version as the webhook carried it, or 0
// when it carried none (the job is then Latest): never a clock reading,
// which made every delivery a new job. The job runs at the head of the
// live CRM queue.
//
// At most one live ingest of a record waits at a time: when one is already
// pending (not yet running), the delivery enqueues nothing, since that job
// fetches the record when it runs and so sees this change too. A running
// one does not count: it may have fetched the record before the change.
func (w *WebhookIntake) Ingest(ctx context.Context, tenantID uuid.UUID, source, deliveryID, externalID string, version int64) error {
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if deliveryID != "" {
			isNew, err := store.New(tx).TakeWebhookDelivery(ctx, tenantID, source, deliveryID)
			if err != nil || !isNew {
				return err
			}
		}
		pending, err := pendingLiveIngest(ctx, tx, tenantID, externalID)
		if err != nil || pending {
			return err
		}
		_, err = w.Client.InsertTx(ctx, tx, IngestLeadArgs{TenantID: tenantID, ExternalID: externalID, Version: version, Latest: version == 0, SendMessages: true},
			&river.InsertOpts{Priority: 1})
		if err != nil {
			return fmt.Errorf("error enqueueing ingest of %s: %w", externalID, err)
		}
		return nil
	})
}

// webhookRecordLock is the first key of the transaction-level advisory
// locks that serialise the webhook deliveries of one record ("wh").
const webhookRecordLock int32 = 0x7768

// pendingLiveIngest reports, in tx, whether a live ingest (one that
// messages) of the tenant's record is waiting to run. It first takes a
// lock on the record until tx ends, so that of two deliveries racing on
// two replicas the second sees the first one's job. River's unique jobs
// cannot say this: their key includes the version, and a unique key that
// leaves it out would have to cover running jobs too (River requires it),
// dropping a change made while a run was under way.
func pendingLiveIngest(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, externalID string) (bool, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
		webhookRecordLock, tenantID.String()+"/"+externalID); err != nil {
		return false, fmt.Errorf("error locking webhooks of %s: %w", externalID, err)
	}
	var pending bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_job
		WHERE kind = $1 AND state IN ('available', 'pending', 'scheduled', 'retryable')
		AND args @> jsonb_build_object('tenant_id', $2::text, 'external_id', $3::text, 'send_messages', true))`,
		(IngestLeadArgs{}).Kind(), tenantID.String(), externalID).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("error looking for a pending ingest of %s: %w", externalID, err)
	}
	return pending, nil
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
