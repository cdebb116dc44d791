package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// bookingJSON is a shop's online booking as an owner writes it.
const bookingJSON = `{
  "enabled": true,
  "hours": {"mon": "08:00-17:00", "tue": "08:00-17:00", "sat": "09:00-12:00"},
  "slot_minutes": 30,
  "capacity": 2,
  "holidays": ["2026-12-25"]
}`

// oneSpaced collapses runs of spaces, as show and update align columns.
func oneSpaced(s string) string { return regexp.MustCompile(` +`).ReplaceAllString(s, " ") }

func TestTenantBookingFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
	_, _, err := b.run(t, "tenant", "add", "--name", "Oak Garage", "--location-id", "loc-7",
		"--secret-env", "SHOP_KEY", "--time-zone", "America/Chicago", "--sms-from", "+13125550142")
	require.NoError(t, err)

	stdout, _, err := b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--booking-file", writeTestFile(t, bookingJSON))
	require.NoError(t, err)
	require.Contains(t, oneSpaced(stdout), "online booking: off -> on: mon 08:00-17:00, tue 08:00-17:00, sat 09:00-12:00 (America/Chicago)")
	tenant, err := b.store.FleetFindTenant(ctx, "Oak Garage")
	require.NoError(t, err)
	require.Equal(t, lead.BookingSettings{Enabled: true, Hours: map[string]string{"mon": "08:00-17:00", "tue": "08:00-17:00", "sat": "09:00-12:00"},
		SlotMinutes: 30, Capacity: 2, Holidays: []string{"2026-12-25"}}, tenant.Booking)

	stdout, _, err = b.run(t, "tenant", "show", "--tenant", "Oak Garage")
	require.NoError(t, err)
	require.Contains(t, stdout, "30-minute slots, 2 per slot, at least 120 minutes' notice, 14 days ahead; closed 2026-12-25; links work 168h after a message")

	// Every problem at once, each named; nothing saved.
	_, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--booking-file", writeTestFile(t,
		`{"enabled": true, "hours": {"mon": "17:00-08:00", "fri": "9-5", "xyz": "08:00-09:00"}, "capacity": 0, "slot_minutes": 3, "holidays": ["12/25/2026"]}`))
	require.ErrorContains(t, err, `--booking-file: booking.hours.mon: "17:00-08:00" must end after it starts`)
	require.ErrorContains(t, err, `--booking-file: booking.hours.fri: "9-5" does not start at a time`)
	require.ErrorContains(t, err, `--booking-file: booking.hours.xyz: "xyz" is not a weekday`)
	require.ErrorContains(t, err, `--booking-file: booking.slot_minutes: is 3 minutes, must be between 5 and 480`)
	require.ErrorContains(t, err, `--booking-file: booking.holidays[0]: "12/25/2026" is not a date in YYYY-MM-DD form`)
	_, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--booking-file", writeTestFile(t, `{"enabled": true, "capacty": 3}`))
	require.ErrorContains(t, err, `--booking-file: unknown field "capacty"`)
	_, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--booking-file", writeTestFile(t, `{"enabled": "yes"}`))
	require.ErrorContains(t, err, `--booking-file: booking.enabled: is a JSON string, must be a bool`)
	after, err := b.store.FleetFindTenant(ctx, "Oak Garage")
	require.NoError(t, err)
	require.Equal(t, tenant.Booking, after.Booking, "a refused file changes nothing")

	stdout, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--booking-file", "default")
	require.NoError(t, err)
	require.Regexp(t, `online booking: on: .* -> off\n`, oneSpaced(stdout))
}
