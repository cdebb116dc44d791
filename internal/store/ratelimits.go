package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TakeCRMRequests spends up to want requests of the tenant's CRM budget,
// shared by every replica: a token bucket that refills at perMinute and
// holds at most burst. It returns how many it got (0 to want) and, when it
// got none, how long until one is free. The row lock serialises the
// replicas' takes for one tenant only. Taking several at once lets a
// replica spend them without a statement per request.
func (s *Store) TakeCRMRequests(ctx context.Context, tenantID uuid.UUID, perMinute, burst, want int, now time.Time) (int, time.Duration, error) {
	if perMinute <= 0 || burst <= 0 || want <= 0 {
		return 0, 0, fmt.Errorf("error taking CRM requests: rate %d/min, burst %d and want %d must be positive", perMinute, burst, want)
	}
	var (
		tokens float64
		taken  int
	)
	// refilled is what the bucket holds now, before this take.
	const refilled = `least($3::float8, r.tokens + greatest(0, extract(epoch FROM $4 - r.refilled_at)::float8) * $2::float8 / 60)`
	const take = `least($5::integer, floor(` + refilled + `)::integer)`
	err := s.queryRow(ctx, tenantID, `
		INSERT INTO crm_rate_limits AS r (tenant_id, tokens, refilled_at, taken)
		VALUES ($1, $3::float8 - least($5::integer, $3::integer), $4, least($5::integer, $3::integer))
		ON CONFLICT (tenant_id) DO UPDATE SET
			tokens = `+refilled+` - `+take+`,
			taken = `+take+`,
			refilled_at = greatest(r.refilled_at, $4)
		RETURNING tokens, taken`, tenantID, perMinute, burst, now, want).Scan(&tokens, &taken)
	if err != nil {
		return 0, 0, fmt.Errorf("error taking CRM requests for tenant %s: %w", tenantID, err)
	}
	if taken > 0 {
		return taken, 0, nil
	}
	return 0, time.Duration((1 - tokens) * 60 / float64(perMinute) * float64(time.Second)), nil
}
