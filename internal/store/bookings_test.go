package store_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

func TestBookingLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	leadA, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
	require.NoError(t, err)
	tok := b.keys.LinkToken(b.a.ID, leadA)
	hash := sha256.Sum256([]byte(tok))
	later := time.Now().Add(48 * time.Hour).Truncate(time.Microsecond)
	require.NoError(t, b.store.TouchBookingLink(ctx, b.a.ID, leadA, hash[:], later))
	require.NoError(t, b.store.TouchBookingLink(ctx, b.a.ID, leadA, hash[:], time.Now().Add(time.Hour)))
	o, err := b.store.ResolveBookingLink(ctx, hash[:])
	require.NoError(t, err)
	require.Equal(t, b.a.ID, o.TenantID)
	require.Equal(t, leadA, o.LeadID)
	require.True(t, o.ExpiresAt.Equal(later), "a shorter expiry never shortens the link: %s", o.ExpiresAt)

	other := sha256.Sum256([]byte("nobody"))
	_, err = b.store.ResolveBookingLink(ctx, other[:])
	require.ErrorIs(t, err, store.ErrNotFound)

	// As tenant b, a's link row is invisible.
	_, err = b.store.GetLead(ctx, b.b.ID, o.LeadID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestBookings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	leadA, _, err := b.store.UpsertLead(ctx, b.a.ID, fixture.Lead("order:1"), false)
	require.NoError(t, err)
	start := time.Now().Add(24 * time.Hour).Truncate(time.Hour)
	end := start.Add(time.Hour)

	first, created, err := b.store.CreateBooking(ctx, b.a.ID, leadA, "k1", start, end)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, lead.BookingRequested, first.State)
	require.Regexp(t, `^leadorch-[0-9a-f]{12}$`, first.Ref)

	again, created, err := b.store.CreateBooking(ctx, b.a.ID, leadA, "k1", start, end)
	require.NoError(t, err)
	require.False(t, created, "one key, one request")
	require.Equal(t, first.ID, again.ID)

	tab, created, err := b.store.CreateBooking(ctx, b.a.ID, leadA, "k2", start.Add(time.Hour), end.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, created, "one live booking per lead")
	require.Equal(t, first.ID, tab.ID)

	live, err := b.store.LiveBookingTimes(ctx, b.a.ID, start.Add(-time.Hour), end)
	require.NoError(t, err)
	require.Len(t, live, 1)
	live, err = b.store.LiveBookingTimes(ctx, b.b.ID, start.Add(-time.Hour), end)
	require.NoError(t, err)
	require.Empty(t, live, "b sees none of a's bookings")
	_, err = b.store.GetBooking(ctx, b.b.ID, first.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	at := time.Now()
	require.NoError(t, b.store.UpdateBooking(ctx, b.a.ID, first.ID, store.BookingUpdate{State: lead.BookingInProgress, At: at}))
	require.NoError(t, b.store.UpdateBooking(ctx, b.a.ID, first.ID, store.BookingUpdate{State: lead.BookingBooked, CRMAppointmentID: "appt-1", At: at}))
	got, err := b.store.GetBooking(ctx, b.a.ID, first.ID)
	require.NoError(t, err)
	require.Equal(t, lead.BookingBooked, got.State)
	require.Equal(t, "appt-1", got.CRMAppointmentID)
	require.False(t, got.ClaimedAt.IsZero())
	require.False(t, got.BookedAt.IsZero())

	moved, changed, err := b.store.RequestBookingChange(ctx, b.a.ID, first.ID, "m1", lead.BookingMove, start.Add(2*time.Hour), end.Add(2*time.Hour))
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, lead.ChangeRequested, moved.ChangeState)
	_, changed, err = b.store.RequestBookingChange(ctx, b.a.ID, first.ID, "m1", lead.BookingMove, start.Add(2*time.Hour), end.Add(2*time.Hour))
	require.NoError(t, err)
	require.False(t, changed, "a double tap is one change")
	require.NoError(t, b.store.FinishBookingChange(ctx, b.a.ID, first.ID, lead.ChangeDone, ""))
	got, err = b.store.GetBooking(ctx, b.a.ID, first.ID)
	require.NoError(t, err)
	require.True(t, got.Start.Equal(start.Add(2*time.Hour)), "a move takes its new time")

	_, changed, err = b.store.RequestBookingChange(ctx, b.a.ID, first.ID, "c1", lead.BookingCancel, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, b.store.FinishBookingChange(ctx, b.a.ID, first.ID, lead.ChangeDone, ""))
	got, err = b.store.GetBooking(ctx, b.a.ID, first.ID)
	require.NoError(t, err)
	require.Equal(t, lead.BookingCancelled, got.State)

	_, created, err = b.store.CreateBooking(ctx, b.a.ID, leadA, "k3", start, end)
	require.NoError(t, err)
	require.True(t, created, "a cancelled booking is not live: the lead may book again")

	booked, err := b.store.MarkLeadBooked(ctx, b.a.ID, leadA, time.Now())
	require.NoError(t, err)
	require.True(t, booked)
	l, err := b.store.GetLead(ctx, b.a.ID, leadA)
	require.NoError(t, err)
	require.Equal(t, lead.StatusBooked, l.Status)
}
