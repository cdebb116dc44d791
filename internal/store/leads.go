package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

const leadColumns = `id, tenant_id, crm, external_id, source, status, customer_external_id,
	vehicle_external_id, first_name, last_name, phone, email, vehicle, summary,
	consent_sms, consent_email, consent_marketing, contact_problem, coalesce(crm_created_at, created_at),
	coalesce(crm_updated_at, created_at), crm_version, created_at, updated_at, replied_at, found_via, consent_evidence, customer_region`

func scanLead(row pgx.Row) (lead.Lead, error) {
	var (
		l            lead.Lead
		phone, email string
		vehicle      []byte
		evidence     []byte
		repliedAt    *time.Time
	)
	err := row.Scan(&l.ID, &l.TenantID, &l.CRM, &l.ExternalID, &l.Source, &l.Status,
		&l.CustomerExternalID, &l.VehicleExternalID, &l.FirstName, &l.LastName, &phone, &email,
		&vehicle, &l.Summary, &l.Consent.SMS, &l.Consent.Email, &l.Consent.Marketing, &l.ContactProblem,
		&l.CRMCreatedAt, &l.CRMUpdatedAt, &l.CRMVersion, &l.CreatedAt, &l.UpdatedAt, &repliedAt, &l.FoundVia, &evidence, &l.CustomerRegion)
	if err != nil {
		return lead.Lead{}, err
	}
	if repliedAt != nil {
		l.RepliedAt = *repliedAt
	}
	l.Phone, l.Email = lead.PhoneNumber(phone), lead.Email(email)
	if err := json.Unmarshal(vehicle, &l.Vehicle); err != nil {
		return lead.Lead{}, fmt.Errorf("error decoding vehicle of lead %s: %w", l.ID, err)
	}
	if err := json.Unmarshal(evidence, &l.ConsentEvidence); err != nil {
		return lead.Lead{}, fmt.Errorf("error decoding consent_evidence of lead %s: %w", l.ID, err)
	}
	return l, nil
}

// UpsertLead stores a lead once per (tenant, CRM, external id). A newer CRM
// version updates the stored copy; an older or equal one (a repeated poll,
// a late webhook) changes nothing. inserted reports whether this call
// created the row: only the call that creates a lead schedules its
// messages, which is what keeps overlapping polls from texting twice.
// l.FoundVia is stored with the new row only: how a lead was first seen
// does not change when a poll meets a lead a webhook brought.
func (s *Store) UpsertLead(ctx context.Context, tenantID uuid.UUID, l lead.Lead, backfilled bool) (id uuid.UUID, inserted bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return uuid.Nil, false, err
	}
	defer done(&err)
	vehicle, err := json.Marshal(l.Vehicle)
	if err != nil {
		return uuid.Nil, false, err
	}
	evidence, err := json.Marshal(l.ConsentEvidence)
	if err != nil {
		return uuid.Nil, false, err
	}
	args := []any{tenantID, l.CRM, l.ExternalID, l.Source, l.Status, l.CustomerExternalID,
		l.VehicleExternalID, l.FirstName, l.LastName, string(l.Phone), string(l.Email), jsonParam(vehicle),
		l.Summary, l.Consent.SMS, l.Consent.Email, l.Consent.Marketing, backfilled,
		nullTime(l.CRMCreatedAt), nullTime(l.CRMUpdatedAt), l.CRMVersion, l.ContactProblem, string(l.FoundVia.OrUnknown()), jsonParam(evidence), l.CustomerRegion}
	err = db.QueryRow(ctx, `
		INSERT INTO leads (tenant_id, crm, external_id, source, status, customer_external_id,
			vehicle_external_id, first_name, last_name, phone, email, vehicle, summary,
			consent_sms, consent_email, consent_marketing, backfilled, crm_created_at,
			crm_updated_at, crm_version, contact_problem, found_via, consent_evidence, customer_region, booked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
			CASE WHEN $5 = 'booked' THEN now() END)
		ON CONFLICT (tenant_id, crm, external_id) DO NOTHING
		RETURNING id`, args...).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, fmt.Errorf("error inserting lead %s: %w", l.ExternalID, err)
	}
	// The lead exists. Refresh what the CRM owns (contact details and the
	// customer's region, consent, vehicle) when this version is newer; the status is ours and stays,
	// except that a booking seen in the CRM moves an open lead to booked.
	err = db.QueryRow(ctx, `
		UPDATE leads SET customer_external_id = $5, vehicle_external_id = $6, first_name = $7,
			last_name = $8, phone = $9, email = $10, vehicle = $11, summary = $12,
			consent_sms = $13, consent_email = $14, consent_marketing = $15, consent_evidence = $19, customer_region = $20,
			crm_updated_at = $16, crm_version = $17, contact_problem = `+keepCarrierProblem+`, updated_at = now(),
			status = CASE WHEN $4 = 'booked' AND status IN ('new', 'contacted') THEN 'booked' ELSE status END,
			booked_at = CASE WHEN $4 = 'booked' AND status IN ('new', 'contacted') THEN coalesce(booked_at, now()) ELSE booked_at END
		WHERE tenant_id = $1 AND crm = $2 AND external_id = $3 AND crm_version < $17
		RETURNING id`,
		tenantID, l.CRM, l.ExternalID, string(l.Status), l.CustomerExternalID, l.VehicleExternalID,
		l.FirstName, l.LastName, string(l.Phone), string(l.Email), jsonParam(vehicle), l.Summary,
		l.Consent.SMS, l.Consent.Email, l.Consent.Marketing, nullTime(l.CRMUpdatedAt), l.CRMVersion, l.ContactProblem, jsonParam(evidence),
		l.CustomerRegion).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		// Same or older version: nothing to refresh.
		err = db.QueryRow(ctx, `SELECT id FROM leads WHERE tenant_id = $1 AND crm = $2 AND external_id = $3`,
			tenantID, l.CRM, l.ExternalID).Scan(&id)
	}
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("error updating lead %s: %w", l.ExternalID, err)
	}
	return id, false, nil
}

// GetLead returns one of the tenant's leads.
func (s *Store) GetLead(ctx context.Context, tenantID, leadID uuid.UUID) (lead.Lead, error) {
	l, err := scanLead(s.queryRow(ctx, tenantID, `SELECT `+leadColumns+` FROM leads WHERE tenant_id = $1 AND id = $2`, tenantID, leadID))
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Lead{}, fmt.Errorf("lead %s: %w", leadID, ErrNotFound)
	}
	if err != nil {
		return lead.Lead{}, fmt.Errorf("error fetching lead %s: %w", leadID, err)
	}
	return l, nil
}

// MarkLeadContacted moves a new lead to contacted after its first message
// went out. Other statuses (replied, booked, opted out) say more and stay.
func (s *Store) MarkLeadContacted(ctx context.Context, tenantID, leadID uuid.UUID) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	// The text and the email of a new lead finish together, and each
	// would wait here for the other's commit (make bench: a third of all
	// statement time). SKIP LOCKED leaves the move to whichever holds the
	// row; the one holder that would not make it (a newer CRM version
	// refreshing the lead) is rare, and leaves a texted lead "new" rather
	// than sending anything it should not. NO KEY: a plain FOR UPDATE
	// would block the outbox inserts' foreign-key checks on the lead.
	_, err = db.Exec(ctx, `
		UPDATE leads SET status = 'contacted', updated_at = now()
		WHERE id = (SELECT id FROM leads WHERE tenant_id = $1 AND id = $2 AND status = 'new' FOR NO KEY UPDATE SKIP LOCKED)`,
		tenantID, leadID)
	if err != nil {
		return fmt.Errorf("error marking lead %s contacted: %w", leadID, err)
	}
	return nil
}

// CountLeads returns how many leads the tenant has.
func (s *Store) CountLeads(ctx context.Context, tenantID uuid.UUID) (n int, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	defer done(&err)
	err = db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE tenant_id = $1`, tenantID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("error counting leads: %w", err)
	}
	return n, nil
}

// ClaimBackfilledLead hands a lead that a backfill ingested without
// messages over to live messaging, once: it clears the backfilled flag and
// reports whether this call did. A live poll that meets a fresh lead a
// backfill got to first uses it, so the customer is still answered.
func (s *Store) ClaimBackfilledLead(ctx context.Context, tenantID, leadID uuid.UUID) (claimed bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE leads SET backfilled = false, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND backfilled`, tenantID, leadID)
	if err != nil {
		return false, fmt.Errorf("error claiming backfilled lead %s: %w", leadID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// LeadExists reports whether the tenant has a lead for the CRM record.
func (s *Store) LeadExists(ctx context.Context, tenantID uuid.UUID, crm, externalID string) (bool, error) {
	var ok bool
	err := s.queryRow(ctx, tenantID, `SELECT EXISTS (SELECT 1 FROM leads WHERE tenant_id = $1 AND crm = $2 AND external_id = $3)`,
		tenantID, crm, externalID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("error looking for lead %s: %w", externalID, err)
	}
	return ok, nil
}

// BookCustomerLeads marks the tenant's open leads (new or contacted) of one
// CRM customer booked, and returns their ids: the shop booked the customer
// by another record (an appointment staff made).
func (s *Store) BookCustomerLeads(ctx context.Context, tenantID uuid.UUID, crm, customerExternalID string) (ids []uuid.UUID, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `UPDATE leads SET status = 'booked', booked_at = coalesce(booked_at, now()), updated_at = now()
		WHERE tenant_id = $1 AND crm = $2 AND customer_external_id = $3 AND status IN ('new', 'contacted')
		RETURNING id`, tenantID, crm, customerExternalID)
	if err != nil {
		return nil, fmt.Errorf("error booking the leads of customer %s: %w", customerExternalID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}
