package fakeshopmonkey_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// appointment reads the stored appointment id of location loc-a.
func (b *shopMonkeyBundle) appointment(t *testing.T, id string) map[string]any {
	t.Helper()
	raw, ok := b.fake.Record(b.loc, fakeshopmonkey.Appointment, id)
	require.True(t, ok, "appointment %s is stored", id)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	return got
}

func TestShopMonkeyCalendar(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "StaffAppointment", func(t *testing.T) {
		b := setupShopMonkey(t)
		start := b.base.Add(48 * time.Hour)
		id, err := b.fake.AddAppointment(b.loc, start, start.Add(time.Hour))
		require.NoError(t, err)
		got := b.appointment(t, id)
		require.Equal(t, "Manual", got["attributionSource"], "staff-made: not a lead")
		require.Nil(t, got["customerId"])
		require.Equal(t, "2025-03-12T12:00:00.000Z", got["startDate"])
		require.Equal(t, "2025-03-12T13:00:00.000Z", got["endDate"])
		require.Empty(t, b.fake.Leads(b.loc))

		_, err = b.fake.AddAppointment(b.loc, start, start)
		require.ErrorContains(t, err, "must be after start")
	})
	faketest.Run(t, "ListedByStartAndEnd", func(t *testing.T) {
		b := setupShopMonkey(t)
		at := func(h int) time.Time { return b.base.Add(time.Duration(h) * time.Hour) }
		long, err := b.fake.AddAppointment(b.loc, at(0), at(5))
		require.NoError(t, err)
		over, err := b.fake.AddAppointment(b.loc, at(0), at(2))
		require.NoError(t, err)
		in, err := b.fake.AddAppointment(b.loc, at(3), at(4))
		require.NoError(t, err)
		where := func(w string) []string {
			a := b.get(t, "/v3/appointment", url.Values{"where": {w}, "orderBy": {"id"}})
			require.Equal(t, http.StatusOK, a.status, "body: %s", a.raw)
			return a.ids(t)
		}
		require.ElementsMatch(t, []string{long, in}, where(`{"endDate":{"gt":"2025-03-10T14:00:00Z"}}`), "still running at 14:00")
		require.ElementsMatch(t, []string{long, over}, where(`{"startDate":{"gte":"2025-03-10T12:00:00Z","lt":"2025-03-10T13:00:00Z"}}`))
		require.ElementsMatch(t, []string{long, over, in}, where(`{"endDate":{"$gt":"2025-03-10T14:00:00Z"}}`), "a Mongo-style operator is ignored")
	})
	faketest.Run(t, "Delete", func(t *testing.T) {
		b := setupShopMonkey(t)
		id, err := b.fake.AddAppointment(b.loc, b.base, b.base.Add(time.Hour))
		require.NoError(t, err)
		require.NoError(t, b.fake.DeleteAppointment(b.loc, id))
		got := b.appointment(t, id)
		require.Equal(t, true, got["deleted"], "kept, marked deleted")
		require.Equal(t, float64(2), got["meta"].(map[string]any)["version"])
		require.ErrorContains(t, b.fake.DeleteAppointment(b.loc, "nope"), "is not in location loc-a")
		require.ErrorContains(t, b.fake.DeleteAppointment("loc-b", id), "is not in location loc-b")
	})
	faketest.Run(t, "AppointmentsCreated", func(t *testing.T) {
		b := setupShopMonkey(t)
		ref, a := b.book(t, nil)
		require.Equal(t, http.StatusOK, a.status, "body: %s", a.raw)
		start := time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC)
		require.Equal(t, 1, b.fake.AppointmentsCreated(ref.CustomerID, start.In(time.FixedZone("EDT", -4*3600))))
		_, err := b.fake.AddAppointment(b.loc, start, start.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 1, b.fake.AppointmentsCreated(ref.CustomerID, start), "a staff appointment is not a create")
		require.Zero(t, b.fake.AppointmentsCreated(ref.CustomerID, start.Add(time.Minute)))
		require.Zero(t, b.fake.AppointmentsCreated("someone-else", start))
	})
	faketest.Run(t, "TouchIsLaterToTheMillisecond", func(t *testing.T) {
		// Regression: times are written to the millisecond, and a clock
		// between two milliseconds wrote the same updatedDate twice.
		b := setupShopMonkey(t)
		b.fake.SetClock(func() time.Time { return b.base.Add(123456 * time.Microsecond) })
		id, err := b.fake.AddAppointment(b.loc, b.base, b.base.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, "2025-03-10T12:00:00.123Z", b.appointment(t, id)["updatedDate"])
		require.NoError(t, b.fake.DeleteAppointment(b.loc, id))
		require.Equal(t, "2025-03-10T12:00:00.124Z", b.appointment(t, id)["updatedDate"])
	})
}
