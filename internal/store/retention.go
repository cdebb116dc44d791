package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Two tables grow with every webhook and every customer text and are read
// only while their rows are young: webhook_receipts (a delivery id, kept to
// drop the provider's redeliveries of it) and inbound_messages (what
// customers texted; a late STOP or START looks for a later one). The prune
// deletes their rows past retention, tenant by tenant.

// FleetTenantsWithExpiredRows lists the tenants holding webhook receipts
// received before receiptsBefore or inbound messages received before
// inboundBefore, through the one database function allowed to look across
// tenants for it (migration 8). It returns ids only; PruneExpiredRows
// deletes as the application role under each tenant's policy.
func (s *Store) FleetTenantsWithExpiredRows(ctx context.Context, receiptsBefore, inboundBefore time.Time) ([]uuid.UUID, error) {
	rows, err := s.db.Query(ctx, `SELECT leadorch_tenants_with_expired_rows($1, $2)`, receiptsBefore, inboundBefore)
	if err != nil {
		return nil, fmt.Errorf("error finding tenants with expired rows: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("error finding tenants with expired rows: %w", err)
	}
	return ids, nil
}

// Pruned counts the rows one prune deleted.
type Pruned struct {
	WebhookReceipts int64
	InboundMessages int64
}

// PruneExpiredRows deletes up to limit of the tenant's webhook receipts
// received before receiptsBefore and up to limit of its inbound messages
// received before inboundBefore. The limit keeps one transaction short
// however much a tenant has piled up (the first prune after an upgrade);
// a caller that got limit of either calls again.
func (s *Store) PruneExpiredRows(ctx context.Context, tenantID uuid.UUID, receiptsBefore, inboundBefore time.Time, limit int) (p Pruned, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return Pruned{}, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `DELETE FROM webhook_receipts WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM webhook_receipts WHERE tenant_id = $1 AND received_at < $2 LIMIT $3))`,
		tenantID, receiptsBefore, limit)
	if err != nil {
		return Pruned{}, fmt.Errorf("error pruning webhook receipts: %w", err)
	}
	p.WebhookReceipts = tag.RowsAffected()
	tag, err = db.Exec(ctx, `DELETE FROM inbound_messages WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM inbound_messages WHERE tenant_id = $1 AND received_at < $2 LIMIT $3))`,
		tenantID, inboundBefore, limit)
	if err != nil {
		return Pruned{}, fmt.Errorf("error pruning inbound messages: %w", err)
	}
	p.InboundMessages = tag.RowsAffected()
	return p, nil
}
