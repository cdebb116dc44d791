package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// SMSOutcome is the final delivery outcome of one of the tenant's texts,
// as its status callback reported it.
type SMSOutcome struct {
	ProviderID string
	// Delivered is true for delivered (and read); false for undelivered
	// and failed.
	Delivered bool
	// ErrorCode is the provider's code (0 when delivered).
	ErrorCode int
	// Verdict is the fleet's reading of ErrorCode (a messaging.Verdict:
	// "" for none, "filtered", "unregistered", "landline", ...).
	Verdict    string
	RecordedAt time.Time
}

// OutcomeWindow is how many of a tenant's latest outcomes RecordSMSOutcome
// returns and keeps: the "3 of the last 20" rule reads no further.
const OutcomeWindow = 20

// RecordSMSOutcome stores o once per message (a repeated callback changes
// nothing), drops the tenant's outcomes older than its latest
// OutcomeWindow, and returns those latest ones, newest first. The prune
// runs only once twice the window has piled up, so it deletes a batch of
// rows every OutcomeWindow callbacks instead of one row on each.
func (s *Store) RecordSMSOutcome(ctx context.Context, tenantID uuid.UUID, o SMSOutcome) (latest []SMSOutcome, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	if _, err := db.Exec(ctx, `INSERT INTO sms_outcomes (tenant_id, provider_id, delivered, error_code, verdict, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, provider_id) DO NOTHING`,
		tenantID, o.ProviderID, o.Delivered, o.ErrorCode, o.Verdict, o.RecordedAt); err != nil {
		return nil, fmt.Errorf("error recording the outcome of message %s: %w", o.ProviderID, err)
	}
	if _, err := db.Exec(ctx, `
		WITH edge AS (SELECT recorded_at, provider_id FROM sms_outcomes WHERE tenant_id = $1
			ORDER BY recorded_at DESC, provider_id DESC OFFSET $2 - 1 LIMIT 1)
		DELETE FROM sms_outcomes o USING edge
		WHERE o.tenant_id = $1 AND (o.recorded_at, o.provider_id) < (edge.recorded_at, edge.provider_id)
		AND EXISTS (SELECT 1 FROM sms_outcomes x WHERE x.tenant_id = $1 ORDER BY recorded_at DESC OFFSET 2 * $2 - 1 LIMIT 1)`,
		tenantID, OutcomeWindow); err != nil {
		return nil, fmt.Errorf("error pruning the outcomes of tenant %s: %w", tenantID, err)
	}
	rows, err := db.Query(ctx, `SELECT provider_id, delivered, error_code, verdict, recorded_at FROM sms_outcomes
		WHERE tenant_id = $1 ORDER BY recorded_at DESC, provider_id DESC LIMIT $2`, tenantID, OutcomeWindow)
	if err != nil {
		return nil, fmt.Errorf("error reading the outcomes of tenant %s: %w", tenantID, err)
	}
	latest, err = pgx.CollectRows(rows, pgx.RowToStructByPos[SMSOutcome])
	if err != nil {
		return nil, fmt.Errorf("error reading the outcomes of tenant %s: %w", tenantID, err)
	}
	return latest, nil
}

// CarrierAttention is why carriers are refusing a tenant's texts, and
// since when; Reason "" means they are not.
type CarrierAttention struct {
	Reason string
	Since  time.Time
}

// MarkCarrierAttention records that carriers are filtering the tenant's
// texts for reason. Since stays when the tenant was already marked (the
// reason is brought up to date); began says it was not, so the caller
// logs the change once. It is a flag of its own, not needs_attention:
// that one is the CRM's credentials, cleared by a successful poll.
func (s *Store) MarkCarrierAttention(ctx context.Context, tenantID uuid.UUID, reason string, now time.Time) (tenantName string, began bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return "", false, err
	}
	defer done(&err)
	err = db.QueryRow(ctx, `
		WITH old AS (SELECT carrier_attention FROM tenants WHERE id = $1 FOR UPDATE)
		UPDATE tenants t SET carrier_attention = $2,
			carrier_attention_since = CASE WHEN old.carrier_attention = '' THEN $3 ELSE t.carrier_attention_since END
		FROM old WHERE t.id = $1
		RETURNING t.name, old.carrier_attention = ''`, tenantID, reason, now).Scan(&tenantName, &began)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("error marking tenant %s's texts as filtered: %w", tenantID, err)
	}
	return tenantName, began, nil
}

// ClearCarrierAttention records that carriers deliver the tenant's texts
// again. cleared says it was marked until now; an unmarked tenant's row is
// not written.
func (s *Store) ClearCarrierAttention(ctx context.Context, tenantID uuid.UUID) (cleared bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE tenants SET carrier_attention = '', carrier_attention_since = NULL
		WHERE id = $1 AND carrier_attention <> ''`, tenantID)
	if err != nil {
		return false, fmt.Errorf("error clearing the carrier flag of tenant %s: %w", tenantID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// GetCarrierAttention reads whether carriers are filtering the tenant's
// texts (what `enqueue tenant list` shows).
func (s *Store) GetCarrierAttention(ctx context.Context, tenantID uuid.UUID) (a CarrierAttention, err error) {
	var since *time.Time
	err = s.queryRow(ctx, tenantID, `SELECT carrier_attention, carrier_attention_since FROM tenants WHERE id = $1`,
		tenantID).Scan(&a.Reason, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return CarrierAttention{}, fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	if err != nil {
		return CarrierAttention{}, fmt.Errorf("error reading the carrier flag of tenant %s: %w", tenantID, err)
	}
	if since != nil {
		a.Since = *since
	}
	return a, nil
}

// CarrierProblemPrefix starts a contact problem a carrier's verdict
// recorded (MarkNotTextable), as opposed to one found in the CRM's records.
const CarrierProblemPrefix = "carrier: "

// keepCarrierProblem is UpsertLead's new contact_problem when the CRM's
// newer version of a lead brings its problems ($18): the CRM's, plus the
// carrier's verdict on the lead's number while the number stays the same
// ($9). The CRM knows nothing of the carrier, so without it the next edit
// in the CRM would erase "cannot receive texts" from the thread. A new
// number starts clean (its own suppression, if any, stands apart). In an
// UPDATE's SET, contact_problem and phone are the row's old values.
const keepCarrierProblem = `concat_ws('; ', nullif($18, ''),
	CASE WHEN phone = $9 THEN substring(contact_problem from '` + CarrierProblemPrefix + `[^;]*') END)`

// MarkNotTextable records that the carrier cannot deliver texts to phone
// (a landline): a suppression of the number on sms (source "carrier", so
// no further text to it is paid for; email is another channel and goes
// on), and problem added to the contact problems of every lead of the
// tenant with that number (once: a repeated verdict adds nothing), as
// CarrierProblemPrefix + problem, with any ";" made a "," (problems are
// joined by "; "). It survives the lead's later ingests while its number
// stays (keepCarrierProblem). The suppression keeps an earlier one (a STOP
// stays a STOP).
func (s *Store) MarkNotTextable(ctx context.Context, tenantID uuid.UUID, phone lead.PhoneNumber, reason, problem string) (err error) {
	problem = CarrierProblemPrefix + strings.ReplaceAll(problem, ";", ",")
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	if _, err := db.Exec(ctx, `
		INSERT INTO suppressions (tenant_id, channel, address, reason, source, created_at) VALUES ($1, 'sms', $2, $3, 'carrier', clock_timestamp())
		ON CONFLICT (tenant_id, channel, address) DO NOTHING`, tenantID, string(phone), reason); err != nil {
		return fmt.Errorf("error suppressing a landline: %w", err)
	}
	if _, err := db.Exec(ctx, `
		UPDATE leads SET contact_problem = CASE WHEN contact_problem = '' THEN $3 ELSE contact_problem || '; ' || $3 END
		WHERE tenant_id = $1 AND phone = $2 AND phone <> '' AND strpos(contact_problem, $3) = 0`,
		tenantID, string(phone), problem); err != nil {
		return fmt.Errorf("error recording a landline as the leads' contact problem: %w", err)
	}
	return nil
}
