package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

const tenantColumns = `id, name, crm_kind, crm_base_url, crm_location_id, crm_client_id,
	crm_secret_key_id, crm_secret_sealed, crm_rate_limit_per_minute, time_zone,
	quiet_hours_start, quiet_hours_end, poll_interval_seconds, poll_cursor, next_poll_at,
	sms_from, messaging_service_sid, email_from, email_from_name, templates, enabled,
	created_at, updated_at, quiet_rule, sequence, first_reply_needs_consent, notify_email, help_text,
	webhook_secret_key_id, webhook_secret_sealed, webhook_token_sha256,
	needs_attention, attention_reason, attention_since, reply_domain, shop_phone, missed_call_text, booking, compliance`

func scanTenant(row pgx.Row) (lead.Tenant, error) {
	var (
		t                    lead.Tenant
		pollSecs             int
		templates            []byte
		quietStart, quietEnd pgtype.Time
		sequence             []byte
		firstReplyConsent    bool
		attentionSince       *time.Time
		booking              []byte
		compliance           []byte
	)
	err := row.Scan(&t.ID, &t.Name, &t.CRMKind, &t.CRMBaseURL, &t.CRMLocationID, &t.CRMClientID,
		&t.CRMSecret.KeyID, &t.CRMSecret.Ciphertext, &t.CRMRateLimit, &t.TimeZone,
		&quietStart, &quietEnd, &pollSecs, &t.PollCursor, &t.NextPollAt,
		&t.SMSFrom, &t.MessagingServiceSID, &t.EmailFrom, &t.EmailFromName, &templates, &t.Enabled,
		&t.CreatedAt, &t.UpdatedAt, &t.QuietRule, &sequence, &firstReplyConsent, &t.NotifyEmail, &t.HelpText,
		&t.WebhookSecret.KeyID, &t.WebhookSecret.Ciphertext, &t.WebhookTokenHash,
		&t.NeedsAttention, &t.AttentionReason, &attentionSince, &t.ReplyDomain, &t.ShopPhone, &t.MissedCallText, &booking, &compliance)
	if err != nil {
		return lead.Tenant{}, err
	}
	if attentionSince != nil {
		t.AttentionSince = *attentionSince
	}
	t.AllowFirstReplyWithoutConsent = !firstReplyConsent
	if sequence != nil {
		if err := json.Unmarshal(sequence, &t.Sequence); err != nil {
			return lead.Tenant{}, fmt.Errorf("error decoding the sequence of tenant %s: %w", t.ID, err)
		}
	}
	t.QuietHours = lead.QuietHours{Start: timeOfDay(quietStart), End: timeOfDay(quietEnd)}
	t.PollInterval = time.Duration(pollSecs) * time.Second
	if err := json.Unmarshal(templates, &t.Templates); err != nil {
		return lead.Tenant{}, fmt.Errorf("error decoding templates of tenant %s: %w", t.ID, err)
	}
	if err := json.Unmarshal(booking, &t.Booking); err != nil {
		return lead.Tenant{}, fmt.Errorf("error decoding the booking settings of tenant %s: %w", t.ID, err)
	}
	if err := json.Unmarshal(compliance, &t.Compliance); err != nil {
		return lead.Tenant{}, fmt.Errorf("error decoding the compliance settings of tenant %s: %w", t.ID, err)
	}
	return t, nil
}

func timeOfDay(t pgtype.Time) lead.TimeOfDay {
	return lead.TimeOfDay(t.Microseconds / int64(time.Minute/time.Microsecond))
}

func pgTime(t lead.TimeOfDay) pgtype.Time {
	return pgtype.Time{Microseconds: int64(t) * int64(time.Minute/time.Microsecond), Valid: true}
}

// tenantArgs are the settings an operator sets, in the order of
// tenantSettingColumns ($2 onwards; $1 is the id).
func tenantArgs(t lead.Tenant) (args []any, err error) {
	templates, err := json.Marshal(t.Templates)
	if err != nil {
		return nil, err
	}
	quiet := t.QuietHours
	if quiet.IsZero() {
		quiet = lead.DefaultQuietHours
	}
	booking, err := json.Marshal(t.Booking)
	if err != nil {
		return nil, err
	}
	compliance, err := json.Marshal(t.Compliance)
	if err != nil {
		return nil, err
	}
	var sequence []byte // NULL: the default sequence
	if t.Sequence != nil {
		if sequence, err = json.Marshal(t.Sequence); err != nil {
			return nil, err
		}
	}
	return []any{t.ID, t.Name, t.CRMKind, t.CRMBaseURL, t.CRMLocationID, t.CRMClientID,
		t.CRMSecret.KeyID, t.CRMSecret.Ciphertext, t.CRMRateLimit, t.TimeZone,
		pgTime(quiet.Start), pgTime(quiet.End), int(t.PollInterval / time.Second),
		t.SMSFrom, t.MessagingServiceSID, t.EmailFrom, t.EmailFromName, jsonParam(templates), t.Enabled,
		string(t.QuietRule), jsonParam(sequence), !t.AllowFirstReplyWithoutConsent, t.NotifyEmail, t.HelpText,
		t.ReplyDomain, t.ShopPhone, t.MissedCallText, jsonParam(booking), jsonParam(compliance)}, nil
}

const tenantSettingColumns = `name, crm_kind, crm_base_url, crm_location_id, crm_client_id,
	crm_secret_key_id, crm_secret_sealed, crm_rate_limit_per_minute, time_zone,
	quiet_hours_start, quiet_hours_end, poll_interval_seconds,
	sms_from, messaging_service_sid, email_from, email_from_name, templates, enabled,
	quiet_rule, sequence, first_reply_needs_consent, notify_email, help_text,
	reply_domain, shop_phone, missed_call_text, booking, compliance`

// CreateTenant adds a shop. t.ID must be set (its sealed secret is bound to
// it). Its poll cursor starts now: leads from before it was added come in
// only through a backfill, which the operator asks for.
func (s *Store) CreateTenant(ctx context.Context, t lead.Tenant) (created lead.Tenant, err error) {
	if t.ID == uuid.Nil {
		return lead.Tenant{}, errors.New("error creating tenant: no id (seal its secret with credentials.Keyring.SealFor first)")
	}
	args, err := tenantArgs(t)
	if err != nil {
		return lead.Tenant{}, err
	}
	db, done, err := s.open(ctx, t.ID)
	if err != nil {
		return lead.Tenant{}, err
	}
	defer done(&err)
	created, err = scanTenant(db.QueryRow(ctx, `
		INSERT INTO tenants (id, `+tenantSettingColumns+`, next_poll_at)
		-- The first poll is due at a random point of the first interval, so
		-- tenants added together (an import) do not poll in step forever.
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
			$20, $21, $22, $23, $24, $25, $26, $27, $28, $29, now() + random() * make_interval(secs => $13::integer))
		RETURNING `+tenantColumns, args...))
	if isUniqueViolation(err) {
		return lead.Tenant{}, fmt.Errorf("tenant name %q is taken: %w", t.Name, ErrConflict)
	}
	if err != nil {
		return lead.Tenant{}, fmt.Errorf("error creating tenant %q: %w", t.Name, err)
	}
	return created, nil
}

// UpdateTenant saves an operator's change of t's settings: everything but
// the id, the CRM secret, the poll cursor and schedule, and the timestamps.
// newSecret, when not nil, replaces the CRM secret in the same
// transaction; nil keeps the stored one, whatever t.CRMSecret holds (so a
// key rotation running meanwhile is not undone by a stale copy). Workers
// read the tenant at the start of every job, so the change applies from
// the next poll and send on, with nothing to restart. A shorter poll
// interval also brings the next poll forward. A new secret, or a change of
// the CRM settings that reach it (kind, base URL, location, client id),
// clears the tenant's attention flag and makes its next poll due now: the
// polls that backed off while the CRM refused the old credentials try
// the new ones at once.
func (s *Store) UpdateTenant(ctx context.Context, t lead.Tenant, newSecret *lead.SealedSecret) (updated lead.Tenant, err error) {
	args, err := tenantArgs(t)
	if err != nil {
		return lead.Tenant{}, err
	}
	db, done, err := s.open(ctx, t.ID)
	if err != nil {
		return lead.Tenant{}, err
	}
	defer done(&err)
	if newSecret != nil {
		args[6], args[7] = newSecret.KeyID, newSecret.Ciphertext
	}
	updated, err = scanTenant(db.QueryRow(ctx, `
		UPDATE tenants SET (`+tenantSettingColumns+`) =
			($2, $3, $4, $5, $6,
			CASE WHEN $30 THEN $7 ELSE crm_secret_key_id END,
			CASE WHEN $30 THEN $8::bytea ELSE crm_secret_sealed END,
			$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29),
			crm_api_key = CASE WHEN $30 THEN '' ELSE crm_api_key END,
			next_poll_at = CASE WHEN needs_attention AND `+credentialsChanged+` THEN now()
				ELSE least(next_poll_at, now() + make_interval(secs => $13::integer)) END,
			needs_attention = needs_attention AND NOT `+credentialsChanged+`,
			attention_reason = CASE WHEN `+credentialsChanged+` THEN '' ELSE attention_reason END,
			attention_since = CASE WHEN `+credentialsChanged+` THEN NULL ELSE attention_since END,
			updated_at = now()
		WHERE id = $1
		RETURNING `+tenantColumns, append(args, newSecret != nil)...))
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Tenant{}, fmt.Errorf("tenant %s: %w", t.ID, ErrNotFound)
	}
	if isUniqueViolation(err) {
		return lead.Tenant{}, fmt.Errorf("tenant name %q is taken: %w", t.Name, ErrConflict)
	}
	if err != nil {
		return lead.Tenant{}, fmt.Errorf("error updating tenant %s: %w", t.ID, err)
	}
	return updated, nil
}

// credentialsChanged is UpdateTenant's test (on the row before the update)
// of whether the credentials the CRM sees change: a new secret ($30), or
// another kind, base URL, location or client id.
const credentialsChanged = `($30 OR (crm_kind, crm_base_url, crm_location_id, crm_client_id)
	IS DISTINCT FROM ($3::text, $4::text, $5::text, $6::text))`

// GetTenant returns one tenant.
func (s *Store) GetTenant(ctx context.Context, tenantID uuid.UUID) (lead.Tenant, error) {
	t, err := scanTenant(s.queryRow(ctx, tenantID, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Tenant{}, fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	if err != nil {
		return lead.Tenant{}, fmt.Errorf("error fetching tenant %s: %w", tenantID, err)
	}
	return t, nil
}

// FleetFindTenant resolves what an operator typed (a tenant's id or name) to
// a tenant. It is fleet-wide by nature: the operator's CLI has no tenant
// yet. Only the id is looked up across tenants (by a function the database
// runs as the owner); the tenant itself is read in its own scope.
func (s *Store) FleetFindTenant(ctx context.Context, idOrName string) (lead.Tenant, error) {
	key := idOrName
	if id, err := uuid.Parse(idOrName); err == nil {
		key = id.String()
	}
	var id uuid.UUID
	err := s.db.QueryRow(ctx, `SELECT leadorch_find_tenant($1) LIMIT 1`, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return lead.Tenant{}, fmt.Errorf("tenant %q: %w", idOrName, ErrNotFound)
	}
	if err != nil {
		return lead.Tenant{}, fmt.Errorf("error looking up tenant %q: %w", idOrName, err)
	}
	return s.GetTenant(ctx, id)
}

// FleetListTenants lists every tenant by name, for the operator's CLI.
func (s *Store) FleetListTenants(ctx context.Context) ([]lead.Tenant, error) {
	rows, err := s.db.Query(ctx, `SELECT leadorch_tenant_ids()`)
	if err != nil {
		return nil, fmt.Errorf("error listing tenants: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("error listing tenants: %w", err)
	}
	out := make([]lead.Tenant, 0, len(ids))
	for _, id := range ids {
		t, err := s.GetTenant(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the list was taken
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// SetTenantEnabled turns a tenant's polling and messaging on or off.
func (s *Store) SetTenantEnabled(ctx context.Context, tenantID uuid.UUID, enabled bool) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE tenants SET enabled = $2, updated_at = now() WHERE id = $1`, tenantID, enabled)
	if err != nil {
		return fmt.Errorf("error updating tenant %s: %w", tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	return nil
}

// SetTenantWebhookCredentials stores what the shop's CRM webhooks are
// checked with: the sealed ShopMonkey signing secret and the SHA-256 of the
// Tekmetric URL token. A nil argument keeps what is stored, so setting one
// never writes back a stale copy of the other.
func (s *Store) SetTenantWebhookCredentials(ctx context.Context, tenantID uuid.UUID, secret *lead.SealedSecret, tokenHash []byte) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	var keyID *string
	var sealed []byte
	if secret != nil {
		keyID, sealed = &secret.KeyID, secret.Ciphertext
	}
	tag, err := db.Exec(ctx, `UPDATE tenants SET
		webhook_secret_key_id = CASE WHEN $2::text IS NULL THEN webhook_secret_key_id ELSE $2 END,
		webhook_secret_sealed = CASE WHEN $2::text IS NULL THEN webhook_secret_sealed ELSE $3 END,
		webhook_token_sha256 = coalesce($4, webhook_token_sha256),
		updated_at = now() WHERE id = $1`, tenantID, keyID, sealed, tokenHash)
	if err != nil {
		return fmt.Errorf("error storing the webhook credentials of tenant %s: %w", tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	return nil
}

// ReplaceTenantWebhookSecret stores a re-sealed webhook signing secret in
// place of old, only if the stored one is still old (ErrConflict
// otherwise), like ReplaceTenantSecret.
func (s *Store) ReplaceTenantWebhookSecret(ctx context.Context, tenantID uuid.UUID, old, sealed lead.SealedSecret) error {
	return s.replaceSealed(ctx, tenantID, "webhook_secret", "webhook secret", old, sealed)
}

// ReplaceTenantSecret stores a newly sealed CRM secret in place of old
// (a re-seal under a new key), only if the stored secret is still old: it
// returns ErrConflict when the secret changed meanwhile (an operator gave
// a new one), so a rotation never undoes it.
func (s *Store) ReplaceTenantSecret(ctx context.Context, tenantID uuid.UUID, old, sealed lead.SealedSecret) error {
	return s.replaceSealed(ctx, tenantID, "crm_secret", "CRM secret", old, sealed)
}

// replaceSealed is the compare-and-swap of one sealed secret, stored in
// the columns <column>_key_id and <column>_sealed (a constant of ours,
// never input). Re-sealing also blanks the pre-encryption plaintext key
// (empty anyway once `worker migrate` has sealed it).
func (s *Store) replaceSealed(ctx context.Context, tenantID uuid.UUID, column, what string, old, sealed lead.SealedSecret) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE tenants SET `+column+`_key_id = $2, `+column+`_sealed = $3, crm_api_key = '',
		updated_at = now() WHERE id = $1 AND `+column+`_key_id = $4 AND `+column+`_sealed IS NOT DISTINCT FROM $5`,
		tenantID, sealed.KeyID, sealed.Ciphertext, old.KeyID, old.Ciphertext)
	if err != nil {
		return fmt.Errorf("error storing the %s of tenant %s: %w", what, tenantID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("the %s of tenant %s changed meanwhile (or the tenant is gone): %w", what, tenantID, ErrConflict)
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
// moves their next_poll_at one interval on, and returns them, through the
// one database function allowed to look across tenants for it (migration
// 3). Rows are
// locked with SKIP LOCKED, so two schedulers (a leader change mid-run)
// never claim the same tenant. The next time is computed from the previous
// one, not from now, so schedules do not drift; a tenant that fell more
// than an interval behind restarts from now.
func (s *Store) FleetClaimDuePolls(ctx context.Context, now time.Time, limit int) ([]DuePoll, error) {
	rows, err := s.db.Query(ctx, `SELECT tenant_id, poll_cursor FROM leadorch_claim_due_polls($1, $2)`, now, limit)
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
func (s *Store) AdvancePollCursor(ctx context.Context, tenantID uuid.UUID, until time.Time) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	_, err = db.Exec(ctx, `
		UPDATE tenants SET poll_cursor = greatest(poll_cursor, $2), updated_at = now()
		WHERE id = $1`, tenantID, until)
	if err != nil {
		return fmt.Errorf("error advancing poll cursor of tenant %s: %w", tenantID, err)
	}
	return nil
}
