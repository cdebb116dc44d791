package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// An outbox row is settled by its send job: sent, skipped, failed,
// ambiguous. A row left pending or sending whose job River will never run
// again (cancelled or deleted in River UI, discarded after its attempts,
// cancelled by a customer's reply before it ran) would stay that way
// forever, and `enqueue messages` would never show it. The orphan sweep
// finds such rows and settles them: sending means the provider may have
// the message (ambiguous, for an operator); pending means it certainly
// does not (failed, with the reason).

// SendJobKinds names the River job kind that sends each channel's
// messages; a row's job is the job of that kind whose args name the row's
// tenant, lead and step.
type SendJobKinds struct {
	SMS   string
	Email string
}

// OrphanedMessage is an outbox row the fleet-wide sweep found unsettled
// with no live job.
type OrphanedMessage struct {
	TenantID  uuid.UUID
	MessageID uuid.UUID
}

// FleetOrphanedMessages lists up to limit unsettled outbox rows of every
// tenant that no live job will settle, oldest first, through the one
// database function allowed to look across tenants for it (migration 8).
// It returns ids only; SettleOrphanedMessages then acts on each tenant's
// rows under that tenant's row-level security. One statement finds the few
// orphans of the whole fleet, where asking each tenant would cost a
// transaction per tenant per sweep (10,000 in the bench's schedule run).
func (s *Store) FleetOrphanedMessages(ctx context.Context, kinds SendJobKinds, limit int) ([]OrphanedMessage, error) {
	rows, err := s.db.Query(ctx, `SELECT tenant_id, message_id FROM leadorch_orphaned_messages($1, $2, $3)`,
		kinds.SMS, kinds.Email, limit)
	if err != nil {
		return nil, fmt.Errorf("error finding orphaned messages: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrphanedMessage, error) {
		var o OrphanedMessage
		err := r.Scan(&o.TenantID, &o.MessageID)
		return o, err
	})
}

// SettledMessage is an orphaned outbox row as the sweep left it.
type SettledMessage struct {
	ID      uuid.UUID
	LeadID  uuid.UUID
	Step    string
	Channel lead.Channel
	// Status is ambiguous (it was sending) or failed (it was pending).
	Status lead.MessageStatus
	Reason string
}

// sendJobKind is the send job kind of the outbox row m ($3 and $4 are the
// SMS and email kinds).
const sendJobKind = `CASE m.channel WHEN 'sms' THEN $3 ELSE $4 END`

// liveSendJob is true when River may still run a send job of m (migration
// 8's leadorch_send_job_live): that job will settle the row itself.
const liveSendJob = `leadorch_send_job_live(m.tenant_id, m.lead_id, m.step, ` + sendJobKind + `)`

// lastSendJob describes the newest send job of m, whatever its state; the
// reason names it so an operator can find it in River UI.
const lastSendJob = `coalesce((SELECT format('send job %s was %s', job_id, job_state)
	FROM leadorch_last_send_job(m.tenant_id, m.lead_id, m.step, ` + sendJobKind + `)), 'its send job was deleted')`

// mayHaveGone is true for an outbox row m that a send may have left: one
// sending now, or one an operator resent (only an ambiguous message is
// resent, and its first try may have reached the customer). A resend's
// job cancelled before it ran (a reply cancels pending steps) left the
// row pending; settled "failed before the provider had it", it would
// erase that the customer may have it (a review found it). The claim time
// cannot tell: a send Twilio refused outright (429) is pending again with
// it kept.
const mayHaveGone = `(m.status = 'sending' OR EXISTS (SELECT 1 FROM river_job j
	WHERE j.kind = ` + sendJobKind + ` AND j.args->>'tenant_id' = m.tenant_id::text
	AND j.args->>'lead_id' = m.lead_id::text AND j.args->>'step' = m.step
	AND coalesce((j.args->>'resend')::int, 0) > 0))`

// Reasons written on settled rows; %s is lastSendJob's description.
const (
	orphanedPendingReason = "%s before the provider had the message; no job is left to send it"
	orphanedSendingReason = "%s after it called the provider, which may have the message; it is not sent again unless an operator runs `enqueue resend`"
)

// SettleOrphanedMessages settles the tenant's outbox rows ids that are
// still unsettled and still have no live send job: a row a send may have
// left (mayHaveGone) becomes ambiguous, any other failed, each with the reason. Both conditions
// are checked again in the same statement that writes, under the rows'
// locks, so a row that moved on (or got a job: an operator's resend) since
// FleetOrphanedMessages found it is left alone. A job that River UI
// retries after this finds the row settled and sends nothing.
func (s *Store) SettleOrphanedMessages(ctx context.Context, tenantID uuid.UUID, ids []uuid.UUID, kinds SendJobKinds) (out []SettledMessage, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `
		UPDATE messages m SET
			status = CASE WHEN `+mayHaveGone+` THEN 'ambiguous' ELSE 'failed' END,
			last_error = format(CASE WHEN `+mayHaveGone+` THEN $5::text ELSE $6::text END, `+lastSendJob+`),
			updated_at = now()
		WHERE m.tenant_id = $1 AND m.id = ANY($2::uuid[]) AND m.status IN ('pending', 'sending')
		AND NOT `+liveSendJob+`
		RETURNING m.id, m.lead_id, m.step, m.channel, m.status, m.last_error`,
		tenantID, uuidStrings(ids), kinds.SMS, kinds.Email, orphanedSendingReason, orphanedPendingReason)
	if err != nil {
		return nil, fmt.Errorf("error settling orphaned messages: %w", err)
	}
	out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (SettledMessage, error) {
		var m SettledMessage
		err := r.Scan(&m.ID, &m.LeadID, &m.Step, &m.Channel, &m.Status, &m.Reason)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("error settling orphaned messages: %w", err)
	}
	return out, nil
}
