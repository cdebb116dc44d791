package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// MessageEvent is one provider event about one of our messages.
type MessageEvent struct {
	MessageID         uuid.UUID
	Provider          string
	Event             string
	ProviderMessageID string
	Reason            string
	OccurredAt        time.Time
}

// RecordMessageEvent stores an event once; a redelivery changes nothing.
// It reports whether the event was new, and ErrNotFound when the message
// is not the tenant's (a forged or misrouted event).
func (s *Store) RecordMessageEvent(ctx context.Context, tenantID uuid.UUID, e MessageEvent) (isNew bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `
		INSERT INTO message_events (tenant_id, message_id, provider, event, provider_message_id, reason, occurred_at)
		SELECT $1, m.id, $3, $4, $5, $6, $7 FROM messages m WHERE m.tenant_id = $1 AND m.id = $2
		ON CONFLICT (tenant_id, message_id, event, occurred_at) DO NOTHING`,
		tenantID, e.MessageID, e.Provider, e.Event, e.ProviderMessageID, e.Reason, e.OccurredAt)
	if err != nil {
		return false, fmt.Errorf("error recording %s event of message %s: %w", e.Event, e.MessageID, err)
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE tenant_id = $1 AND id = $2)`, tenantID, e.MessageID).Scan(&exists); err != nil {
			return false, err
		}
		if !exists {
			return false, fmt.Errorf("message %s: %w", e.MessageID, ErrNotFound)
		}
	}
	return tag.RowsAffected() == 1, nil
}

// ProcessedEvent returns the provider's message id from the "processed"
// event of a message, if one arrived.
func (s *Store) ProcessedEvent(ctx context.Context, tenantID, messageID uuid.UUID) (providerMessageID string, found bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return "", false, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT provider_message_id FROM message_events
		WHERE tenant_id = $1 AND message_id = $2 AND event = 'processed' LIMIT 1`, tenantID, messageID)
	if err != nil {
		return "", false, fmt.Errorf("error looking for processed event of message %s: %w", messageID, err)
	}
	defer rows.Close()
	if rows.Next() {
		err := rows.Scan(&providerMessageID)
		return providerMessageID, err == nil, err
	}
	return "", false, rows.Err()
}
