package crmtest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// calendarStart is when the calendar cases' appointments start: the
// world's BookingStart, else two days after Since, as runCreateAppointment
// books.
func (w *World) calendarStart() time.Time {
	if !w.BookingStart.IsZero() {
		return w.BookingStart
	}
	return w.Since.Add(48 * time.Hour)
}

// bookWithRef books, through the adapter, an hour for a new lead's
// customer at start with ref as its marker, and returns the lead and the
// appointment's id.
func bookWithRef(t *testing.T, w *World, start time.Time, ref string) (string, string) {
	t.Helper()
	l := w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Minute)})
	id, err := w.Adapter.CreateAppointment(t.Context(), crm.Appointment{
		CustomerID: l.CustomerID, VehicleID: l.VehicleID, Title: "Oil change", Start: start, End: start.Add(time.Hour), Ref: ref,
	})
	require.NoError(t, err)
	require.NotEmpty(t, id)
	return l.CustomerID, id
}

// listed lists [from, to) through the adapter and returns the listing and
// its ids.
func listed(t *testing.T, a crm.Adapter, from, to time.Time) ([]crm.BookedAppointment, []string) {
	t.Helper()
	got, err := a.ListAppointments(t.Context(), from, to)
	require.NoError(t, err, "listing [%s, %s)", from, to)
	require.True(t, slices.IsSortedFunc(got, func(x, y crm.BookedAppointment) int { return x.Start.Compare(y.Start) }), "sorted by Start")
	return got, IDsOf(got, func(b crm.BookedAppointment) string { return b.ID })
}

// runListAppointments: the calendar as ListAppointments reads it, every
// appointment overlapping the window once, whoever made it, its Ref read
// back; cancelled and deleted ones left out.
func runListAppointments(t *testing.T, h Harness) {
	t.Run("OurBookingWithItsRef", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		start := w.calendarStart()
		customer, id := bookWithRef(t, w, start, "lo-bk-7f3a")
		got, ids := listed(t, w.Adapter, start.Add(-30*time.Minute), start.Add(30*time.Minute))
		require.Equal(t, []string{id}, ids)
		require.Equal(t, customer, got[0].CustomerID)
		require.True(t, got[0].Start.Equal(start), "start %s, want %s", got[0].Start, start)
		require.True(t, got[0].End.Equal(start.Add(time.Hour)), "end %s", got[0].End)
		require.Contains(t, got[0].Text, "lo-bk-7f3a", "the Ref is read back")
		require.Contains(t, got[0].Text, "Oil change")
	})
	t.Run("OnlyWhatOverlapsTheWindow", func(t *testing.T) {
		t.Parallel()
		listOnlyWhatOverlaps(t, h.New(t))
	})
	t.Run("StartedBeforeTheWindowAndStillRunning", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		from := w.calendarStart()
		running := w.AddStaffAppointment(t, from.Add(-3*time.Hour), from.Add(time.Hour))
		w.AddStaffAppointment(t, from.Add(-3*time.Hour), from) // over as the window opens
		later := w.AddStaffAppointment(t, from.Add(30*time.Minute), from.Add(90*time.Minute))
		got, ids := listed(t, w.Adapter, from, from.Add(2*time.Hour))
		require.Equal(t, []string{running, later}, ids)
		require.Empty(t, got[0].CustomerID, "a staff block has no customer")
		require.True(t, got[0].Start.Equal(from.Add(-3*time.Hour)))
		require.True(t, got[0].End.Equal(from.Add(time.Hour)))
	})
	t.Run("DeletedIsLeftOut", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		start := w.calendarStart()
		_, ours := bookWithRef(t, w, start, "lo-bk-2")
		staff := w.AddStaffAppointment(t, start, start.Add(30*time.Minute))
		kept := w.AddStaffAppointment(t, start.Add(time.Hour), start.Add(2*time.Hour))
		w.DeleteAppointment(t, ours)
		w.DeleteAppointment(t, staff)
		_, ids := listed(t, w.Adapter, start.Add(-time.Hour), start.Add(3*time.Hour))
		require.Equal(t, []string{kept}, ids, "deleted ones hold no bay")
	})
	t.Run("BeyondThePageCap", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		from := w.calendarStart()
		n := h.PageCap + 30
		var want []string
		for i := range n {
			at := from.Add(time.Duration(i) * time.Minute)
			want = append(want, w.AddStaffAppointment(t, at, at.Add(time.Hour)))
		}
		_, ids := listed(t, w.Adapter, from, from.Add(time.Duration(n)*time.Minute))
		require.Equal(t, want, ids, "all %d, once each, by start", n)
	})
	t.Run("EmptyWindowIsAnError", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		start := w.calendarStart()
		before := w.Requests()
		_, err := w.Adapter.ListAppointments(t.Context(), start, start)
		require.ErrorContains(t, err, "is empty")
		_, err = w.Adapter.ListAppointments(t.Context(), start.Add(time.Hour), start)
		require.ErrorContains(t, err, "is empty")
		require.Equal(t, before, w.Requests(), "refused before any request")
	})
}

// listOnlyWhatOverlaps: a booking is listed by every window it shares an
// instant with, and by no other (windows are half-open, as slots are).
func listOnlyWhatOverlaps(t *testing.T, w *World) {
	start := w.calendarStart()
	_, id := bookWithRef(t, w, start, "lo-bk-1")
	end := start.Add(time.Hour)
	for name, win := range map[string][2]time.Time{
		"ending as it starts":   {start.Add(-2 * time.Hour), start},
		"starting as it ends":   {end, end.Add(time.Hour)},
		"the day before":        {start.Add(-26 * time.Hour), start.Add(-24 * time.Hour)},
		"long after":            {end.Add(48 * time.Hour), end.Add(50 * time.Hour)},
		"just before its start": {start.Add(-time.Hour), start.Add(-time.Millisecond)},
	} {
		_, ids := listed(t, w.Adapter, win[0], win[1])
		require.Empty(t, ids, "a window %s", name)
	}
	for name, win := range map[string][2]time.Time{
		"holding its start":  {start.Add(-time.Minute), start.Add(time.Minute)},
		"holding its end":    {end.Add(-time.Minute), end.Add(time.Minute)},
		"inside it":          {start.Add(10 * time.Minute), start.Add(20 * time.Minute)},
		"a day around it":    {start.Add(-12 * time.Hour), start.Add(12 * time.Hour)},
		"from its own start": {start, end},
	} {
		_, ids := listed(t, w.Adapter, win[0], win[1])
		require.Equal(t, []string{id}, ids, "a window %s", name)
	}
}

// runEditAppointments: MoveAppointment and CancelAppointment, where the
// adapter implements crm.AppointmentEditor (and Harness.EditsAppointments
// says it must); a CRM without them is told to the shop instead.
func runEditAppointments(t *testing.T, h Harness) {
	t.Run("ImplementedAsDeclared", func(t *testing.T) {
		t.Parallel()
		_, ok := h.New(t).Adapter.(crm.AppointmentEditor)
		require.Equal(t, h.EditsAppointments, ok, "the adapter implements crm.AppointmentEditor")
	})
	if !h.EditsAppointments {
		return
	}
	t.Run("Move", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		editor := w.Adapter.(crm.AppointmentEditor)
		start := w.calendarStart()
		customer, id := bookWithRef(t, w, start, "lo-bk-3")
		to := start.Add(26 * time.Hour)
		moved := crm.Appointment{Start: to, End: to.Add(90 * time.Minute)}
		require.NoError(t, editor.MoveAppointment(t.Context(), id, moved))
		require.NoError(t, editor.MoveAppointment(t.Context(), id, moved), "moving it to the times it has is no error")

		_, ids := listed(t, w.Adapter, start.Add(-time.Hour), start.Add(2*time.Hour))
		require.Empty(t, ids, "gone from its old time")
		got, ids := listed(t, w.Adapter, to.Add(-time.Hour), to.Add(time.Hour))
		require.Equal(t, []string{id}, ids)
		require.True(t, got[0].Start.Equal(to), "start %s, want %s", got[0].Start, to)
		require.True(t, got[0].End.Equal(to.Add(90*time.Minute)), "end %s", got[0].End)
		require.Equal(t, customer, got[0].CustomerID, "the rest is kept")
		require.Contains(t, got[0].Text, "lo-bk-3")

		var invalid *lead.ValidationError
		require.ErrorAs(t, editor.MoveAppointment(t.Context(), id, crm.Appointment{Start: to, End: to}), &invalid)
		require.Equal(t, "appointment.end", invalid.Field)
		require.ErrorAs(t, editor.MoveAppointment(t.Context(), id, crm.Appointment{End: to}), &invalid)
		require.Equal(t, "appointment.start", invalid.Field)
		require.ErrorIs(t, editor.MoveAppointment(t.Context(), w.MissingAppointmentID, moved), crm.ErrNotFound,
			"moving one the CRM does not have fails: there is nothing to move")
	})
	t.Run("Cancel", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		editor := w.Adapter.(crm.AppointmentEditor)
		start := w.calendarStart()
		_, id := bookWithRef(t, w, start, "lo-bk-4")
		_, other := bookWithRef(t, w, start, "lo-bk-5")
		require.NoError(t, editor.CancelAppointment(t.Context(), id))
		_, ids := listed(t, w.Adapter, start.Add(-time.Hour), start.Add(2*time.Hour))
		require.Equal(t, []string{other}, ids, "cancelled: left out")
		require.NoError(t, editor.CancelAppointment(t.Context(), id), "cancelling twice is no error")
		require.NoError(t, editor.CancelAppointment(t.Context(), w.MissingAppointmentID), "nor is one the CRM never had")
	})
}
