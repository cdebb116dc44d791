package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TakeCRMRequest spends one request of the tenant's CRM budget, shared by
// every replica: a token bucket that refills at perMinute and holds at most
// burst. It returns zero when the request may go now, or how long until a
// token is free (nothing is spent then). The row lock serialises the
// replicas' takes for one tenant only.
func (s *Store) TakeCRMRequest(ctx context.Context, tenantID uuid.UUID, perMinute, burst int, now time.Time) (time.Duration, error) {
	if perMinute <= 0 || burst <= 0 {
		return 0, fmt.Errorf("error taking a CRM request: rate %d/min and burst %d must be positive", perMinute, burst)
	}
	var (
		tokens float64
		taken  bool
	)
	// refilled is what the bucket holds now, before this take.
	const refilled = `least($3::float8, r.tokens + greatest(0, extract(epoch FROM $4 - r.refilled_at)::float8) * $2::float8 / 60)`
	err := s.queryRow(ctx, tenantID, `
		INSERT INTO crm_rate_limits AS r (tenant_id, tokens, refilled_at, taken) VALUES ($1, $3::float8 - 1, $4, true)
		ON CONFLICT (tenant_id) DO UPDATE SET
			tokens = `+refilled+` - CASE WHEN `+refilled+` >= 1 THEN 1 ELSE 0 END,
			taken = `+refilled+` >= 1,
			refilled_at = greatest(r.refilled_at, $4)
		RETURNING tokens, taken`, tenantID, perMinute, burst, now).Scan(&tokens, &taken)
	if err != nil {
		return 0, fmt.Errorf("error taking a CRM request for tenant %s: %w", tenantID, err)
	}
	if taken {
		return 0, nil
	}
	return time.Duration((1 - tokens) * 60 / float64(perMinute) * float64(time.Second)), nil
}
