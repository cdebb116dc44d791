package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

const messageColumns = `id, tenant_id, lead_id, step, channel, to_address, from_address,
	messaging_service_sid, from_name, subject, body, status, coalesce(provider_id, ''), attempts, last_error, sending_at, sent_at, created_at, reply_to, allowed_by`

func scanMessage(row pgx.Row) (lead.Message, error) {
	var (
		m                 lead.Message
		sendingAt, sentAt *time.Time
	)
	err := row.Scan(&m.ID, &m.TenantID, &m.LeadID, &m.Step, &m.Channel, &m.To, &m.From,
		&m.MessagingServiceSID, &m.FromName, &m.Subject, &m.Body, &m.Status, &m.ProviderID, &m.Attempts, &m.LastError, &sendingAt, &sentAt, &m.CreatedAt, &m.ReplyTo, &m.AllowedBy)
	if sendingAt != nil {
		m.SendingAt = *sendingAt
	}
	if sentAt != nil {
		m.SentAt = *sentAt
	}
	return m, err
}

// LockMessage returns the outbox row of (lead, step, channel), creating it
// from m when it does not exist yet, and locks it for the rest of the
// transaction. A second worker running the same step (a rescued job, a
// duplicate) waits here until the first commits, then sees its outcome.
// The body and the sender are fixed when the row is created: a retry sends
// what the first attempt rendered, from whom it chose.
func (s *Store) LockMessage(ctx context.Context, tenantID uuid.UUID, m lead.Message) (got lead.Message, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return lead.Message{}, err
	}
	defer done(&err)
	_, err = db.Exec(ctx, `
		INSERT INTO messages (tenant_id, lead_id, step, channel, to_address, from_address,
			messaging_service_sid, from_name, subject, body, status, reply_to)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (tenant_id, lead_id, step, channel) DO NOTHING`,
		tenantID, m.LeadID, m.Step, m.Channel, m.To, m.From,
		m.MessagingServiceSID, m.FromName, m.Subject, m.Body, statusOr(m.Status, lead.MessagePending), m.ReplyTo)
	if err != nil {
		return lead.Message{}, fmt.Errorf("error creating message %s/%s for lead %s: %w", m.Step, m.Channel, m.LeadID, err)
	}
	got, err = scanMessage(db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = $1 AND lead_id = $2 AND step = $3 AND channel = $4 FOR UPDATE`,
		tenantID, m.LeadID, m.Step, m.Channel))
	if err != nil {
		return lead.Message{}, fmt.Errorf("error locking message %s/%s for lead %s: %w", m.Step, m.Channel, m.LeadID, err)
	}
	return got, nil
}

func statusOr(s, def lead.MessageStatus) lead.MessageStatus {
	if s == "" {
		return def
	}
	return s
}

// MarkMessageSending claims a message for one provider call. Committed
// before the call, it is what lets a later attempt know a call may have
// happened.
func (s *Store) MarkMessageSending(ctx context.Context, tenantID, messageID uuid.UUID, at time.Time) error {
	return s.updateMessage(ctx, tenantID, messageID, `status = 'sending', attempts = attempts + 1, sending_at = $3`, at)
}

// MarkMessageSent records the provider's id for a message it accepted.
func (s *Store) MarkMessageSent(ctx context.Context, tenantID, messageID uuid.UUID, providerID string, at time.Time) error {
	return s.updateMessage(ctx, tenantID, messageID, `status = 'sent', provider_id = $3, sent_at = $4, last_error = ''`, providerID, at)
}

// SetMessageAllowedBy records the rule the guards let the message go by
// (lead.AllowedBy), in the claim's transaction, so that the row says why
// it was sent as things stood when it was.
func (s *Store) SetMessageAllowedBy(ctx context.Context, tenantID, messageID uuid.UUID, allowedBy string) error {
	return s.updateMessage(ctx, tenantID, messageID, `allowed_by = $3`, allowedBy)
}

// SetMessageStatus moves a message to status with the reason why (an
// error, a guard that said no).
func (s *Store) SetMessageStatus(ctx context.Context, tenantID, messageID uuid.UUID, status lead.MessageStatus, reason string) error {
	return s.updateMessage(ctx, tenantID, messageID, `status = $3, last_error = $4`, status, reason)
}

func (s *Store) updateMessage(ctx context.Context, tenantID, messageID uuid.UUID, set string, args ...any) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE messages SET `+set+`, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
		append([]any{tenantID, messageID}, args...)...)
	if err != nil {
		return fmt.Errorf("error updating message %s: %w", messageID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("message %s: %w", messageID, ErrNotFound)
	}
	return nil
}

// GetMessage returns one of the tenant's messages.
func (s *Store) GetMessage(ctx context.Context, tenantID, messageID uuid.UUID) (m lead.Message, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return lead.Message{}, err
	}
	defer done(&err)
	m, err = scanMessage(db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE tenant_id = $1 AND id = $2`, tenantID, messageID))
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Message{}, fmt.Errorf("message %s: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return lead.Message{}, fmt.Errorf("error fetching message %s: %w", messageID, err)
	}
	return m, nil
}

// ListLeadMessages returns a lead's messages, oldest first.
func (s *Store) ListLeadMessages(ctx context.Context, tenantID, leadID uuid.UUID) (out []lead.Message, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE tenant_id = $1 AND lead_id = $2 ORDER BY created_at, channel`, tenantID, leadID)
	if err != nil {
		return nil, fmt.Errorf("error listing messages of lead %s: %w", leadID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (lead.Message, error) { return scanMessage(r) })
}

// CountMessages counts the tenant's messages by status.
func (s *Store) CountMessages(ctx context.Context, tenantID uuid.UUID) (out map[lead.MessageStatus]int, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT status, count(*) FROM messages WHERE tenant_id = $1 GROUP BY status`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("error counting messages: %w", err)
	}
	defer rows.Close()
	out = map[lead.MessageStatus]int{}
	for rows.Next() {
		var (
			st lead.MessageStatus
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Suppress records that an address must not be contacted again on a channel
// by this tenant. Repeats keep the first reason. It is stamped with the
// statement's clock, as SetLeadStatus stamps a reply.
func (s *Store) Suppress(ctx context.Context, tenantID uuid.UUID, channel lead.Channel, address, reason, source string) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	_, err = db.Exec(ctx, `
		INSERT INTO suppressions (tenant_id, channel, address, reason, source, created_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())
		ON CONFLICT (tenant_id, channel, address) DO NOTHING`, tenantID, channel, address, reason, source)
	if err != nil {
		return fmt.Errorf("error suppressing %s address: %w", channel, err)
	}
	return nil
}

// IsSuppressed reports whether the tenant must not contact address on channel.
func (s *Store) IsSuppressed(ctx context.Context, tenantID uuid.UUID, channel lead.Channel, address string) (ok bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	err = db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE tenant_id = $1 AND channel = $2 AND address = $3)`,
		tenantID, channel, address).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("error checking suppression: %w", err)
	}
	return ok, nil
}

// ListMessagesByStatus returns up to limit of the tenant's messages in
// status, oldest first: what an operator reviews (ambiguous ones, say).
func (s *Store) ListMessagesByStatus(ctx context.Context, tenantID uuid.UUID, status lead.MessageStatus, limit int) (out []lead.Message, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE tenant_id = $1 AND status = $2
		ORDER BY created_at LIMIT $3`, tenantID, status, limit)
	if err != nil {
		return nil, fmt.Errorf("error listing %s messages: %w", status, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (lead.Message, error) { return scanMessage(r) })
}

// RecordedProviderIDs reports which of ids the tenant's outbox already
// holds as some message's provider id. A reconcile uses it so that another
// message's text, identical and to the same number, is never taken for
// this one.
func (s *Store) RecordedProviderIDs(ctx context.Context, tenantID uuid.UUID, ids []string) (out map[string]bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT provider_id FROM messages WHERE tenant_id = $1 AND provider_id = ANY($2)`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("error checking provider ids: %w", err)
	}
	defer rows.Close()
	out = map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// FindMessage returns the outbox row of (lead, step, channel), or
// ErrNotFound.
func (s *Store) FindMessage(ctx context.Context, tenantID, leadID uuid.UUID, step string, channel lead.Channel) (lead.Message, error) {
	m, err := scanMessage(s.queryRow(ctx, tenantID, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = $1 AND lead_id = $2 AND step = $3 AND channel = $4`, tenantID, leadID, step, channel))
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Message{}, fmt.Errorf("message %s/%s of lead %s: %w", step, channel, leadID, ErrNotFound)
	}
	if err != nil {
		return lead.Message{}, fmt.Errorf("error reading message %s/%s of lead %s: %w", step, channel, leadID, err)
	}
	return m, nil
}
