package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// leadTimes reads a lead's found_via, opted_out_at and booked_at as the
// owner (zero times for NULL).
func (b *testBundle) leadTimes(t *testing.T, leadID uuid.UUID) (via string, optedOut, booked time.Time) {
	t.Helper()
	var o, bk *time.Time
	require.NoError(t, b.db.Owner.QueryRow(context.Background(), `SELECT found_via, opted_out_at, booked_at FROM leads WHERE id = $1`, leadID).
		Scan(&via, &o, &bk))
	if o != nil {
		optedOut = *o
	}
	if bk != nil {
		booked = *bk
	}
	return via, optedOut, booked
}

// TestLeadTimestamps: how a lead was found is written by the insert only;
// the first opt-out, booking and accepted message of each channel are
// stamped once and survive what happens next.
func TestLeadTimestamps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("FoundViaOnInsertOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, inserted, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1", func(l *lead.Lead) { l.FoundVia = lead.FoundViaWebhook }), false)
		require.NoError(t, err)
		require.True(t, inserted)
		// A newer version from a poll refreshes the lead, not its path.
		_, inserted, err = b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1", func(l *lead.Lead) {
			l.FoundVia, l.CRMVersion, l.FirstName = lead.FoundViaPoll, 2, "Anne"
		}), false)
		require.NoError(t, err)
		require.False(t, inserted)
		via, _, _ := b.leadTimes(t, id)
		require.Equal(t, "webhook", via)
		got, err := b.store.GetLead(ctx, b.a.ID, id)
		require.NoError(t, err)
		require.Equal(t, "Anne", got.FirstName)
		require.Equal(t, lead.FoundViaWebhook, got.FoundVia)

		// A caller that does not say is recorded as not knowing.
		other, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:2"), false)
		require.NoError(t, err)
		via, _, _ = b.leadTimes(t, other)
		require.Equal(t, "unknown", via)
	})

	t.Run("OptedOutStampedOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
		require.NoError(t, err)
		_, optedOut, _ := b.leadTimes(t, id)
		require.True(t, optedOut.IsZero())
		require.NoError(t, b.store.SetLeadStatus(ctx, b.a.ID, id, lead.StatusOptedOut))
		_, first, _ := b.leadTimes(t, id)
		require.False(t, first.IsZero())
		// START, then STOP again: the first opt-out is the one that counts.
		require.NoError(t, b.store.SetLeadStatus(ctx, b.a.ID, id, lead.StatusContacted))
		require.NoError(t, b.store.SetLeadStatus(ctx, b.a.ID, id, lead.StatusOptedOut))
		_, again, booked := b.leadTimes(t, id)
		require.True(t, first.Equal(again), "opt-out stamp moved from %s to %s", first, again)
		require.True(t, booked.IsZero())
	})

	t.Run("BookedStampedOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Seen booked at once (an appointment already confirmed).
		atOnce, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("appointment:1", func(l *lead.Lead) {
			l.Source, l.Status = lead.SourceAppointment, lead.StatusBooked
		}), false)
		require.NoError(t, err)
		_, _, booked := b.leadTimes(t, atOnce)
		require.False(t, booked.IsZero())

		// Booked by a newer CRM version, then again by a later one.
		later, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:2", func(l *lead.Lead) { l.CustomerExternalID = "c2" }), false)
		require.NoError(t, err)
		_, _, booked = b.leadTimes(t, later)
		require.True(t, booked.IsZero(), "a new lead is not booked")
		_, _, err = b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:2", func(l *lead.Lead) {
			l.CustomerExternalID, l.Status, l.CRMVersion = "c2", lead.StatusBooked, 2
		}), false)
		require.NoError(t, err)
		_, _, first := b.leadTimes(t, later)
		require.False(t, first.IsZero())
		_, _, err = b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:2", func(l *lead.Lead) {
			l.CustomerExternalID, l.Status, l.CRMVersion = "c2", lead.StatusBooked, 3
		}), false)
		require.NoError(t, err)
		_, _, again := b.leadTimes(t, later)
		require.True(t, first.Equal(again))

		// Booked because staff booked the customer by another record.
		byCustomer, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:3", func(l *lead.Lead) { l.CustomerExternalID = "c3" }), false)
		require.NoError(t, err)
		ids, err := b.store.BookCustomerLeads(ctx, b.a.ID, "shopmonkey", "c3")
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{byCustomer}, ids)
		_, _, booked = b.leadTimes(t, byCustomer)
		require.False(t, booked.IsZero())
	})

	t.Run("FirstMessagePerChannelOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		crmCreated := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
		id, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1", func(l *lead.Lead) {
			l.FoundVia, l.CRMCreatedAt = lead.FoundViaWebhook, crmCreated
		}), false)
		require.NoError(t, err)
		accepted := time.Now().Add(time.Minute).Truncate(time.Microsecond)

		first, isFirst, err := b.store.RecordFirstMessage(ctx, b.a.ID, id, lead.ChannelSMS, accepted)
		require.NoError(t, err)
		require.True(t, isFirst)
		require.Equal(t, id, first.LeadID)
		require.Equal(t, lead.ChannelSMS, first.Channel)
		require.Equal(t, "shopmonkey", first.CRM)
		require.Equal(t, lead.FoundViaWebhook, first.FoundVia)
		require.True(t, crmCreated.Equal(first.CRMCreatedAt))
		require.True(t, accepted.Equal(first.AcceptedAt))
		require.WithinDuration(t, time.Now(), first.FirstSeenAt, time.Minute)

		// A second acceptance on the channel is not the first; another
		// channel's is; another tenant cannot stamp this tenant's lead.
		_, isFirst, err = b.store.RecordFirstMessage(ctx, b.a.ID, id, lead.ChannelSMS, accepted.Add(time.Hour))
		require.NoError(t, err)
		require.False(t, isFirst)
		_, isFirst, err = b.store.RecordFirstMessage(ctx, b.a.ID, id, lead.ChannelEmail, accepted.Add(time.Hour))
		require.NoError(t, err)
		require.True(t, isFirst)
		_, _, err = b.store.RecordFirstMessage(ctx, b.b.ID, id, lead.ChannelSMS, accepted)
		require.Error(t, err, "tenant b stamped a lead of tenant a")

		var at time.Time
		require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT accepted_at FROM lead_first_messages WHERE lead_id = $1 AND channel = 'sms'`, id).Scan(&at))
		require.True(t, accepted.Equal(at))

		// A lead whose CRM gave no creation time reports none.
		bare, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:2"), false)
		require.NoError(t, err)
		first, isFirst, err = b.store.RecordFirstMessage(ctx, b.a.ID, bare, lead.ChannelSMS, accepted)
		require.NoError(t, err)
		require.True(t, isFirst)
		require.True(t, first.CRMCreatedAt.IsZero())
		require.Equal(t, lead.FoundViaUnknown, first.FoundVia)
	})
}
