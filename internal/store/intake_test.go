package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// TestInboundIntake: a text is stored once per provider id (a redelivery
// gets the same row back), and handled once.
func TestInboundIntake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	in := store.InboundMessage{ProviderID: "SM1", From: "+15552013344", To: "+15125550100", Body: "STOP", Kind: "stop",
		ReceivedAt: time.Now().Add(-time.Minute).Truncate(time.Microsecond)}
	id, isNew, err := b.store.RecordInbound(ctx, b.a.ID, in)
	require.NoError(t, err)
	require.True(t, isNew)
	again, isNew, err := b.store.RecordInbound(ctx, b.a.ID, in)
	require.NoError(t, err)
	require.False(t, isNew, "a redelivery stores nothing")
	require.Equal(t, id, again)

	got, err := b.store.GetInbound(ctx, b.a.ID, id)
	require.NoError(t, err)
	require.Equal(t, "STOP", got.Body)
	require.True(t, got.ReceivedAt.Equal(in.ReceivedAt))
	require.True(t, got.HandledAt.IsZero(), "not handled yet")

	leadID, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
	require.NoError(t, err)
	marked, err := b.store.MarkInboundHandled(ctx, b.a.ID, id, leadID)
	require.NoError(t, err)
	require.True(t, marked)
	marked, err = b.store.MarkInboundHandled(ctx, b.a.ID, id, leadID)
	require.NoError(t, err)
	require.False(t, marked, "handled once")
	got, err = b.store.GetInbound(ctx, b.a.ID, id)
	require.NoError(t, err)
	require.False(t, got.HandledAt.IsZero())
	require.Equal(t, leadID, got.LeadID)

	_, err = b.store.GetInbound(ctx, b.a.ID, id+1000)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestEmailEventBatchIntake: a delivery is taken once per tenant; a
// deleted tenant's share is ErrNotFound without breaking the transaction
// the other shares are stored in; a batch is claimed once and keeps its key
// until pruned.
func TestEmailEventBatchIntake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	var batchA int64
	require.NoError(t, pgx.BeginFunc(ctx, b.db.App, func(tx pgx.Tx) error {
		st := store.New(tx)
		_, _, err := st.TakeEmailEventBatch(ctx, uuid.New(), "k1", []byte(`[]`))
		require.ErrorIs(t, err, store.ErrNotFound, "a tenant that does not exist")
		id, isNew, err := st.TakeEmailEventBatch(ctx, b.a.ID, "k1", []byte(`[{"event":"processed"}]`))
		require.NoError(t, err, "the transaction goes on")
		require.True(t, isNew)
		batchA = id
		_, isNew, err = st.TakeEmailEventBatch(ctx, b.b.ID, "k1", []byte(`[]`))
		require.NoError(t, err)
		require.True(t, isNew, "b's share of the same delivery")
		return nil
	}))
	_, isNew, err := b.store.TakeEmailEventBatch(ctx, b.a.ID, "k1", []byte(`[{"event":"processed"}]`))
	require.NoError(t, err)
	require.False(t, isNew, "a replay")

	events, recorded, err := b.store.ClaimEmailEventBatch(ctx, b.a.ID, batchA)
	require.NoError(t, err)
	require.True(t, recorded)
	require.JSONEq(t, `[{"event":"processed"}]`, string(events))
	_, recorded, err = b.store.ClaimEmailEventBatch(ctx, b.a.ID, batchA)
	require.NoError(t, err)
	require.False(t, recorded, "claimed once")
	var left string
	require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT events::text FROM email_event_batches WHERE id = $1`, batchA).Scan(&left))
	require.Equal(t, "[]", left, "the events are not kept once applied")

	n, err := b.store.PruneEmailEventBatches(ctx, b.a.ID, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "a recent key stays")
	_, isNew, err = b.store.TakeEmailEventBatch(ctx, b.a.ID, "k1", []byte(`[]`))
	require.NoError(t, err)
	require.False(t, isNew)
	n, err = b.store.PruneEmailEventBatches(ctx, b.a.ID, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "a's recorded batch; b's unrecorded one is b's and waits for its job")
}
