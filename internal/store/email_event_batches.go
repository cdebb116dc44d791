package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TakeEmailEventBatch stores a tenant's share of a verified SendGrid event
// batch (events, JSON) under the delivery's key and returns its row id.
// isNew is false when the tenant already took this delivery (a replay, or
// SendGrid's redelivery of a batch it saw answered): nothing is stored then
// and nothing must be enqueued. A tenant that does not exist (deleted since
// the email went out) is ErrNotFound, without failing the caller's
// transaction, so the other tenants' shares still go in.
func (s *Store) TakeEmailEventBatch(ctx context.Context, tenantID uuid.UUID, deliveryKey string, events []byte) (id int64, isNew bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return 0, false, err
	}
	defer done(&err)
	err = db.QueryRow(ctx, `
		INSERT INTO email_event_batches (tenant_id, delivery_key, events)
		SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM tenants WHERE id = $1)
		ON CONFLICT (tenant_id, delivery_key) DO NOTHING
		RETURNING id`, tenantID, deliveryKey, jsonParam(events)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)`, tenantID).Scan(&exists); err != nil {
			return 0, false, fmt.Errorf("error looking up tenant %s: %w", tenantID, err)
		}
		if !exists {
			return 0, false, fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
		}
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("error storing email event batch: %w", err)
	}
	return id, true, nil
}

// ClaimEmailEventBatch returns a stored batch's events and marks the batch
// recorded, emptying its events (they live on as message_events; the
// delivery key stays, so a replay still finds it taken). recorded is false
// when the batch was recorded before: of two runs of one batch, one
// applies it. A batch the tenant does not have is ErrNotFound.
func (s *Store) ClaimEmailEventBatch(ctx context.Context, tenantID uuid.UUID, id int64) (events []byte, recorded bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, false, err
	}
	defer done(&err)
	err = db.QueryRow(ctx, `
		WITH batch AS (
			SELECT id, events FROM email_event_batches
			WHERE tenant_id = $1 AND id = $2 AND recorded_at IS NULL
			FOR UPDATE
		)
		UPDATE email_event_batches b SET recorded_at = now(), events = '[]'
		FROM batch WHERE b.tenant_id = $1 AND b.id = batch.id
		RETURNING batch.events`, tenantID, id).Scan(&events)
	if errors.Is(err, pgx.ErrNoRows) {
		var exists bool
		if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM email_event_batches WHERE tenant_id = $1 AND id = $2)`,
			tenantID, id).Scan(&exists); err != nil {
			return nil, false, fmt.Errorf("error looking up email event batch %d: %w", id, err)
		}
		if !exists {
			return nil, false, fmt.Errorf("email event batch %d: %w", id, ErrNotFound)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("error claiming email event batch %d: %w", id, err)
	}
	return events, true, nil
}

// PruneEmailEventBatches deletes the tenant's recorded batches received
// before before, and returns how many. A delivery key is needed only while
// its signed timestamp can still pass the freshness check; after that a
// replay is refused by the check itself.
func (s *Store) PruneEmailEventBatches(ctx context.Context, tenantID uuid.UUID, before time.Time) (n int64, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `DELETE FROM email_event_batches
		WHERE tenant_id = $1 AND recorded_at IS NOT NULL AND received_at < $2`, tenantID, before)
	if err != nil {
		return 0, fmt.Errorf("error pruning email event batches: %w", err)
	}
	return tag.RowsAffected(), nil
}
