package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// TestSMSOutcomes: each message's outcome is kept once (a repeated
// callback adds nothing), the latest OutcomeWindow come back newest first,
// a tenant keeps at most twice the window (the prune), and one tenant's
// outcomes are not another's.
func TestSMSOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	start := time.Now().Truncate(time.Second)
	record := func(tenant lead.Tenant, i int) []store.SMSOutcome {
		t.Helper()
		latest, err := b.store.RecordSMSOutcome(ctx, tenant.ID, store.SMSOutcome{ProviderID: fmt.Sprintf("SM%03d", i),
			Delivered: i%2 == 0, ErrorCode: 30007 * (i % 2), Verdict: map[bool]string{true: "", false: "filtered"}[i%2 == 0],
			RecordedAt: start.Add(time.Duration(i) * time.Second)})
		require.NoError(t, err)
		return latest
	}
	for i := range 3 {
		record(b.a, i)
	}
	latest := record(b.a, 2) // Twilio called twice
	require.Len(t, latest, 3)
	require.Equal(t, []string{"SM002", "SM001", "SM000"}, []string{latest[0].ProviderID, latest[1].ProviderID, latest[2].ProviderID})
	require.False(t, latest[1].Delivered)
	require.Equal(t, 30007, latest[1].ErrorCode)
	require.Equal(t, "filtered", latest[1].Verdict)
	require.True(t, latest[1].RecordedAt.Equal(start.Add(time.Second)))

	for i := 3; i < 100; i++ {
		latest = record(b.a, i)
		require.Len(t, latest, min(i+1, store.OutcomeWindow))
		require.Equal(t, fmt.Sprintf("SM%03d", i), latest[0].ProviderID)
	}
	var kept int
	require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT count(*) FROM sms_outcomes WHERE tenant_id = $1`, b.a.ID).Scan(&kept))
	require.LessOrEqual(t, kept, 2*store.OutcomeWindow, "pruned")
	require.GreaterOrEqual(t, kept, store.OutcomeWindow)

	other := record(b.b, 0)
	require.Len(t, other, 1, "tenant b sees only its own")
}

// TestMarkNotTextable: a landline is suppressed on sms with source carrier
// (a STOP already there stays a STOP), and the problem is added once to
// every lead of the number at the tenant, and to no other tenant's.
func TestMarkNotTextable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	phone := lead.PhoneNumber("+15125550142")
	lead1, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1", func(l *lead.Lead) {
		l.Phone, l.ContactProblem = phone, "invalid customer.email: no @"
	}), false)
	require.NoError(t, err)
	lead2, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:2", func(l *lead.Lead) { l.Phone = phone }), false)
	require.NoError(t, err)
	elsewhere, _, err := b.store.UpsertLead(ctx, b.b.ID, fixture.Lead("order:1", func(l *lead.Lead) { l.Phone = phone }), false)
	require.NoError(t, err)

	for range 2 {
		require.NoError(t, b.store.MarkNotTextable(ctx, b.a.ID, phone, "landline (code 30006)", "cannot receive texts (30006); stopped"))
	}
	l1, err := b.store.GetLead(ctx, b.a.ID, lead1)
	require.NoError(t, err)
	require.Equal(t, "invalid customer.email: no @; carrier: cannot receive texts (30006), stopped", l1.ContactProblem)
	l2, err := b.store.GetLead(ctx, b.a.ID, lead2)
	require.NoError(t, err)
	require.Equal(t, "carrier: cannot receive texts (30006), stopped", l2.ContactProblem)
	o, err := b.store.GetLead(ctx, b.b.ID, elsewhere)
	require.NoError(t, err)
	require.Empty(t, o.ContactProblem, "another tenant's lead of the same number")
	var source string
	require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT source FROM suppressions WHERE tenant_id = $1 AND address = $2`, b.a.ID, string(phone)).Scan(&source))
	require.Equal(t, "carrier", source)
	ok, err := b.store.IsSuppressed(ctx, b.b.ID, lead.ChannelSMS, string(phone))
	require.NoError(t, err)
	require.False(t, ok, "tenant b may still text the number")
	emailOK, err := b.store.IsSuppressed(ctx, b.a.ID, lead.ChannelEmail, "")
	require.NoError(t, err)
	require.False(t, emailOK)

	// A newer version from the CRM brings its own problems: the carrier's
	// stays while the number does, and goes with a new number.
	refresh := func(ext string, version int64, p lead.PhoneNumber, problem string) string {
		t.Helper()
		id, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead(ext, func(l *lead.Lead) {
			l.Phone, l.ContactProblem, l.CRMVersion = p, problem, version
		}), false)
		require.NoError(t, err)
		got, err := b.store.GetLead(ctx, b.a.ID, id)
		require.NoError(t, err)
		return got.ContactProblem
	}
	require.Equal(t, "invalid customer.vehicle: gone; carrier: cannot receive texts (30006), stopped", refresh("order:1", 5, phone, "invalid customer.vehicle: gone"))
	require.Equal(t, "carrier: cannot receive texts (30006), stopped", refresh("order:1", 6, phone, ""))
	require.Equal(t, "carrier: cannot receive texts (30006), stopped", refresh("order:1", 7, phone, ""), "kept once")
	require.Empty(t, refresh("order:2", 5, "+15125550144", ""), "a new number starts clean")

	// A STOP first: it stays the suppression's reason.
	stopped := lead.PhoneNumber("+15125550143")
	require.NoError(t, b.store.Suppress(ctx, b.a.ID, lead.ChannelSMS, string(stopped), "the customer texted STOP", "inbound"))
	require.NoError(t, b.store.MarkNotTextable(ctx, b.a.ID, stopped, "landline", "cannot receive texts"))
	require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT source FROM suppressions WHERE tenant_id = $1 AND address = $2`, b.a.ID, string(stopped)).Scan(&source))
	require.Equal(t, "inbound", source)
}

// TestCarrierAttention: the flag keeps its since across marks, reports
// when it began and when it was cleared, and is not the CRM's flag.
func TestCarrierAttention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	at := time.Now().Truncate(time.Second)
	name, began, err := b.store.MarkCarrierAttention(ctx, b.a.ID, "first", at)
	require.NoError(t, err)
	require.True(t, began)
	require.Equal(t, b.a.Name, name)
	_, began, err = b.store.MarkCarrierAttention(ctx, b.a.ID, "second", at.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, began)
	got, err := b.store.GetCarrierAttention(ctx, b.a.ID)
	require.NoError(t, err)
	require.Equal(t, "second", got.Reason)
	require.True(t, got.Since.Equal(at), "since stays at the first mark")
	tenant, err := b.store.GetTenant(ctx, b.a.ID)
	require.NoError(t, err)
	require.False(t, tenant.NeedsAttention)
	none, err := b.store.GetCarrierAttention(ctx, b.b.ID)
	require.NoError(t, err)
	require.Equal(t, store.CarrierAttention{}, none)

	cleared, err := b.store.ClearCarrierAttention(ctx, b.a.ID)
	require.NoError(t, err)
	require.True(t, cleared)
	cleared, err = b.store.ClearCarrierAttention(ctx, b.a.ID)
	require.NoError(t, err)
	require.False(t, cleared, "nothing to clear")
}
