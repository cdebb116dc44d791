package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// receivedAt stores, as the owner, a webhook receipt and an inbound
// message of tenant received at.
func (b *testBundle) receivedAt(t *testing.T, tenant lead.Tenant, id string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	_, err := b.db.Owner.Exec(ctx, `INSERT INTO webhook_receipts (tenant_id, source, delivery_id, received_at) VALUES ($1, 'shopmonkey', $2, $3)`, tenant.ID, id, at)
	require.NoError(t, err)
	_, err = b.db.Owner.Exec(ctx, `INSERT INTO inbound_messages (tenant_id, provider_id, from_address, to_address, body, kind, received_at)
		VALUES ($1, $2, '+15552013344', '+15125550100', 'STOP', 'stop', $3)`, tenant.ID, id, at)
	require.NoError(t, err)
}

// TestPruneExpiredRows: the fleet-wide finder names the tenants holding
// expired rows; a tenant's prune deletes only its own, in batches.
func TestPruneExpiredRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	now := time.Now()
	for i, age := range []time.Duration{100 * time.Hour, 50 * time.Hour, 10 * time.Hour} {
		b.receivedAt(t, b.a, "a"+string(rune('0'+i)), now.Add(-age))
	}
	b.receivedAt(t, b.b, "b0", now.Add(-100*time.Hour))

	receiptsBefore, inboundBefore := now.Add(-24*time.Hour), now.Add(-72*time.Hour)
	tenants, err := b.store.FleetTenantsWithExpiredRows(ctx, receiptsBefore, inboundBefore)
	require.NoError(t, err)
	require.ElementsMatch(t, []uuid.UUID{b.a.ID, b.b.ID}, tenants)

	p, err := b.store.PruneExpiredRows(ctx, b.a.ID, receiptsBefore, inboundBefore, 1)
	require.NoError(t, err)
	require.Equal(t, store.Pruned{WebhookReceipts: 1, InboundMessages: 1}, p, "a batch of one")
	p, err = b.store.PruneExpiredRows(ctx, b.a.ID, receiptsBefore, inboundBefore, 10)
	require.NoError(t, err)
	require.Equal(t, store.Pruned{WebhookReceipts: 1}, p, "the 50h receipt; the 50h inbound message is within 72h")

	count := func(table string, tenant lead.Tenant) int {
		var n int
		require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1`, tenant.ID).Scan(&n))
		return n
	}
	require.Equal(t, 1, count("webhook_receipts", b.a))
	require.Equal(t, 2, count("inbound_messages", b.a))
	require.Equal(t, 1, count("webhook_receipts", b.b), "tenant b's rows are b's prune's business")
	require.Equal(t, 1, count("inbound_messages", b.b))

	tenants, err = b.store.FleetTenantsWithExpiredRows(ctx, receiptsBefore, inboundBefore)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{b.b.ID}, tenants)
}
