package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MarkTenantNeedsAttention records that the tenant's CRM rejected its
// credentials at now, answering reason, and backs its polls off: the next
// one is due after as long as the refusals have lasted (at least the poll
// interval, at most maxBackoff), so a shop whose key was revoked is asked
// about every 1, 1, 2, 4, 8 ... intervals instead of every interval, for
// as long as nobody fixes it.
func (s *Store) MarkTenantNeedsAttention(ctx context.Context, tenantID uuid.UUID, reason string, now time.Time, maxBackoff time.Duration) (mark AttentionMark, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return AttentionMark{}, err
	}
	defer done(&err)
	err = db.QueryRow(ctx, `
		WITH old AS (SELECT needs_attention, coalesce(attention_since, $3::timestamptz) AS since FROM tenants WHERE id = $1 FOR UPDATE)
		UPDATE tenants t SET needs_attention = true, attention_reason = $2, attention_since = old.since,
			next_poll_at = greatest(t.next_poll_at, $3::timestamptz + least(
				greatest($3::timestamptz - old.since, make_interval(secs => t.poll_interval_seconds)),
				make_interval(secs => $4::double precision)))
		FROM old WHERE t.id = $1
		RETURNING t.name, NOT old.needs_attention, t.next_poll_at`,
		tenantID, reason, now, maxBackoff.Seconds()).Scan(&mark.TenantName, &mark.Began, &mark.NextPollAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return AttentionMark{}, fmt.Errorf("tenant %s: %w", tenantID, ErrNotFound)
	}
	if err != nil {
		return AttentionMark{}, fmt.Errorf("error marking tenant %s as needing attention: %w", tenantID, err)
	}
	return mark, nil
}

// AttentionMark is what MarkTenantNeedsAttention did to a tenant.
type AttentionMark struct {
	TenantName string
	// Began says the tenant needed no attention before, so the caller can
	// log the change once instead of on every refused job.
	Began      bool
	NextPollAt time.Time
}

// ClearTenantAttention records that the tenant's CRM took its credentials
// again (a poll succeeded). cleared says it needed attention until now.
func (s *Store) ClearTenantAttention(ctx context.Context, tenantID uuid.UUID) (cleared bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE tenants SET needs_attention = false, attention_reason = '', attention_since = NULL
		WHERE id = $1 AND needs_attention`, tenantID)
	if err != nil {
		return false, fmt.Errorf("error clearing the attention flag of tenant %s: %w", tenantID, err)
	}
	return tag.RowsAffected() > 0, nil
}
