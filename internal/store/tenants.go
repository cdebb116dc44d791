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

const tenantColumns = `id, name, crm_kind, crm_location_id, crm_api_key, time_zone,
	poll_interval_seconds, poll_cursor, next_poll_at, sms_from, messaging_service_sid,
	email_from, email_from_name, templates, enabled, created_at, updated_at`

func scanTenant(row pgx.Row) (lead.Tenant, error) {
	var (
		t         lead.Tenant
		apiKey    string
		pollSecs  int
		templates []byte
	)
	err := row.Scan(&t.ID, &t.Name, &t.CRMKind, &t.CRMLocationID, &apiKey, &t.TimeZone,
		&pollSecs, &t.PollCursor, &t.NextPollAt, &t.SMSFrom, &t.MessagingServiceSID,
		&t.EmailFrom, &t.EmailFromName, &templates, &t.Enabled, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return lead.Tenant{}, err
	}
	t.CRMAPIKey = lead.Secret(apiKey)
	t.PollInterval = time.Duration(pollSecs) * time.Second
	if err := json.Unmarshal(templates, &t.Templates); err != nil {
		return lead.Tenant{}, fmt.Errorf("error decoding templates of tenant %s: %w", t.ID, err)
	}
	return t, nil
}

// CreateTenant adds a shop. Its poll cursor starts now: leads from before
// it was added come in only through a backfill, which the operator asks for.
func (s *Store) CreateTenant(ctx context.Context, t lead.Tenant) (lead.Tenant, error) {
	templates, err := json.Marshal(t.Templates)
	if err != nil {
		return lead.Tenant{}, err
	}
	row := s.db.QueryRow(ctx, `
		INSERT INTO tenants (name, crm_kind, crm_location_id, crm_api_key, time_zone,
			poll_interval_seconds, sms_from, messaging_service_sid, email_from, email_from_name,
			templates, enabled, next_poll_at)
		-- The first poll is due at a random point of the first interval, so
		-- tenants added together (an import) do not poll in step forever.
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
			now() + random() * make_interval(secs => $6::integer))
		RETURNING `+tenantColumns,
		t.Name, t.CRMKind, t.CRMLocationID, t.CRMAPIKey.Reveal(), t.TimeZone,
		int(t.PollInterval/time.Second), t.SMSFrom, t.MessagingServiceSID, t.EmailFrom, t.EmailFromName,
		templates, t.Enabled)
	created, err := scanTenant(row)
	if isUniqueViolation(err) {
		return lead.Tenant{}, fmt.Errorf("tenant name %q is taken: %w", t.Name, ErrConflict)
	}
	if err != nil {
		return lead.Tenant{}, fmt.Errorf("error creating tenant %q: %w", t.Name, err)
	}
	return created, nil
}

// GetTenant returns one tenant.
func (s *Store) GetTenant(ctx context.Context, tenantID uuid.UUID) (lead.Tenant, error) {
	t, err := scanTenant(s.db.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Tenant{}, fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	if err != nil {
		return lead.Tenant{}, fmt.Errorf("error fetching tenant %s: %w", tenantID, err)
	}
	return t, nil
}

// FleetFindTenant resolves what an operator typed (a tenant's id or name) to
// a tenant. It is fleet-wide by nature: the operator's CLI has no tenant yet.
func (s *Store) FleetFindTenant(ctx context.Context, idOrName string) (lead.Tenant, error) {
	var row pgx.Row
	if id, err := uuid.Parse(idOrName); err == nil {
		row = s.db.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id)
	} else {
		row = s.db.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE name = $1`, idOrName)
	}
	t, err := scanTenant(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Tenant{}, fmt.Errorf("tenant %q: %w", idOrName, ErrNotFound)
	}
	if err != nil {
		return lead.Tenant{}, fmt.Errorf("error fetching tenant %q: %w", idOrName, err)
	}
	return t, nil
}

// FleetListTenants lists every tenant, for the operator's CLI.
func (s *Store) FleetListTenants(ctx context.Context) ([]lead.Tenant, error) {
	rows, err := s.db.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("error listing tenants: %w", err)
	}
	defer rows.Close()
	var out []lead.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("error listing tenants: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetTenantEnabled turns a tenant's polling and messaging on or off.
func (s *Store) SetTenantEnabled(ctx context.Context, tenantID uuid.UUID, enabled bool) error {
	tag, err := s.db.Exec(ctx, `UPDATE tenants SET enabled = $2, updated_at = now() WHERE id = $1`, tenantID, enabled)
	if err != nil {
		return fmt.Errorf("error updating tenant %s: %w", tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	return nil
}

// DuePoll is a tenant whose next live poll is due, with the window start
// the poll must cover.
type DuePoll struct {
	TenantID   uuid.UUID
	PollCursor time.Time
}

// FleetClaimDuePolls finds enabled tenants whose next poll is due at now,
// moves their next_poll_at one interval on, and returns them. Rows are
// locked with SKIP LOCKED, so two schedulers (a leader change mid-run)
// never claim the same tenant. The next time is computed from the previous
// one, not from now, so schedules do not drift; a tenant that fell more
// than an interval behind restarts from now.
func (s *Store) FleetClaimDuePolls(ctx context.Context, now time.Time, limit int) ([]DuePoll, error) {
	rows, err := s.db.Query(ctx, `
		WITH due AS (
			SELECT id FROM tenants
			WHERE enabled AND next_poll_at <= $1
			ORDER BY next_poll_at
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE tenants t SET next_poll_at = CASE
			WHEN t.next_poll_at + make_interval(secs => t.poll_interval_seconds) > $1
				THEN t.next_poll_at + make_interval(secs => t.poll_interval_seconds)
			ELSE $1 + make_interval(secs => t.poll_interval_seconds) END
		FROM due WHERE t.id = due.id
		RETURNING t.id, t.poll_cursor`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("error claiming due polls: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DuePoll, error) {
		var d DuePoll
		err := r.Scan(&d.TenantID, &d.PollCursor)
		return d, err
	})
}

// AdvancePollCursor records that a live poll listed everything up to until.
// The cursor only moves forward, so polls that complete out of order cannot
// move it back and make a later poll skip a window.
func (s *Store) AdvancePollCursor(ctx context.Context, tenantID uuid.UUID, until time.Time) error {
	_, err := s.db.Exec(ctx, `
		UPDATE tenants SET poll_cursor = greatest(poll_cursor, $2), updated_at = now()
		WHERE id = $1`, tenantID, until)
	if err != nil {
		return fmt.Errorf("error advancing poll cursor of tenant %s: %w", tenantID, err)
	}
	return nil
}
