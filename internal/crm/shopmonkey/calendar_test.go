package shopmonkey_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// TestListAppointmentsWindows: two startDate windows, those that began
// before from and still run (endDate after from) and those that begin in
// [from, to), with bare operators and the location in each.
func TestListAppointmentsWindows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := time.Date(2025, 3, 12, 13, 0, 0, 0, time.UTC)
	_, err := b.adapter.ListAppointments(t.Context(), from, from.Add(time.Hour))
	require.NoError(t, err)
	calls := b.queries(t, "/v3/appointment")
	require.Len(t, calls, 2)
	var wheres []map[string]any
	for _, q := range calls {
		var w map[string]any
		require.NoError(t, json.Unmarshal([]byte(q.Get("where")), &w))
		wheres = append(wheres, w)
	}
	require.Equal(t, []map[string]any{
		{
			"locationId": testLocation, "endDate": map[string]any{"gt": "2025-03-12T13:00:00Z"},
			"startDate": map[string]any{"gte": "2000-01-01T00:00:00Z", "lt": "2025-03-12T13:00:00Z"},
		},
		{
			"locationId": testLocation, "endDate": map[string]any{"gt": "2025-03-12T13:00:00Z"},
			"startDate": map[string]any{"gte": "2025-03-12T13:00:00Z", "lt": "2025-03-12T14:00:00Z"},
		},
	}, wheres)
}

// TestListAppointmentsUnderQuirks: with rows left out of pages (meta.total
// still counting them) and page tails repeated, a window beyond the page
// cap is still listed whole, each appointment once: a missed booking is a
// double booking.
func TestListAppointmentsUnderQuirks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	from := time.Date(2025, 3, 12, 13, 0, 0, 0, time.UTC)
	var want []string
	for i := range 150 {
		at := from.Add(time.Duration(i) * time.Minute)
		id, err := b.fake.AddAppointment(testLocation, at, at.Add(30*time.Minute))
		require.NoError(t, err)
		want = append(want, id)
	}
	b.fake.SetDropRecordRate(0.5)
	b.fake.SetDuplicatePageRate(0.5)
	got, err := b.adapter.ListAppointments(t.Context(), from, from.Add(150*time.Minute))
	require.NoError(t, err)
	require.Equal(t, want, crmtest.IDsOf(got, func(a crm.BookedAppointment) string { return a.ID }))
}

// TestListAppointmentsRecords: cancelled (by whichever flag) and deleted
// appointments are left out; a malformed one fails the listing, naming
// its field; the Ref written into the name is read back.
func TestListAppointmentsRecords(t *testing.T) {
	t.Parallel()
	from, to := time.Date(2025, 3, 12, 12, 0, 0, 0, time.UTC), time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
	t.Run("LeftOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		row := func(id, extra string) {
			b.AddRaw(t, fakeshopmonkey.Appointment, `{"id":"`+id+`","locationId":"`+testLocation+`","name":"x","startDate":"2025-03-12T13:00:00.000Z","endDate":"2025-03-12T14:00:00.000Z"`+extra+`}`)
		}
		row("kept", `,"note":"bring keys","deleted":false`)
		row("deleted", `,"deleted":true`)
		row("canceled", `,"canceled":true`)
		row("cancelled", `,"cancelled":true`)
		got, err := b.adapter.ListAppointments(t.Context(), from, to)
		require.NoError(t, err)
		require.Equal(t, []crm.BookedAppointment{{
			ID: "kept", Start: time.Date(2025, 3, 12, 13, 0, 0, 0, time.UTC), End: time.Date(2025, 3, 12, 14, 0, 0, 0, time.UTC),
			Text: "x\nbring keys",
		}}, utc(got))
	})
	t.Run("MalformedEndDate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.AddRaw(t, fakeshopmonkey.Appointment, `{"id":"bad","locationId":"`+testLocation+`","startDate":"2025-03-12T13:00:00.000Z","endDate":"later"}`)
		_, err := b.adapter.ListAppointments(t.Context(), from, to)
		crmtest.RequireInvalidRecord(t, err, "appointment bad", "endDate")
	})
	t.Run("TheRefIsInTheName", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ref := b.AddLead(t, fakeshopmonkey.LeadSpec{})
		start := time.Date(2025, 3, 12, 13, 0, 0, 0, time.UTC)
		id, err := b.adapter.CreateAppointment(t.Context(), crm.Appointment{CustomerID: ref.CustomerID, Title: "Oil change", Start: start, End: start.Add(time.Hour), Ref: "lo-bk-9"})
		require.NoError(t, err)
		raw, ok := b.fake.Record(testLocation, fakeshopmonkey.Appointment, id)
		require.True(t, ok)
		require.Contains(t, string(raw), `"name":"Oil change [lo-bk-9]"`)
		got, err := b.adapter.ListAppointments(t.Context(), from, to)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, "Oil change [lo-bk-9]", got[0].Text)
		require.Equal(t, ref.CustomerID, got[0].CustomerID)
		require.Equal(t, 1, b.fake.AppointmentsCreated(ref.CustomerID, start))
	})
	t.Run("NotAnEditor", func(t *testing.T) {
		t.Parallel()
		// ShopMonkey documents no update or delete of an appointment: a
		// move or cancel goes to the shop as a notice.
		_, ok := any(setup(t).adapter).(crm.AppointmentEditor)
		require.False(t, ok)
	})
}

// utc puts every time of xs in UTC, so that Equal compares them alike.
func utc(xs []crm.BookedAppointment) []crm.BookedAppointment {
	for i := range xs {
		xs[i].Start, xs[i].End = xs[i].Start.UTC(), xs[i].End.UTC()
	}
	return xs
}
