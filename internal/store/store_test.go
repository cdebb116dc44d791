package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// testBundle runs the store as the application role, so every test of
// the store also runs under row-level security.
type testBundle struct {
	db    testdb.DB
	store *store.Store
	keys  *credentials.Keyring
	a, b  lead.Tenant
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := testdb.NewApp(t)
	keys, _ := fixture.Keyring(t, "test")
	b := &testBundle{db: db, store: store.New(db.App), keys: keys}
	b.a, b.b = b.addTenant(t, "a"), b.addTenant(t, "b")
	return b
}

func (b *testBundle) addTenant(t *testing.T, name string) lead.Tenant {
	t.Helper()
	return fixture.Create(t, b.store, b.keys, fixture.ShopMonkeyTenant(name, fixture.TextsFrom("+15125550100")), "key-"+name)
}

func TestTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("NameIsUnique", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.store.CreateTenant(ctx, lead.Tenant{ID: uuid.New(), Name: "a", CRMKind: "shopmonkey", TimeZone: "UTC", PollInterval: time.Minute})
		require.ErrorIs(t, err, store.ErrConflict)
	})
	t.Run("FindByNameOrID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		byName, err := b.store.FleetFindTenant(ctx, "b")
		require.NoError(t, err)
		require.Equal(t, b.b.ID, byName.ID)
		secret, err := b.keys.OpenFor(byName)
		require.NoError(t, err)
		require.Equal(t, "key-b", secret.Reveal())
		byID, err := b.store.FleetFindTenant(ctx, b.b.ID.String())
		require.NoError(t, err)
		require.Equal(t, "b", byID.Name)
		_, err = b.store.FleetFindTenant(ctx, "nobody")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
	t.Run("ClaimDuePollsOncePerInterval", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A new tenant's first poll is due within its first interval.
		now := time.Now().Add(time.Minute + time.Second)
		due, err := b.store.FleetClaimDuePolls(ctx, now, 100)
		require.NoError(t, err)
		require.Len(t, due, 2)
		again, err := b.store.FleetClaimDuePolls(ctx, now, 100)
		require.NoError(t, err)
		require.Empty(t, again, "claimed tenants are not due again until their interval passes")
		later, err := b.store.FleetClaimDuePolls(ctx, now.Add(time.Minute), 100)
		require.NoError(t, err)
		require.Len(t, later, 2)

		require.NoError(t, b.store.SetTenantEnabled(ctx, b.a.ID, false))
		muchLater, err := b.store.FleetClaimDuePolls(ctx, now.Add(10*time.Minute), 100)
		require.NoError(t, err)
		require.Len(t, muchLater, 1, "a disabled tenant is not polled")
	})
	t.Run("BookingAndComplianceRoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a, err := b.store.GetTenant(ctx, b.a.ID)
		require.NoError(t, err)
		a.Booking = lead.BookingSettings{Enabled: true, Hours: map[string]string{"sat": "09:00-12:00"}, Capacity: 2, Holidays: []string{"2026-12-25"}}
		a.Compliance = lead.Compliance{PhoneRegions: []string{"US", "MX"}, TextCap: lead.TextCap{Texts: 2, WindowHours: 12},
			ClosedDays: []string{"2027-01-01"}, AnswerOnClosedDays: true, PostalAddress: "1 Main St, Austin, TX 78701", ASMGroupID: 42}
		_, err = b.store.UpdateTenant(ctx, a, nil)
		require.NoError(t, err)
		got, err := b.store.GetTenant(ctx, b.a.ID)
		require.NoError(t, err)
		require.Equal(t, a.Booking, got.Booking)
		require.Equal(t, a.Compliance, got.Compliance)
		other, err := b.store.GetTenant(ctx, b.b.ID)
		require.NoError(t, err)
		require.Zero(t, other.Compliance, "a tenant that set nothing has every default")
	})
	t.Run("CursorOnlyMovesForward", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		later := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		require.NoError(t, b.store.AdvancePollCursor(ctx, b.a.ID, later))
		require.NoError(t, b.store.AdvancePollCursor(ctx, b.a.ID, later.Add(-30*time.Minute)))
		got, err := b.store.GetTenant(ctx, b.a.ID)
		require.NoError(t, err)
		require.True(t, got.PollCursor.Equal(later))
	})
}

func TestLeads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("UpsertIsIdempotentAndVersioned", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, inserted, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
		require.NoError(t, err)
		require.True(t, inserted)
		id2, inserted, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
		require.NoError(t, err)
		require.False(t, inserted)
		require.Equal(t, id, id2)

		newer := fixture.Lead("order:1")
		newer.CRMVersion, newer.FirstName = 2, "Anne"
		_, inserted, err = b.store.UpsertLead(ctx, b.a.ID, newer, false)
		require.NoError(t, err)
		require.False(t, inserted)
		older := fixture.Lead("order:1")
		older.FirstName = "Stale"
		_, _, err = b.store.UpsertLead(ctx, b.a.ID, older, false)
		require.NoError(t, err)
		got, err := b.store.GetLead(ctx, b.a.ID, id)
		require.NoError(t, err)
		require.Equal(t, "Anne", got.FirstName, "an older version never overwrites a newer one")
		n, err := b.store.CountLeads(ctx, b.a.ID)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
	t.Run("TenantScoped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
		require.NoError(t, err)
		// The same external id in another shop is another lead.
		idB, inserted, err := b.store.UpsertLead(ctx, b.b.ID, fixture.Lead("order:1"), false)
		require.NoError(t, err)
		require.True(t, inserted)
		require.NotEqual(t, id, idB)

		_, err = b.store.GetLead(ctx, b.b.ID, id)
		require.ErrorIs(t, err, store.ErrNotFound, "tenant b cannot read tenant a's lead")
		require.NoError(t, b.store.MarkLeadContacted(ctx, b.b.ID, id))
		got, err := b.store.GetLead(ctx, b.a.ID, id)
		require.NoError(t, err)
		require.Equal(t, lead.StatusNew, got.Status, "tenant b cannot update tenant a's lead")

		msg, err := b.store.LockMessage(ctx, b.a.ID, fixture.SMS(id, "initial", "hi"))
		require.NoError(t, err)
		err = b.store.SetMessageStatus(ctx, b.b.ID, msg.ID, lead.MessageSent, "")
		require.True(t, errors.Is(err, store.ErrNotFound), "tenant b cannot touch tenant a's message")
		_, err = b.store.GetMessage(ctx, b.b.ID, msg.ID)
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, b.store.Suppress(ctx, b.a.ID, lead.ChannelSMS, "+15552013344", "STOP", "test"))
		sa, err := b.store.IsSuppressed(ctx, b.a.ID, lead.ChannelSMS, "+15552013344")
		require.NoError(t, err)
		sb, err := b.store.IsSuppressed(ctx, b.b.ID, lead.ChannelSMS, "+15552013344")
		require.NoError(t, err)
		require.True(t, sa)
		require.False(t, sb, "a suppression belongs to one shop")
	})
	t.Run("OutboxRowIsCreatedOnceWithItsFirstBody", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
		require.NoError(t, err)
		first, err := b.store.LockMessage(ctx, b.a.ID, fixture.SMS(id, "initial", "first"))
		require.NoError(t, err)
		require.Equal(t, lead.MessagePending, first.Status)
		require.NoError(t, b.store.MarkMessageSending(ctx, b.a.ID, first.ID, time.Now()))
		again, err := b.store.LockMessage(ctx, b.a.ID, fixture.SMS(id, "initial", "second"))
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, "first", again.Body, "a retry sends what the first attempt rendered")
		require.Equal(t, lead.MessageSending, again.Status)
		require.Equal(t, 1, again.Attempts)
	})
}

func TestExecutions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	e := store.Execution{JobID: 42, Run: 1, Attempt: 1, Kind: "send_sms", Queue: "sms", Outcome: store.OutcomeAbandoned, StartedAt: time.Now(), FinishedAt: time.Now()}
	require.NoError(t, b.store.RecordExecution(ctx, b.a.ID, e))
	e.Outcome = store.OutcomeError
	require.NoError(t, b.store.RecordExecution(ctx, b.a.ID, e))
	e.Outcome = store.OutcomeAbandoned
	require.NoError(t, b.store.RecordExecution(ctx, b.a.ID, e))
	e.Outcome = store.OutcomeCompleted
	require.NoError(t, b.store.RecordExecution(ctx, b.a.ID, e))
	rows, err := b.store.ListExecutions(ctx, b.a.ID)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, store.OutcomeError, rows[0].Outcome, "a real outcome replaces a placeholder, and stays")
	other, err := b.store.ListExecutions(ctx, b.b.ID)
	require.NoError(t, err)
	require.Empty(t, other)
}
