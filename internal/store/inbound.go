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

// InboundMessage is a text a customer sent to one of the tenant's numbers.
type InboundMessage struct {
	// ID is the row's id: handle_inbound_message's args name it, so the
	// text itself never enters River's tables.
	ID         int64
	ProviderID string
	// LeadID is the lead the sender is (uuid.Nil when no lead has the
	// number, or the text is not handled yet).
	LeadID uuid.UUID
	From   string
	To     string
	Body   string
	// Kind is stop, start, help, reply, auto_reply (an email's
	// out-of-office or bounce: recorded, stops nothing) or shop_answer (the
	// shop's reply to its notice, texted to the customer).
	Kind string
	// Channel is sms or email ("" is sms). An email's From and To are
	// addresses, Subject its subject, RawBody the text as it arrived and
	// Body the reply with quoted history and signature stripped.
	Channel    string
	Subject    string
	RawBody    string
	ReceivedAt time.Time
	// HandledAt is when handle_inbound_message acted on the text (zero:
	// not yet).
	HandledAt time.Time
}

// RecordInbound stores a customer's text once per provider message id and
// returns its row id, and whether this call stored it: a redelivered
// webhook changes nothing and must not enqueue or act twice.
func (s *Store) RecordInbound(ctx context.Context, tenantID uuid.UUID, m InboundMessage) (id int64, isNew bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return 0, false, err
	}
	defer done(&err)
	err = db.QueryRow(ctx, `
		INSERT INTO inbound_messages (tenant_id, provider_id, lead_id, from_address, to_address, body, kind, received_at,
			channel, subject, raw_body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()), coalesce(nullif($9, ''), 'sms'), $10, $11)
		ON CONFLICT (tenant_id, provider_id) DO NOTHING
		RETURNING id`,
		tenantID, m.ProviderID, nullUUID(m.LeadID), m.From, m.To, m.Body, m.Kind, nullTime(m.ReceivedAt),
		m.Channel, m.Subject, m.RawBody).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = db.QueryRow(ctx, `SELECT id FROM inbound_messages WHERE tenant_id = $1 AND provider_id = $2`,
			tenantID, m.ProviderID).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("error finding inbound message %s: %w", m.ProviderID, err)
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("error recording inbound message %s: %w", m.ProviderID, err)
	}
	return id, true, nil
}

// GetInbound returns one of the tenant's inbound messages by row id, or
// ErrNotFound.
func (s *Store) GetInbound(ctx context.Context, tenantID uuid.UUID, id int64) (InboundMessage, error) {
	m, err := scanInbound(s.queryRow(ctx, tenantID, `SELECT `+inboundColumns+` FROM inbound_messages
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return InboundMessage{}, fmt.Errorf("inbound message %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return InboundMessage{}, fmt.Errorf("error reading inbound message %d: %w", id, err)
	}
	return m, nil
}

// MarkInboundHandled records that the text was acted on, against the lead
// it answers (uuid.Nil: none), and reports whether this call did: of two
// runs of one text, only one acts.
func (s *Store) MarkInboundHandled(ctx context.Context, tenantID uuid.UUID, id int64, leadID uuid.UUID) (marked bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE inbound_messages SET handled_at = now(), lead_id = $3
		WHERE tenant_id = $1 AND id = $2 AND handled_at IS NULL`, tenantID, id, nullUUID(leadID))
	if err != nil {
		return false, fmt.Errorf("error marking inbound message %d handled: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

const inboundColumns = `id, provider_id, coalesce(lead_id, '00000000-0000-0000-0000-000000000000'),
	from_address, to_address, body, kind, received_at, handled_at, channel, subject, raw_body`

func scanInbound(r pgx.Row) (InboundMessage, error) {
	var (
		m       InboundMessage
		handled *time.Time
	)
	err := r.Scan(&m.ID, &m.ProviderID, &m.LeadID, &m.From, &m.To, &m.Body, &m.Kind, &m.ReceivedAt, &handled,
		&m.Channel, &m.Subject, &m.RawBody)
	if handled != nil {
		m.HandledAt = *handled
	}
	return m, err
}

// ListInbound returns the tenant's inbound messages of one lead, oldest
// first.
func (s *Store) ListInbound(ctx context.Context, tenantID, leadID uuid.UUID) (out []InboundMessage, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT `+inboundColumns+`
		FROM inbound_messages WHERE tenant_id = $1 AND lead_id = $2 ORDER BY received_at, id`, tenantID, leadID)
	if err != nil {
		return nil, fmt.Errorf("error listing inbound messages: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboundMessage, error) { return scanInbound(r) })
}

// InboundAfter reports whether the customer at from texted a message of
// kind (stop, start...) received after t: a STOP or START handled late
// must not undo what the customer said after it.
func (s *Store) InboundAfter(ctx context.Context, tenantID uuid.UUID, from, kind string, t time.Time) (bool, error) {
	var later bool
	err := s.queryRow(ctx, tenantID, `SELECT EXISTS (SELECT 1 FROM inbound_messages
		WHERE tenant_id = $1 AND from_address = $2 AND kind = $3 AND received_at > $4)`, tenantID, from, kind, t).Scan(&later)
	if err != nil {
		return false, fmt.Errorf("error looking for later %s messages: %w", kind, err)
	}
	return later, nil
}

// FindLeadsByPhone returns every lead of the tenant with the phone number,
// newest first: a customer texting back answers for all of them.
func (s *Store) FindLeadsByPhone(ctx context.Context, tenantID uuid.UUID, phone lead.PhoneNumber) (out []lead.Lead, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT `+leadColumns+` FROM leads WHERE tenant_id = $1 AND phone = $2
		ORDER BY created_at DESC, id`, tenantID, string(phone))
	if err != nil {
		return nil, fmt.Errorf("error finding leads by phone: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (lead.Lead, error) { return scanLead(r) })
}

// SetLeadStatus moves a lead to status. The caller decides the move with
// lead.NextStatus; this only writes it. Moving to replied also stamps when
// the customer first replied, which stays whatever happens next: the
// statement's own clock, not the transaction's start, because a claim that
// committed before this transaction took the customer's locks (see
// LockForInbound) may be later than that start. Moving to opted_out or
// booked stamps the first time of each the same way (the speed-to-lead
// report's rates).
func (s *Store) SetLeadStatus(ctx context.Context, tenantID, leadID uuid.UUID, status lead.Status) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE leads SET status = $3, updated_at = now(),
		replied_at = CASE WHEN $3 = 'replied' THEN coalesce(replied_at, clock_timestamp()) ELSE replied_at END,
		opted_out_at = CASE WHEN $3 = 'opted_out' THEN coalesce(opted_out_at, clock_timestamp()) ELSE opted_out_at END,
		booked_at = CASE WHEN $3 = 'booked' THEN coalesce(booked_at, clock_timestamp()) ELSE booked_at END
		WHERE tenant_id = $1 AND id = $2`, tenantID, leadID, string(status))
	if err != nil {
		return fmt.Errorf("error setting lead %s %s: %w", leadID, status, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("lead %s: %w", leadID, ErrNotFound)
	}
	return nil
}

// Unsuppress lifts a suppression (the customer texted START).
func (s *Store) Unsuppress(ctx context.Context, tenantID uuid.UUID, channel lead.Channel, address string) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	if _, err := db.Exec(ctx, `DELETE FROM suppressions WHERE tenant_id = $1 AND channel = $2 AND address = $3`,
		tenantID, channel, address); err != nil {
		return fmt.Errorf("error lifting the suppression of a %s address: %w", channel, err)
	}
	return nil
}

// TakeWebhookDelivery records a webhook delivery id from source and
// reports whether it is new: a provider that redelivers (same id) gets
// its 2xx but enqueues nothing twice.
func (s *Store) TakeWebhookDelivery(ctx context.Context, tenantID uuid.UUID, source, deliveryID string) (isNew bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `INSERT INTO webhook_receipts (tenant_id, source, delivery_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, tenantID, source, deliveryID)
	if err != nil {
		return false, fmt.Errorf("error recording %s webhook %s: %w", source, deliveryID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordDelivery writes a provider's delivery status of the message it
// knows as providerID. Callbacks repeat and arrive out of order: a final
// status (delivered, undelivered, failed) is never replaced by an earlier
// one. It reports the message, or ErrNotFound for an id the tenant's
// outbox does not hold.
func (s *Store) RecordDelivery(ctx context.Context, tenantID uuid.UUID, providerID, status string, errorCode int) (m lead.Message, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return lead.Message{}, err
	}
	defer done(&err)
	m, err = scanMessage(db.QueryRow(ctx, `
		UPDATE messages SET delivery_status = $3, delivery_error_code = $4,
			status = CASE WHEN $3 = 'delivered' AND status = 'sent' THEN 'delivered' ELSE status END,
			updated_at = now()
		WHERE tenant_id = $1 AND provider_id = $2
		AND delivery_status NOT IN ('delivered', 'undelivered', 'failed', 'read')
		RETURNING `+messageColumns, tenantID, providerID, status, errorCode))
	if errors.Is(err, pgx.ErrNoRows) {
		got, gerr := scanMessage(db.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE tenant_id = $1 AND provider_id = $2`,
			tenantID, providerID))
		if errors.Is(gerr, pgx.ErrNoRows) {
			return lead.Message{}, fmt.Errorf("message %s: %w", providerID, ErrNotFound)
		}
		return got, gerr // already final: nothing to change
	}
	if err != nil {
		return lead.Message{}, fmt.Errorf("error recording delivery of message %s: %w", providerID, err)
	}
	return m, nil
}
