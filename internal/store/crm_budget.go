package store

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// CRMBudget is the fleet-wide budget of CRM requests kept in Postgres, the
// crm.Budget every adapter's HTTP client spends from: each tenant may burst
// a quarter of a minute's requests, then goes at its rate, counted across
// every replica. A replica takes up to a second's worth of requests at once
// (at most 10) and spends them within that second, so a busy shop costs one
// statement per batch, not per request; what it does not spend in time is
// dropped, never carried over, so the fleet stays within the rate.
type CRMBudget struct {
	store *Store
	now   func() time.Time

	mu       sync.Mutex
	reserves map[uuid.UUID]crmReserve
}

// NewCRMBudget returns the budget kept through db (a pool: each take is its
// own statement). now is the clock; nil means time.Now.
func NewCRMBudget(db DBTX, now func() time.Time) *CRMBudget {
	if now == nil {
		now = time.Now
	}
	return &CRMBudget{store: New(db), now: now, reserves: map[uuid.UUID]crmReserve{}}
}

// crmReserve is requests a replica took from a tenant's budget and may
// spend until until.
type crmReserve struct {
	left  int
	until time.Time
}

// SpendCRMRequest spends one request of tenant t's budget of perMinute a
// minute, from this replica's reserve while it lasts, else from Postgres.
func (b *CRMBudget) SpendCRMRequest(ctx context.Context, t lead.Tenant, perMinute int) (time.Duration, error) {
	now := b.now()
	b.mu.Lock()
	if r := b.reserves[t.ID]; r.left > 0 && now.Before(r.until) {
		r.left--
		b.reserves[t.ID] = r
		b.mu.Unlock()
		return 0, nil
	}
	b.mu.Unlock()
	want := min(10, max(1, perMinute/60))
	got, wait, err := b.store.TakeCRMRequests(ctx, t.ID, perMinute, max(1, perMinute/4), want, now)
	if err != nil || got == 0 {
		return wait, err
	}
	b.mu.Lock()
	b.reserves[t.ID] = crmReserve{left: got - 1, until: now.Add(time.Second)}
	b.mu.Unlock()
	return 0, nil
}
