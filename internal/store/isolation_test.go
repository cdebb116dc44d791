package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// tenantTables are every table that holds a tenant's rows.
var tenantTables = []string{"tenants", "leads", "messages", "suppressions", "message_events", "job_executions", "crm_rate_limits",
	"inbound_messages", "webhook_receipts", "webhook_intake_limits", "refused_records", "email_event_batches", "backfills",
	"booking_links", "bookings"}

// isolationBundle gives tenants a and b one row in every tenant table.
type isolationBundle struct {
	*testBundle
	leadA, leadB       uuid.UUID
	msgA, msgB         lead.Message
	inboundA, inboundB int64
	batchA, batchB     int64
	// backfillA and backfillB are the ids of each tenant's backfill; a
	// poll_crm job of each names its own.
	backfillA, backfillB int64
}

func setupIsolation(t *testing.T) *isolationBundle {
	t.Helper()
	ctx := context.Background()
	b := &isolationBundle{testBundle: setup(t)}
	for _, tn := range []struct {
		tenant   lead.Tenant
		lead     *uuid.UUID
		msg      *lead.Message
		jobID    int64
		inbound  *int64
		batch    *int64
		backfill *int64
	}{{b.a, &b.leadA, &b.msgA, 1, &b.inboundA, &b.batchA, &b.backfillA}, {b.b, &b.leadB, &b.msgB, 2, &b.inboundB, &b.batchB, &b.backfillB}} {
		id, _, err := b.store.UpsertLead(ctx, tn.tenant.ID, fixture.Lead("order:"+tn.tenant.Name), false)
		require.NoError(t, err)
		*tn.lead = id
		m, err := b.store.LockMessage(ctx, tn.tenant.ID, fixture.SMS(id, "initial", "hi"))
		require.NoError(t, err)
		require.NoError(t, b.store.MarkMessageSent(ctx, tn.tenant.ID, m.ID, "SM-"+tn.tenant.Name, time.Now()))
		*tn.msg = m
		require.NoError(t, b.store.Suppress(ctx, tn.tenant.ID, lead.ChannelEmail, tn.tenant.Name+"@example.com", "bounce", "test"))
		_, err = b.store.RecordMessageEvent(ctx, tn.tenant.ID, store.MessageEvent{MessageID: m.ID, Provider: "sendgrid", Event: "processed", OccurredAt: time.Now()})
		require.NoError(t, err)
		_, _, err = b.store.TakeCRMRequests(ctx, tn.tenant.ID, 60, 10, 1, time.Now())
		require.NoError(t, err)
		// The same provider and delivery ids in both: they are per tenant.
		*tn.inbound, _, err = b.store.RecordInbound(ctx, tn.tenant.ID, store.InboundMessage{ProviderID: "SMin", LeadID: id, From: "+13122013344",
			To: "+15125550100", Body: "hi", Kind: "reply"})
		require.NoError(t, err)
		// The same delivery key in both: a batch's shares are per tenant.
		*tn.batch, _, err = b.store.TakeEmailEventBatch(ctx, tn.tenant.ID, "delivery-1", []byte(`[{"event":"bounce"}]`))
		require.NoError(t, err)
		_, err = b.store.TakeWebhookDelivery(ctx, tn.tenant.ID, "shopmonkey", "msg_1")
		require.NoError(t, err)
		_, err = b.store.TakeWebhookIntake(ctx, tn.tenant.ID, 60, 10, time.Now())
		require.NoError(t, err)
		// The same external id in both: refusals are per tenant.
		require.NoError(t, b.store.RefuseRecord(ctx, tn.tenant.ID, "order:bad", 7, "customer not found"))
		require.NoError(t, b.store.RecordExecution(ctx, tn.tenant.ID, store.Execution{JobID: tn.jobID, Run: 1, Attempt: 1, Kind: "send_sms",
			Queue: "sms", LeadID: id, Outcome: store.OutcomeCompleted, StartedAt: time.Now(), FinishedAt: time.Now()}))
		*tn.backfill, err = b.store.CreateBackfill(ctx, store.Backfill{TenantID: tn.tenant.ID, Since: time.Now().Add(-48 * time.Hour),
			Until: time.Now(), Window: 24 * time.Hour, WindowsTotal: 2, CreatedAt: time.Now()})
		require.NoError(t, err)
		_, err = b.db.Owner.Exec(ctx, `INSERT INTO river_job (kind, queue, args, state, max_attempts, finalized_at)
			VALUES ('poll_crm', 'crm_backfill', jsonb_build_object('tenant_id', $1::text, 'backfill_id', $2::bigint), 'completed', 5, now()),
			('poll_crm', 'crm_backfill', jsonb_build_object('tenant_id', $1::text, 'backfill_id', $2::bigint), 'available', 5, NULL)`,
			tn.tenant.ID, *tn.backfill)
		require.NoError(t, err)
		require.NoError(t, b.store.AddBackfillLeads(ctx, tn.tenant.ID, *tn.backfill, 4))
		require.NoError(t, b.store.TouchBookingLink(ctx, tn.tenant.ID, id, bytes.Repeat([]byte(tn.tenant.Name[:1]), 32), time.Now().Add(time.Hour)))
		// The same form key in both: requests are per tenant.
		_, _, err = b.store.CreateBooking(ctx, tn.tenant.ID, id, "key-1", time.Now().Add(24*time.Hour), time.Now().Add(25*time.Hour))
		require.NoError(t, err)
	}
	// One of the fleet's own rows (the scheduler's run).
	require.NoError(t, b.store.RecordExecution(ctx, store.Fleet, store.Execution{JobID: 3, Run: 1, Attempt: 1, Kind: "schedule_polls",
		Queue: "crm", Outcome: store.OutcomeCompleted, StartedAt: time.Now(), FinishedAt: time.Now()}))
	return b
}

// asApp runs fn in a transaction of the application role, with the tenant
// setting as given ("" leaves it unset).
func (b *isolationBundle) asApp(t *testing.T, tenant string, fn func(tx pgx.Tx)) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgx.BeginFunc(ctx, b.db.App, func(tx pgx.Tx) error {
		if tenant != "" {
			if _, err := tx.Exec(ctx, `SELECT set_config('leadorch.tenant_id', $1, true)`, tenant); err != nil {
				return err
			}
		}
		fn(tx)
		return nil
	}))
}

func count(t *testing.T, db store.DBTX, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(context.Background(), sql).Scan(&n))
	return n
}

// TestIsolationNoTenantSeesNothing: a query that names no tenant finds no
// row in any tenant table, while the owner sees them all.
func TestIsolationNoTenantSeesNothing(t *testing.T) {
	t.Parallel()
	b := setupIsolation(t)
	for _, table := range tenantTables {
		require.Positive(t, count(t, b.db.Owner, "SELECT count(*) FROM "+table), table)
		b.asApp(t, "", func(tx pgx.Tx) {
			require.Zero(t, count(t, tx, "SELECT count(*) FROM "+table), "%s with no tenant set", table)
		})
		// The same on a bare connection, outside any transaction.
		require.Zero(t, count(t, b.db.App, "SELECT count(*) FROM "+table), "%s on the pool", table)
	}
}

// TestIsolationUnscopedQueries: a transaction scoped to tenant a that
// deliberately leaves out every WHERE still reads, updates and deletes
// only a's rows, and cannot write rows for b.
func TestIsolationUnscopedQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupIsolation(t)
	a := b.a.ID.String()
	before := map[string]int{}
	for _, table := range tenantTables {
		before[table] = count(t, b.db.Owner, "SELECT count(*) FROM "+table)
	}

	b.asApp(t, a, func(tx pgx.Tx) {
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM tenants"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM leads"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM messages"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM suppressions"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM message_events"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM job_executions"), "a's row only, not b's nor the fleet's")
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM crm_rate_limits"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM inbound_messages"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM webhook_receipts"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM email_event_batches"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM webhook_intake_limits"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM refused_records"))
		require.Equal(t, 1, count(t, tx, "SELECT count(*) FROM backfills"))
		require.Zero(t, count(t, tx, "SELECT count(*) FROM leads WHERE tenant_id <> '"+a+"'"))

		tag, err := tx.Exec(ctx, `UPDATE leads SET first_name = 'Mallory'`)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
		tag, err = tx.Exec(ctx, `UPDATE tenants SET enabled = false`)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
	})
	require.Equal(t, 1, count(t, b.db.Owner, "SELECT count(*) FROM leads WHERE first_name = 'Mallory'"))
	require.Equal(t, 1, count(t, b.db.Owner, "SELECT count(*) FROM tenants WHERE NOT enabled"))

	// Deletes, each in a transaction rolled back so the next sees the rows.
	for _, table := range tenantTables {
		tx, err := b.db.App.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SELECT set_config('leadorch.tenant_id', $1, true)`, a)
		require.NoError(t, err)
		tag, err := tx.Exec(ctx, "DELETE FROM "+table)
		require.NoError(t, err, table)
		require.LessOrEqual(t, tag.RowsAffected(), int64(1), "DELETE FROM %s reached past tenant a", table)
		require.Zero(t, count(t, tx, "SELECT count(*) FROM "+table), table)
		require.NoError(t, tx.Rollback(ctx))
	}

	// Writing a row for b from a's transaction is refused.
	for name, sql := range map[string]string{
		"lead":        `INSERT INTO leads (tenant_id, crm, external_id, source) VALUES ('` + b.b.ID.String() + `', 'shopmonkey', 'x', 'estimate')`,
		"suppression": `INSERT INTO suppressions (tenant_id, channel, address, reason, source) VALUES ('` + b.b.ID.String() + `', 'sms', '+13122000000', 'x', 'x')`,
		"move a lead": `UPDATE leads SET tenant_id = '` + b.b.ID.String() + `'`,
	} {
		tx, err := b.db.App.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SELECT set_config('leadorch.tenant_id', $1, true)`, a)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, sql)
		require.ErrorContains(t, err, "row-level security", name)
		require.NoError(t, tx.Rollback(ctx))
	}
	// A message of a's pointing at b's lead is refused by the composite key.
	_, err := b.store.LockMessage(ctx, b.a.ID, fixture.SMS(b.leadB, "x", "x"))
	require.Error(t, err)

	for _, table := range tenantTables {
		require.Equal(t, before[table], count(t, b.db.Owner, "SELECT count(*) FROM "+table), table)
	}
}

// TestIsolationEveryRepositoryMethod calls every tenant-scoped repository
// method as tenant a with tenant b's ids: none reads, changes or counts
// anything of b's.
func TestIsolationEveryRepositoryMethod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupIsolation(t)
	st, a := b.store, b.a.ID

	snapshot := func() string {
		var s string
		require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT concat_ws('|',
			(SELECT string_agg(concat_ws(',', id, name, enabled, poll_cursor, crm_secret_key_id), ';' ORDER BY id) FROM tenants WHERE id = $1),
			(SELECT string_agg(concat_ws(',', id, status, first_name, backfilled, crm_version), ';' ORDER BY id) FROM leads WHERE tenant_id = $1),
			(SELECT string_agg(concat_ws(',', id, status, attempts, provider_id, last_error), ';' ORDER BY id) FROM messages WHERE tenant_id = $1),
			(SELECT string_agg(address, ';' ORDER BY address) FROM suppressions WHERE tenant_id = $1),
			(SELECT string_agg(concat_ws(',', message_id, event), ';' ORDER BY id) FROM message_events WHERE tenant_id = $1),
			(SELECT string_agg(concat_ws(',', job_id, run, outcome), ';' ORDER BY id) FROM job_executions WHERE tenant_id = $1),
			(SELECT concat_ws(',', tokens, refilled_at) FROM crm_rate_limits WHERE tenant_id = $1),
			(SELECT concat_ws(',', tokens, refilled_at) FROM webhook_intake_limits WHERE tenant_id = $1),
			(SELECT string_agg(concat_ws(',', provider_id, lead_id, kind), ';' ORDER BY id) FROM inbound_messages WHERE tenant_id = $1),
			(SELECT string_agg(delivery_id, ';' ORDER BY delivery_id) FROM webhook_receipts WHERE tenant_id = $1),
			(SELECT string_agg(concat_ws(',', id, handled_at), ';' ORDER BY id) FROM inbound_messages WHERE tenant_id = $1),
			(SELECT string_agg(concat_ws(',', id, delivery_key, events, recorded_at), ';' ORDER BY id) FROM email_event_batches WHERE tenant_id = $1),
			(SELECT concat_ws(',', webhook_secret_key_id, webhook_token_sha256) FROM tenants WHERE id = $1),
			(SELECT concat_ws(',', needs_attention, attention_reason, attention_since, next_poll_at) FROM tenants WHERE id = $1),
			(SELECT string_agg(concat_ws(',', external_id, version, reason), ';' ORDER BY external_id) FROM refused_records WHERE tenant_id = $1),
			(SELECT string_agg(concat_ws(',', id, since, until, windows_total, leads_found), ';' ORDER BY id) FROM backfills WHERE tenant_id = $1))`,
			b.b.ID).Scan(&s))
		return s
	}
	bBefore := snapshot()

	// Reads: b's rows are not found, or not counted.
	_, err := st.GetLead(ctx, a, b.leadB)
	require.ErrorIs(t, err, store.ErrNotFound, "GetLead")
	_, err = st.GetMessage(ctx, a, b.msgB.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "GetMessage")
	msgs, err := st.ListLeadMessages(ctx, a, b.leadB)
	require.NoError(t, err)
	require.Empty(t, msgs, "ListLeadMessages")
	n, err := st.CountLeads(ctx, a)
	require.NoError(t, err)
	require.Equal(t, 1, n, "CountLeads")
	counts, err := st.CountMessages(ctx, a)
	require.NoError(t, err)
	require.Equal(t, map[lead.MessageStatus]int{lead.MessageSent: 1}, counts, "CountMessages")
	byStatus, err := st.ListMessagesByStatus(ctx, a, lead.MessageSent, 10)
	require.NoError(t, err)
	require.Len(t, byStatus, 1, "ListMessagesByStatus")
	require.Equal(t, b.msgA.ID, byStatus[0].ID)
	suppressed, err := st.IsSuppressed(ctx, a, lead.ChannelEmail, "b@example.com")
	require.NoError(t, err)
	require.False(t, suppressed, "IsSuppressed")
	ids, err := st.RecordedProviderIDs(ctx, a, []string{"SM-b", "SM-a"})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"SM-a": true}, ids, "RecordedProviderIDs")
	_, found, err := st.ProcessedEvent(ctx, a, b.msgB.ID)
	require.NoError(t, err)
	require.False(t, found, "ProcessedEvent")
	runs, err := st.RecordedRuns(ctx, a, 2)
	require.NoError(t, err)
	require.Empty(t, runs, "RecordedRuns of b's job")
	fleetRuns, err := st.RecordedRuns(ctx, a, 3)
	require.NoError(t, err)
	require.Empty(t, fleetRuns, "RecordedRuns of the fleet's job")
	execs, err := st.ListExecutions(ctx, a)
	require.NoError(t, err)
	require.Len(t, execs, 1, "ListExecutions")

	exists, err := st.LeadExists(ctx, a, "shopmonkey", "order:b")
	require.NoError(t, err)
	require.False(t, exists, "LeadExists")
	inbound, err := st.ListInbound(ctx, a, b.leadB)
	require.NoError(t, err)
	require.Empty(t, inbound, "ListInbound")
	byPhone, err := st.FindLeadsByPhone(ctx, a, "+13122013344")
	require.NoError(t, err)
	require.Len(t, byPhone, 1, "FindLeadsByPhone: the same number, a's own lead only")
	require.Equal(t, b.leadA, byPhone[0].ID)
	_, err = st.Thread(ctx, a, store.ThreadOpts{LeadID: b.leadB})
	require.ErrorIs(t, err, store.ErrNotFound, "Thread of b's lead")
	thread, err := st.Thread(ctx, a, store.ThreadOpts{Phone: "+13122013344"})
	require.NoError(t, err)
	for _, e := range thread.Events {
		require.NotEqual(t, b.leadB, e.LeadID, "Thread by phone: a's own events only")
		require.NotEqual(t, b.msgB.ID.String(), e.Ref, "Thread by phone: a's own messages only")
	}
	require.Len(t, thread.Leads, 1, "Thread by phone: a's own lead only")
	require.NotEmpty(t, thread.Events)
	later, err := st.InboundAfter(ctx, a, "+13122013344", "reply", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.True(t, later, "InboundAfter sees a's own reply")
	_, err = b.db.Owner.Exec(ctx, `DELETE FROM inbound_messages WHERE tenant_id = $1`, a)
	require.NoError(t, err)
	later, err = st.InboundAfter(ctx, a, "+13122013344", "reply", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.False(t, later, "InboundAfter: b's reply from the same number is not a's")
	_, _, err = st.RecordInbound(ctx, a, store.InboundMessage{ProviderID: "SMin", LeadID: b.leadA, From: "+13122013344",
		To: "+15125550100", Body: "hi", Kind: "reply"})
	require.NoError(t, err)
	_, err = st.GetInbound(ctx, a, b.inboundB)
	require.ErrorIs(t, err, store.ErrNotFound, "GetInbound")
	marked, err := st.MarkInboundHandled(ctx, a, b.inboundB, b.leadA)
	require.NoError(t, err)
	require.False(t, marked, "MarkInboundHandled")
	_, _, err = st.ClaimEmailEventBatch(ctx, a, b.batchB)
	require.ErrorIs(t, err, store.ErrNotFound, "ClaimEmailEventBatch")
	events, recorded, err := st.ClaimEmailEventBatch(ctx, a, b.batchA)
	require.NoError(t, err)
	require.True(t, recorded, "ClaimEmailEventBatch of a's own batch")
	require.JSONEq(t, `[{"event":"bounce"}]`, string(events))
	_, isNew, err := st.TakeEmailEventBatch(ctx, a, "delivery-1", []byte(`[]`))
	require.NoError(t, err)
	require.False(t, isNew, "TakeEmailEventBatch: a's own key is taken")
	_, isNew, err = st.TakeEmailEventBatch(ctx, a, "delivery-2", []byte(`[]`))
	require.NoError(t, err)
	require.True(t, isNew, "TakeEmailEventBatch")
	pruned, err := st.PruneEmailEventBatches(ctx, a, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 1, pruned, "PruneEmailEventBatches: a's recorded batch only")
	refused, err := st.RefusedVersions(ctx, a, []string{"order:bad"})
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"order:bad": 7}, refused, "RefusedVersions")
	nRefused, err := st.CountRefusedRecords(ctx, a)
	require.NoError(t, err)
	require.Equal(t, 1, nRefused, "CountRefusedRecords")
	_, err = st.BackfillProgress(ctx, a, b.backfillB)
	require.ErrorIs(t, err, store.ErrNotFound, "BackfillProgress")
	backfills, err := st.Backfills(ctx, a)
	require.NoError(t, err)
	require.Len(t, backfills, 1, "Backfills")
	require.Equal(t, b.backfillA, backfills[0].ID)
	require.Equal(t, 1, backfills[0].Finished, "Backfills counts a's own jobs only")
	require.Equal(t, 4, backfills[0].Leads)
	require.NoError(t, st.AddBackfillLeads(ctx, a, b.backfillB, 100), "AddBackfillLeads")

	// Writes: nothing of b's changes.
	require.ErrorIs(t, st.SetLeadStatus(ctx, a, b.leadB, lead.StatusReplied), store.ErrNotFound, "SetLeadStatus")
	require.NoError(t, st.Unsuppress(ctx, a, lead.ChannelEmail, "b@example.com"), "Unsuppress")
	_, isNew, err = st.RecordInbound(ctx, a, store.InboundMessage{ProviderID: "SMx", From: "+13122013344", To: "+1", Body: "x", Kind: "reply"})
	require.NoError(t, err)
	require.True(t, isNew, "RecordInbound")
	isNew, err = st.TakeWebhookDelivery(ctx, a, "shopmonkey", "msg_2")
	require.NoError(t, err)
	require.True(t, isNew, "TakeWebhookDelivery")
	_, err = st.TakeWebhookIntake(ctx, a, 60, 10, time.Now())
	require.NoError(t, err, "TakeWebhookIntake")
	_, err = st.RecordDelivery(ctx, a, "SM-b", "delivered", 0)
	require.ErrorIs(t, err, store.ErrNotFound, "RecordDelivery")
	booked, err := st.BookCustomerLeads(ctx, a, "shopmonkey", "")
	require.NoError(t, err)
	require.NotContains(t, booked, b.leadB, "BookCustomerLeads")
	require.NoError(t, st.SetTenantWebhookCredentials(ctx, a, &lead.SealedSecret{KeyID: "k", Ciphertext: []byte("s")}, []byte("h")), "SetTenantWebhookCredentials")
	require.NoError(t, st.ReplaceTenantWebhookSecret(ctx, a, lead.SealedSecret{KeyID: "k", Ciphertext: []byte("s")},
		lead.SealedSecret{KeyID: "k2", Ciphertext: []byte("t")}), "ReplaceTenantWebhookSecret")
	require.NoError(t, st.MarkLeadContacted(ctx, a, b.leadB), "MarkLeadContacted")
	claimed, err := st.ClaimBackfilledLead(ctx, a, b.leadB)
	require.NoError(t, err)
	require.False(t, claimed, "ClaimBackfilledLead")
	require.ErrorIs(t, st.MarkMessageSending(ctx, a, b.msgB.ID, time.Now()), store.ErrNotFound, "MarkMessageSending")
	require.ErrorIs(t, st.MarkMessageSent(ctx, a, b.msgB.ID, "SM-x", time.Now()), store.ErrNotFound, "MarkMessageSent")
	require.ErrorIs(t, st.SetMessageStatus(ctx, a, b.msgB.ID, lead.MessageFailed, "x"), store.ErrNotFound, "SetMessageStatus")
	_, err = st.RecordMessageEvent(ctx, a, store.MessageEvent{MessageID: b.msgB.ID, Provider: "sendgrid", Event: "bounce", OccurredAt: time.Now()})
	require.ErrorIs(t, err, store.ErrNotFound, "RecordMessageEvent")
	_, err = st.LockMessage(ctx, a, fixture.SMS(b.leadB, "initial", "x"))
	require.Error(t, err, "LockMessage on b's lead")
	require.NoError(t, st.Suppress(ctx, a, lead.ChannelEmail, "b@example.com", "x", "test"), "Suppress")
	_, inserted, err := st.UpsertLead(ctx, a, fixture.Lead("order:b"), false)
	require.NoError(t, err)
	require.True(t, inserted, "UpsertLead: b's external id is a new lead of a's")
	// Job ids are River's, fleet-wide: a's record of b's job (which cannot
	// happen, a job has one tenant) is refused, not merged into b's row.
	require.ErrorContains(t, st.RecordExecution(ctx, a, store.Execution{JobID: 2, Run: 1, Attempt: 1, Kind: "send_sms", Queue: "sms",
		Outcome: store.OutcomeError, StartedAt: time.Now(), FinishedAt: time.Now()}), "row-level security", "RecordExecution")
	require.NoError(t, st.AdvancePollCursor(ctx, a, time.Now().Add(time.Hour)), "AdvancePollCursor")
	require.NoError(t, st.RefuseRecord(ctx, a, "order:bad", 8, "still bad"), "RefuseRecord")
	mark, err := st.MarkTenantNeedsAttention(ctx, a, "crm rejected the credentials", time.Now(), time.Hour)
	require.NoError(t, err, "MarkTenantNeedsAttention")
	require.True(t, mark.Began)
	require.Equal(t, b.a.Name, mark.TenantName)
	cleared, err := st.ClearTenantAttention(ctx, a)
	require.NoError(t, err, "ClearTenantAttention")
	require.True(t, cleared)
	for range 3 {
		_, _, err := st.TakeCRMRequests(ctx, a, 60, 2, 1, time.Now())
		require.NoError(t, err, "TakeCRMRequests")
	}

	require.NoError(t, st.SetTenantEnabled(ctx, a, false), "SetTenantEnabled")
	ta, err := st.GetTenant(ctx, a)
	require.NoError(t, err)
	require.NoError(t, st.ReplaceTenantSecret(ctx, a, ta.CRMSecret, lead.SealedSecret{KeyID: "other", Ciphertext: []byte("x")}), "ReplaceTenantSecret")
	ta.Name = "a-renamed"
	_, err = st.UpdateTenant(ctx, ta, &lead.SealedSecret{KeyID: "again", Ciphertext: []byte("y")})
	require.NoError(t, err, "UpdateTenant")

	require.Equal(t, bBefore, snapshot(), "tenant b's rows changed")

	// Tenant-wide operations across the fleet go only through the owner's
	// narrow functions: the scheduler's claim and the operator's lookups.
	due, err := st.FleetClaimDuePolls(ctx, time.Now().Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Len(t, due, 1, "b is due; a was disabled above")
	require.Equal(t, b.b.ID, due[0].TenantID)
	found2, err := st.FleetFindTenant(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, b.b.ID, found2.ID)
	all, err := st.FleetListTenants(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
}

// TestIsolationAppRoleCannotBypass: the application role cannot switch row
// security off, and the worker's start-up check refuses an owner.
func TestIsolationAppRoleCannotBypass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	require.NoError(t, store.CheckAppRole(ctx, b.db.App))
	require.ErrorContains(t, store.CheckAppRole(ctx, b.db.Owner), "row-level security would not keep tenants apart")
	for _, sql := range []string{
		`ALTER TABLE leads DISABLE ROW LEVEL SECURITY`,
		`DROP POLICY tenant_isolation ON leads`,
		`ALTER TABLE leads OWNER TO leadorch_test_app`,
		`SELECT * FROM leadorch_claim_due_polls(now(), 1) WHERE false`,
	} {
		_, err := b.db.App.Exec(ctx, sql)
		if sql[0] == 'S' {
			require.NoError(t, err, "the app may call the scheduler's function: %s", sql)
			continue
		}
		require.Error(t, err, sql)
	}
	// row_security = off does not bypass policies for a role subject to
	// them: a query they would filter fails instead.
	conn, err := b.db.App.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `SET row_security = off`)
	require.NoError(t, err)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM leads`).Scan(&n)
	require.ErrorContains(t, err, "row-level security")
	_, err = conn.Exec(ctx, `RESET row_security`)
	require.NoError(t, err)
}
