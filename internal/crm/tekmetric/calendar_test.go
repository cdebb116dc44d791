package tekmetric_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// TestListAppointmentsQuery: the shop, start widened by a day (whether
// Tekmetric's start bounds an appointment's start or any overlap is not
// documented), end rounded up to the second, every page of 100.
func TestListAppointmentsQuery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	for i := range 120 {
		at := from.Add(time.Duration(i) * time.Minute)
		_, err := b.fake.AddAppointment(testShop, at, at.Add(time.Hour))
		require.NoError(t, err)
	}
	got, err := b.adapter.ListAppointments(t.Context(), from, from.Add(2*time.Hour+500*time.Millisecond))
	require.NoError(t, err)
	require.Len(t, got, 120)
	calls := b.queries(t, "/api/v1/appointments")
	require.Len(t, calls, 2)
	for i, q := range calls {
		require.Equal(t, "3", q.Get("shop"))
		require.Equal(t, "2026-11-26T14:00:00Z", q.Get("start"))
		require.Equal(t, "2026-11-27T16:00:01Z", q.Get("end"))
		require.Equal(t, "100", q.Get("size"))
		require.Equal(t, strconv.Itoa(i), q.Get("page"))
	}
}

// TestListAppointmentsRecords: what is left out (cancelled by status,
// deleted, another shop's) and what fails the listing (a malformed
// appointment could hide a taken bay).
func TestListAppointmentsRecords(t *testing.T) {
	t.Parallel()
	t.Run("LeftOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		kept := b.AddRaw(t, faketekmetric.Appointments, `{"id": 501, "shopId": 3, "title": "Kept", "startTime": "2026-11-27T09:00:00", "endTime": "2026-11-27T10:00:00", "appointmentStatus": "CONFIRMED"}`)
		b.AddRaw(t, faketekmetric.Appointments, `{"id": 502, "shopId": 3, "title": "Cancelled", "startTime": "2026-11-27T09:00:00", "endTime": "2026-11-27T10:00:00", "appointmentStatus": "CANCELED"}`)
		b.AddRaw(t, faketekmetric.Appointments, `{"id": 503, "shopId": 3, "title": "Cancelled", "startTime": "2026-11-27T09:00:00", "endTime": "2026-11-27T10:00:00", "appointmentStatus": "cancelled"}`)
		b.AddRaw(t, faketekmetric.Appointments, `{"id": 504, "shopId": 3, "title": "Deleted", "startTime": "2026-11-27T09:00:00", "endTime": "2026-11-27T10:00:00", "deletedDate": "2026-11-26T10:00:00"}`)
		b.AddRaw(t, faketekmetric.Appointments, `{"id": 505, "shopId": 4, "title": "Theirs", "startTime": "2026-11-27T09:00:00", "endTime": "2026-11-27T10:00:00"}`)
		got, err := b.adapter.ListAppointments(t.Context(), time.Date(2026, 11, 27, 8, 0, 0, 0, b.chicago), time.Date(2026, 11, 27, 12, 0, 0, 0, b.chicago))
		require.NoError(t, err)
		require.Equal(t, []crm.BookedAppointment{{
			ID: strconv.FormatInt(kept, 10), Start: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC).In(b.chicago),
			End: time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC).In(b.chicago), Text: "Kept",
		}}, normalize(got, b.chicago), "a time without an offset is the shop's")
	})
	for field, raw := range map[string]string{
		"startTime": `{"id": 601, "shopId": 3, "title": "x", "startTime": "soon", "endTime": "2026-11-27T10:00:00"}`,
		"endTime":   `{"id": 601, "shopId": 3, "title": "x", "startTime": "2026-11-27T09:00:00"}`,
	} {
		t.Run("Malformed"+field, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.AddRaw(t, faketekmetric.Appointments, raw)
			_, err := b.adapter.ListAppointments(t.Context(), time.Date(2026, 11, 27, 8, 0, 0, 0, b.chicago), time.Date(2026, 11, 27, 12, 0, 0, 0, b.chicago))
			crmtest.RequireInvalidRecord(t, err, "appointment 601", field)
		})
	}
}

// normalize puts every time of xs in loc, so that Equal compares
// instants and zones alike.
func normalize(xs []crm.BookedAppointment, loc *time.Location) []crm.BookedAppointment {
	for i := range xs {
		xs[i].Start, xs[i].End = xs[i].Start.In(loc), xs[i].End.In(loc)
	}
	return xs
}

// TestBookingOnFallBackNight: Tekmetric writes appointment times without
// an offset, so the hour the clocks show twice cannot be told apart; the
// booking page offers only the first of them (lead.OpenSlots), and a
// booking there reads back at the instant it was made, so a retry's
// lookup by start time finds it.
func TestBookingOnFallBackNight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ref := b.AddLead(t, faketekmetric.LeadSpec{})
	slots := lead.BookingSettings{Hours: map[string]string{"sun": "01:00-02:00"}, SlotMinutes: 30, LeadTimeMinutes: 1, DaysAhead: 2}.
		OpenSlots(b.chicago, time.Date(2026, 10, 31, 12, 0, 0, 0, b.chicago), nil)
	require.Len(t, slots, 2)
	for _, s := range slots {
		id, err := b.adapter.CreateAppointment(t.Context(), crm.Appointment{CustomerID: ref.CustomerID, Title: "Night drop", Start: s.Start, End: s.End, Ref: "lo-" + s.Start.Format("1504")})
		require.NoError(t, err)
		got, err := b.adapter.ListAppointments(t.Context(), s.Start, s.End)
		require.NoError(t, err)
		i := -1
		for j, a := range got {
			if a.ID == id {
				i = j
			}
		}
		require.GreaterOrEqual(t, i, 0, "the booking at %s is listed", s.Start)
		require.True(t, got[i].Start.Equal(s.Start), "start %s, booked %s", got[i].Start, s.Start)
		require.True(t, got[i].End.Equal(s.End), "end %s, booked %s", got[i].End, s.End)
	}
}

// TestEditAppointmentWire: a move PATCHes the times only, in UTC; a
// cancel DELETEs; ids that are not Tekmetric's are refused before any
// call, and a refused edit says which appointment and shop.
func TestEditAppointmentWire(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ref := b.AddLead(t, faketekmetric.LeadSpec{})
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, b.chicago)
	id, err := b.adapter.CreateAppointment(t.Context(), crm.Appointment{CustomerID: ref.CustomerID, Title: "Brakes", Start: start, End: start.Add(time.Hour), Ref: "lo-1"})
	require.NoError(t, err)

	to := start.Add(2 * time.Hour)
	require.NoError(t, b.adapter.MoveAppointment(t.Context(), id, crm.Appointment{Title: "ignored", Start: to, End: to.Add(time.Hour)}))
	patches := requestsOf(b, http.MethodPatch, "/api/v1/appointments/"+id)
	require.Len(t, patches, 1)
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(patches[0].Body), &body))
	require.Equal(t, map[string]any{"startTime": "2026-11-27T17:00:00Z", "endTime": "2026-11-27T18:00:00Z"}, body)
	raw, ok := b.fake.Record(testShop, faketekmetric.Appointments, numericID(t, id))
	require.True(t, ok)
	require.Contains(t, string(raw), `"title":"Brakes"`)
	require.Contains(t, string(raw), `"description":"lo-1"`, "the Ref stays")

	before := len(b.fake.Requests())
	for _, bad := range []string{"", "abc", "0", "-4"} {
		var invalid *lead.ValidationError
		require.ErrorAs(t, b.adapter.MoveAppointment(t.Context(), bad, crm.Appointment{Start: to, End: to.Add(time.Hour)}), &invalid)
		require.Equal(t, "appointment.id", invalid.Field)
		require.ErrorAs(t, b.adapter.CancelAppointment(t.Context(), bad), &invalid)
		require.Equal(t, "appointment.id", invalid.Field)
	}
	require.Len(t, b.fake.Requests(), before, "no request for a bad id")

	b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 1})
	err = b.adapter.CancelAppointment(t.Context(), id)
	var status *crm.StatusError
	require.ErrorAs(t, err, &status)
	require.True(t, status.Temporary())
	require.ErrorContains(t, err, "error cancelling appointment "+id+" at shop 3")

	require.NoError(t, b.adapter.CancelAppointment(t.Context(), id))
	require.Len(t, requestsOf(b, http.MethodDelete, "/api/v1/appointments/"+id), 2)
	err = b.adapter.MoveAppointment(t.Context(), id, crm.Appointment{Start: to, End: to.Add(time.Hour)})
	require.ErrorIs(t, err, crm.ErrNotFound, "a cancelled appointment cannot be moved")
	require.ErrorContains(t, err, "error moving appointment "+id+" at shop 3")
}

// requestsOf is the fake's requests of method to path.
func requestsOf(b *testBundle, method, path string) []faketekmetric.Request {
	var out []faketekmetric.Request
	for _, r := range b.requests(path) {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}
