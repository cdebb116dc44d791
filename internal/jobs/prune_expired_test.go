package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// ageRows stores, as the owner, one webhook receipt and one inbound
// message of the tenant received age ago.
func (b *testBundle) ageRows(t *testing.T, tenant lead.Tenant, name string, age time.Duration) {
	t.Helper()
	ctx := context.Background()
	at := time.Now().Add(-age)
	_, err := b.pool.Exec(ctx, `INSERT INTO webhook_receipts (tenant_id, source, delivery_id, received_at) VALUES ($1, 'shopmonkey', $2, $3)`,
		tenant.ID, "msg_"+name, at)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO inbound_messages (tenant_id, provider_id, from_address, to_address, body, kind, received_at)
		VALUES ($1, $2, '+15125550100', '+15005550006', 'Yes please', 'reply', $3)`, tenant.ID, "SM_"+name, at)
	require.NoError(t, err)
}

// kept lists the tenant's webhook receipts and inbound messages left.
func (b *testBundle) kept(t *testing.T, tenant lead.Tenant) (receipts, inbound string) {
	t.Helper()
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT
		(SELECT coalesce(string_agg(delivery_id, ',' ORDER BY delivery_id), '') FROM webhook_receipts WHERE tenant_id = $1),
		(SELECT coalesce(string_agg(provider_id, ',' ORDER BY provider_id), '') FROM inbound_messages WHERE tenant_id = $1)`,
		tenant.ID).Scan(&receipts, &inbound))
	return receipts, inbound
}

// TestPruneExpired: webhook receipts and inbound messages past their own
// retention are deleted, in every tenant; younger ones are kept.
func TestPruneExpired(t *testing.T) {
	t.Parallel()

	const day = 24 * time.Hour
	args := jobs.PruneExpiredArgs{WebhookReceipts: (30 * day).String(), InboundMessages: (90 * day).String()}

	t.Run("DeletesOldKeepsFresh", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		shops := []lead.Tenant{b.addShop(t, "prunea"), b.addShop(t, "pruneb")}
		for _, shop := range shops {
			b.ageRows(t, shop, "100d", 100*day) // past both retentions
			b.ageRows(t, shop, "40d", 40*day)   // past the receipts' only
			b.ageRows(t, shop, "1d", day)       // within both
		}
		client := b.startClient(t, jobs.ClientOpts{})
		res, err := client.Insert(context.Background(), args, nil)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, res.Job.ID).State)

		for _, shop := range shops {
			receipts, inbound := b.kept(t, shop)
			require.Equal(t, "msg_1d", receipts, "tenant %s", shop.Name)
			require.Equal(t, "SM_1d,SM_40d", inbound, "tenant %s", shop.Name)
		}
	})

	t.Run("BadRetentionCancelsNamingTheField", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		shop := b.addShop(t, "prunebad")
		b.ageRows(t, shop, "100d", 100*day)
		client := b.startClient(t, jobs.ClientOpts{})
		res, err := client.Insert(context.Background(), jobs.PruneExpiredArgs{WebhookReceipts: "30d", InboundMessages: args.InboundMessages}, nil)
		require.NoError(t, err)
		job := waitFinal(t, client, res.Job.ID)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.Contains(t, job.Errors[len(job.Errors)-1].Error, `webhook_receipts: must be a positive duration such as 720h, got "30d"`)
		receipts, inbound := b.kept(t, shop)
		require.Equal(t, "msg_100d", receipts, "nothing is deleted on a guess")
		require.Equal(t, "SM_100d", inbound)
	})

	t.Run("RunsPeriodicallyOnTheLeader", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		shop := b.addShop(t, "pruneperiodic")
		b.ageRows(t, shop, "100d", 100*day)
		b.ageRows(t, shop, "1d", day)
		b.startClient(t, jobs.ClientOpts{PruneInterval: time.Hour, WebhookReceiptRetention: 30 * day, InboundMessageRetention: 90 * day})
		// RunOnStart: the new leader prunes at once.
		require.Eventually(t, func() bool {
			return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'prune_expired' AND state = 'completed'`) == 1
		}, 10*time.Second, 20*time.Millisecond)
		receipts, inbound := b.kept(t, shop)
		require.Equal(t, "msg_1d", receipts)
		require.Equal(t, "SM_1d", inbound)
		var got jobs.PruneExpiredArgs
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT args->>'webhook_receipts', args->>'inbound_messages'
			FROM river_job WHERE kind = 'prune_expired'`).Scan(&got.WebhookReceipts, &got.InboundMessages))
		require.Equal(t, fmt.Sprint(args), fmt.Sprint(got), "River UI shows what each run kept")
	})
}
