package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// tokenBuckets is a table of per-tenant token buckets, one row per tenant
// (tenant_id, tokens, refilled_at, taken), shared by every replica. Only
// the constants below are ever used: the name goes into the statement's
// text, which a parameter cannot hold.
type tokenBuckets string

const (
	// crmRequestBuckets holds each tenant's CRM request budget (migration 3).
	crmRequestBuckets tokenBuckets = "crm_rate_limits"
	// webhookIntakeBuckets holds each tenant's CRM webhook intake budget
	// (migration 5).
	webhookIntakeBuckets tokenBuckets = "webhook_intake_limits"
)

// TakeCRMRequests spends up to want requests of the tenant's CRM budget,
// shared by every replica: a token bucket that refills at perMinute and
// holds at most burst. It returns how many it got (0 to want) and, when it
// got none, how long until one is free. The row lock serialises the
// replicas' takes for one tenant only. Taking several at once lets a
// replica spend them without a statement per request.
func (s *Store) TakeCRMRequests(ctx context.Context, tenantID uuid.UUID, perMinute, burst, want int, now time.Time) (int, time.Duration, error) {
	taken, wait, err := s.takeTokens(ctx, crmRequestBuckets, tenantID, perMinute, burst, want, now)
	if err != nil {
		return 0, 0, fmt.Errorf("error taking CRM requests for tenant %s: %w", tenantID, err)
	}
	return taken, wait, nil
}

// TakeWebhookIntake spends one of the tenant's CRM webhook intake budget,
// shared by every replica: a token bucket that refills at perMinute and
// holds at most burst. It returns zero when the delivery may be taken, or
// how long until one may: the route then answers 429 and enqueues nothing,
// so one shop's deliveries (or a flood with its leaked credential) cannot
// fill the crm queue every shop's live leads wait in.
func (s *Store) TakeWebhookIntake(ctx context.Context, tenantID uuid.UUID, perMinute, burst int, now time.Time) (time.Duration, error) {
	_, wait, err := s.takeTokens(ctx, webhookIntakeBuckets, tenantID, perMinute, burst, 1, now)
	if err != nil {
		return 0, fmt.Errorf("error taking a webhook delivery for tenant %s: %w", tenantID, err)
	}
	return wait, nil
}

// takeTokens spends up to want tokens of the tenant's bucket in table, in
// one statement: refill for the time since the last take (at most burst),
// then take what there is. It returns how many it got and, when none, how
// long until one is free.
func (s *Store) takeTokens(ctx context.Context, table tokenBuckets, tenantID uuid.UUID, perMinute, burst, want int, now time.Time) (int, time.Duration, error) {
	if perMinute <= 0 || burst <= 0 || want <= 0 {
		return 0, 0, fmt.Errorf("rate %d/min, burst %d and want %d must be positive", perMinute, burst, want)
	}
	var (
		tokens float64
		taken  int
	)
	// refilled is what the bucket holds now, before this take.
	const refilled = `least($3::float8, r.tokens + greatest(0, extract(epoch FROM $4 - r.refilled_at)::float8) * $2::float8 / 60)`
	const take = `least($5::integer, floor(` + refilled + `)::integer)`
	err := s.queryRow(ctx, tenantID, `
		INSERT INTO `+string(table)+` AS r (tenant_id, tokens, refilled_at, taken)
		VALUES ($1, $3::float8 - least($5::integer, $3::integer), $4, least($5::integer, $3::integer))
		ON CONFLICT (tenant_id) DO UPDATE SET
			tokens = `+refilled+` - `+take+`,
			taken = `+take+`,
			refilled_at = greatest(r.refilled_at, $4)
		RETURNING tokens, taken`, tenantID, perMinute, burst, now, want).Scan(&tokens, &taken)
	if err != nil {
		return 0, 0, err
	}
	if taken > 0 {
		return taken, 0, nil
	}
	return 0, time.Duration((1 - tokens) * 60 / float64(perMinute) * float64(time.Second)), nil
}
