package faketekmetric_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// appointment reads the stored appointment id (decimal) of shop 3.
func (b *tekmetricBundle) appointment(t *testing.T, id string) map[string]any {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	raw, ok := b.fake.Record(b.shop, faketekmetric.Appointments, n)
	require.True(t, ok, "appointment %s is stored", id)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	return got
}

// staff adds a staff appointment of shop 3 at Chicago wall-clock times on
// Nov 27 2026 and returns its id.
func (b *tekmetricBundle) staff(t *testing.T, from, to string) string {
	t.Helper()
	at := func(hm string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-27 "+hm, b.chicago)
		require.NoError(t, err)
		return v
	}
	id, err := b.fake.AddAppointment(b.shop, at(from), at(to))
	require.NoError(t, err)
	return id
}

func TestTekmetricCalendarList(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "StartAndEndBoundTheStartTime", func(t *testing.T) {
		b := setupTekmetric(t)
		early := b.staff(t, "07:00", "09:00")
		nine := b.staff(t, "09:00", "10:00")
		noon := b.staff(t, "12:00", "13:00")
		b.staff(t, "15:00", "16:00")
		window := func(start, end string) []string {
			return b.list(t, "/api/v1/appointments", url.Values{"start": {start}, "end": {end}}).ids(t)
		}
		require.Equal(t, []string{nine, noon}, window("2026-11-27T15:00:00Z", "2026-11-27T18:00:00Z"),
			"09:00 to 12:00 in Chicago, both ends included; 07:00 still runs at 09:00 but starts before")
		require.Equal(t, []string{nine, noon}, window("2026-11-27T09:00:00", "2026-11-27T12:00:00"), "without an offset: the shop's time")
		require.Equal(t, []string{early, nine}, window("", "2026-11-27T09:00:00-06:00"), "no start: open")
		require.Len(t, window("2026-11-27", ""), 4, "a date is its midnight in the shop")
		require.Empty(t, window("2026-11-28", "2026-11-29"))
	})
	faketest.Run(t, "APlantedMalformedTimeIsListed", func(t *testing.T) {
		b := setupTekmetric(t)
		id, err := b.fake.AddRaw(b.shop, faketekmetric.Appointments, json.RawMessage(`{"id": 777, "shopId": 3, "startTime": "soon"}`))
		require.NoError(t, err)
		got := b.list(t, "/api/v1/appointments", url.Values{"start": {"2026-11-27"}, "end": {"2026-11-28"}}).ids(t)
		require.Equal(t, []string{strconv.FormatInt(id, 10)}, got, "it is there for the adapter to refuse")
	})
	faketest.Run(t, "Paged", func(t *testing.T) {
		b := setupTekmetric(t)
		var want []string
		for i := range 5 {
			want = append(want, b.staff(t, "08:0"+strconv.Itoa(i), "09:00"))
		}
		b.staff(t, "11:00", "12:00")
		q := url.Values{"start": {"2026-11-27T08:00:00"}, "end": {"2026-11-27T10:00:00"}, "size": {"2"}}
		var got []string
		for page := range 3 {
			q.Set("page", strconv.Itoa(page))
			a := b.list(t, "/api/v1/appointments", q)
			require.Equal(t, 5.0, a.body["totalElements"])
			require.Equal(t, 3.0, a.body["totalPages"])
			require.Equal(t, page == 2, a.body["last"])
			got = append(got, a.ids(t)...)
		}
		require.Equal(t, want, got)
	})
	faketest.Run(t, "OnlyTheShop", func(t *testing.T) {
		b := setupTekmetric(t)
		require.NoError(t, b.fake.AddShop(4, "UTC", tmClient, tmSecret))
		_, err := b.fake.AddAppointment(4, b.base, b.base.Add(time.Hour))
		require.NoError(t, err)
		mine := b.staff(t, "09:00", "10:00")
		require.Equal(t, []string{mine}, b.list(t, "/api/v1/appointments", url.Values{"start": {"2026-11-20"}}).ids(t))
	})
	faketest.Run(t, "BadDates", func(t *testing.T) {
		b := setupTekmetric(t)
		for _, name := range []string{"start", "end"} {
			a := b.get(t, "/api/v1/appointments", url.Values{"shop": {"3"}, name: {"soon"}})
			require.Equal(t, http.StatusBadRequest, a.status)
			require.Equal(t, "ERROR", a.body["type"])
			require.Contains(t, a.body["message"], name+`: cannot read "soon" as a date`)
		}
	})
	faketest.Run(t, "StaffBookingIsNotALead", func(t *testing.T) {
		b := setupTekmetric(t)
		id := b.staff(t, "09:00", "10:00")
		got := b.appointment(t, id)
		require.Nil(t, got["customerId"])
		require.Nil(t, got["leadSource"])
		require.Equal(t, "2026-11-27T09:00:00", got["startTime"], "the shop's wall-clock time")
		require.Equal(t, "2026-11-27T10:00:00", got["endTime"])
		require.Empty(t, b.fake.Leads(b.shop))
		_, err := b.fake.AddAppointment(b.shop, b.base, b.base)
		require.ErrorContains(t, err, "must be after start")
		_, err = b.fake.AddAppointment(99, b.base, b.base.Add(time.Hour))
		require.ErrorContains(t, err, "no shop 99")
	})
}

func TestTekmetricCalendarEdit(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "Patch", func(t *testing.T) {
		b := setupTekmetric(t)
		// A clock that stands still: each edit must still be later.
		b.fake.SetClock(func() time.Time { return b.base.Add(123456 * time.Microsecond) })
		id := b.staff(t, "09:00", "10:00")
		before := b.appointment(t, id)["updatedDate"].(string)
		a := b.do(t, http.MethodPatch, b.token, "/api/v1/appointments/"+id, nil, `{"startTime":"2026-11-27T17:00:00Z","endTime":"2026-11-27T18:30:00Z"}`)
		require.Equal(t, http.StatusOK, a.status, "body: %v", a.body)
		require.Equal(t, "SUCCESS", a.body["type"])
		data, ok := a.body["data"].(map[string]any)
		require.True(t, ok, "an update answers with the appointment: %v", a.body)
		require.Equal(t, "2026-11-27T11:00:00", data["startTime"])

		got := b.appointment(t, id)
		require.Equal(t, "2026-11-27T11:00:00", got["startTime"], "stored in the shop's wall-clock time")
		require.Equal(t, "2026-11-27T12:30:00", got["endTime"])
		require.Equal(t, "Staff booking", got["title"], "what the body leaves out is kept")
		require.Greater(t, got["updatedDate"].(string), before, "touched")

		a = b.do(t, http.MethodPatch, b.token, "/api/v1/appointments/"+id, nil, `{"endTime":"2026-11-27T13:00:00","description":"moved"}`)
		require.Equal(t, http.StatusOK, a.status, "body: %v", a.body)
		got = b.appointment(t, id)
		require.Equal(t, "2026-11-27T11:00:00", got["startTime"], "one time alone is checked against the other kept")
		require.Equal(t, "2026-11-27T13:00:00", got["endTime"])
		require.Equal(t, "moved", got["description"])
		require.Equal(t, "2026-11-25T09:30:00.125", got["updatedDate"], "a millisecond later each time, in Chicago")
	})
	for name, body := range map[string]string{
		"EndBeforeStart": `{"startTime":"2026-11-27T17:00:00Z","endTime":"2026-11-27T16:00:00Z"}`,
		"EndBeforeKept":  `{"endTime":"2026-11-27T08:00:00"}`,
		"NotATime":       `{"startTime":"later"}`,
		"EmptyTitle":     `{"title":" "}`,
		"NotAnObject":    `[1]`,
	} {
		faketest.Run(t, "Refused"+name, func(t *testing.T) {
			b := setupTekmetric(t)
			id := b.staff(t, "09:00", "10:00")
			was := b.appointment(t, id)
			a := b.do(t, http.MethodPatch, b.token, "/api/v1/appointments/"+id, nil, body)
			require.Equal(t, http.StatusBadRequest, a.status, "body: %v", a.body)
			require.Equal(t, "ERROR", a.body["type"])
			require.Equal(t, was, b.appointment(t, id), "unchanged")
		})
	}
	faketest.Run(t, "Delete", func(t *testing.T) {
		b := setupTekmetric(t)
		id := b.staff(t, "09:00", "10:00")
		other := b.staff(t, "10:00", "11:00")
		a := b.do(t, http.MethodDelete, b.token, "/api/v1/appointments/"+id, nil, "")
		require.Equal(t, http.StatusOK, a.status, "body: %v", a.body)
		require.Equal(t, "SUCCESS", a.body["type"])
		require.NotEmpty(t, b.appointment(t, id)["deletedDate"], "kept, with a deletedDate")

		q := url.Values{"start": {"2026-11-27"}}
		require.Equal(t, []string{id, other}, b.list(t, "/api/v1/appointments", q).ids(t), "listed by default")
		q.Set("includeDeleted", "false")
		require.Equal(t, []string{other}, b.list(t, "/api/v1/appointments", q).ids(t))

		for _, method := range []string{http.MethodDelete, http.MethodPatch} {
			a = b.do(t, method, b.token, "/api/v1/appointments/"+id, nil, `{"title":"x"}`)
			require.Equal(t, http.StatusNotFound, a.status, "%s of a deleted appointment", method)
			require.Equal(t, map[string]any{"type": "ERROR", "message": "Appointment not found", "data": nil, "details": map[string]any{}}, a.body)
		}
	})
	faketest.Run(t, "UnknownOrForeign", func(t *testing.T) {
		b := setupTekmetric(t)
		require.NoError(t, b.fake.AddShop(4, "UTC", "app-b", "secret-b"))
		theirs, err := b.fake.AddAppointment(4, b.base, b.base.Add(time.Hour))
		require.NoError(t, err)
		for _, method := range []string{http.MethodDelete, http.MethodPatch} {
			a := b.do(t, method, b.token, "/api/v1/appointments/999999", nil, `{}`)
			require.Equal(t, http.StatusNotFound, a.status)
			require.Equal(t, "Appointment not found", a.body["message"])

			a = b.do(t, method, b.token, "/api/v1/appointments/"+theirs, nil, `{}`)
			require.Equal(t, http.StatusForbidden, a.status)
			require.Equal(t, "insufficient_scope", a.body["error"])

			a = b.do(t, method, b.token, "/api/v1/appointments/abc", nil, `{}`)
			require.Equal(t, http.StatusBadRequest, a.status)

			requireEmpty401(t, b.do(t, method, "wrong-token", "/api/v1/appointments/"+theirs, nil, `{}`))
		}
		raw, ok := b.fake.Record(4, faketekmetric.Appointments, mustID(t, theirs))
		require.True(t, ok)
		require.Contains(t, string(raw), `"deletedDate":null`, "untouched")
	})
	faketest.Run(t, "Helpers", func(t *testing.T) {
		b := setupTekmetric(t)
		id := b.staff(t, "09:00", "10:00")
		require.NoError(t, b.fake.DeleteAppointment(b.shop, id))
		require.NotEmpty(t, b.appointment(t, id)["deletedDate"])
		require.ErrorContains(t, b.fake.DeleteAppointment(b.shop, "999999"), "is not in shop 3")
		require.ErrorContains(t, b.fake.DeleteAppointment(4, id), "is not in shop 4")
		require.ErrorContains(t, b.fake.DeleteAppointment(b.shop, "x"), "not an integer")
	})
}

// TestTekmetricAppointmentsCreated: creates through the API are counted
// per customer and start, whatever the client saw; staff appointments and
// refused creates are not.
func TestTekmetricAppointmentsCreated(t *testing.T) {
	t.Parallel()
	b := setupTekmetric(t)
	ref := b.addLead(t, faketekmetric.LeadSpec{})
	start := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	require.Zero(t, b.fake.AppointmentsCreated(ref.CustomerID, start))
	require.Equal(t, http.StatusOK, b.book(t, ref, nil).status)
	require.Equal(t, http.StatusOK, b.book(t, ref, map[string]any{"startTime": "2026-11-27T08:00:00"}).status, "the same instant in Chicago")
	require.Equal(t, http.StatusBadRequest, b.book(t, ref, map[string]any{"title": nil}).status)
	_, err := b.fake.AddAppointment(b.shop, start, start.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.AppointmentsCreated(ref.CustomerID, start.In(b.chicago)))
	require.Zero(t, b.fake.AppointmentsCreated(ref.CustomerID, start.Add(time.Hour)))
	require.Zero(t, b.fake.AppointmentsCreated("424242", start))
	require.Zero(t, b.fake.AppointmentsCreated("not-a-number", start))
}

func mustID(t *testing.T, id string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	return n
}
