package lead_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// bookingProblems are the fields and reasons of Validate's joined error,
// in order.
func bookingProblems(t *testing.T, err error) (fields, reasons []string) {
	t.Helper()
	require.Error(t, err)
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "Validate joins its problems, got %T", err)
	for _, e := range joined.Unwrap() {
		var vErr *lead.ValidationError
		require.True(t, errors.As(e, &vErr), "every problem is a *lead.ValidationError, got %T", e)
		require.NotEmpty(t, vErr.Reason, vErr.Field)
		fields = append(fields, vErr.Field)
		reasons = append(reasons, vErr.Reason)
	}
	return fields, reasons
}

func TestBookingSettingsWithDefaults(t *testing.T) {
	t.Parallel()
	t.Run("ZeroIsEveryDefault", func(t *testing.T) {
		t.Parallel()
		d := lead.BookingSettings{}.WithDefaults()
		require.Equal(t, lead.BookingSettings{
			Hours:           lead.DefaultBookingHours,
			SlotMinutes:     lead.DefaultSlotMinutes,
			Capacity:        lead.DefaultBookingCapacity,
			LeadTimeMinutes: lead.DefaultLeadTimeMinutes,
			DaysAhead:       lead.DefaultDaysAhead,
			LinkTTLHours:    lead.DefaultLinkTTLHours,
		}, d)
		require.Equal(t, 120*time.Minute, lead.BookingSettings{}.LeadTime())
		require.Equal(t, 168*time.Hour, lead.BookingSettings{}.LinkTTL())
		require.NoError(t, lead.BookingSettings{}.Validate(), "the zero value (off) is valid")
		require.NoError(t, d.Validate(), "so are the defaults")
	})
	t.Run("SetFieldsAreKept", func(t *testing.T) {
		t.Parallel()
		b := lead.BookingSettings{
			Enabled: true, Hours: map[string]string{"sat": "09:00-12:00"}, SlotMinutes: 30, Capacity: 3,
			LeadTimeMinutes: 45, DaysAhead: 7, Holidays: []string{"2026-12-25"}, LinkTTLHours: 48,
		}
		require.Equal(t, b, b.WithDefaults())
		require.Equal(t, 45*time.Minute, b.LeadTime())
		require.Equal(t, 48*time.Hour, b.LinkTTL())
	})
	t.Run("HoursAreACopy", func(t *testing.T) {
		t.Parallel()
		d := lead.BookingSettings{}.WithDefaults()
		d.Hours["sat"] = "09:00-12:00"
		require.NotContains(t, lead.DefaultBookingHours, "sat", "the defaults are not changed through a copy")

		own := map[string]string{"mon": "08:00-12:00"}
		d = lead.BookingSettings{Hours: own}.WithDefaults()
		d.Hours["mon"] = "10:00-11:00"
		require.Equal(t, "08:00-12:00", own["mon"], "nor the settings' own hours")
	})
	t.Run("JSONOfTheZeroValueIsOff", func(t *testing.T) {
		t.Parallel()
		raw, err := json.Marshal(lead.BookingSettings{})
		require.NoError(t, err)
		require.JSONEq(t, `{"enabled":false}`, string(raw))
		var b lead.BookingSettings
		require.NoError(t, json.Unmarshal([]byte(`{"enabled":true,"hours":{"mon":"08:00-12:00"},"slot_minutes":30,"capacity":2,"lead_time_minutes":1,"days_ahead":3,"holidays":["2026-12-25"],"link_ttl_hours":24}`), &b))
		require.Equal(t, lead.BookingSettings{Enabled: true, Hours: map[string]string{"mon": "08:00-12:00"}, SlotMinutes: 30, Capacity: 2,
			LeadTimeMinutes: 1, DaysAhead: 3, Holidays: []string{"2026-12-25"}, LinkTTLHours: 24}, b)
	})
}

// TestBookingLeadTime: 0 is the default (a zero field is an unset one), so
// the shortest lead time is 1 minute, which is taken as it is; Validate
// says so, not "between 0 and".
func TestBookingLeadTime(t *testing.T) {
	t.Parallel()
	loc := time.UTC
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, loc) // a Monday
	hours := map[string]string{"mon": "08:00-12:00"}

	unset := lead.BookingSettings{Hours: hours, SlotMinutes: 30}
	require.Equal(t, time.Date(2026, 12, 7, 10, 0, 0, 0, loc), unset.OpenSlots(loc, now, nil)[0].Start, "0 is the default 120 minutes")

	none := lead.BookingSettings{Hours: hours, SlotMinutes: 30, LeadTimeMinutes: lead.MinLeadTimeMinutes}
	require.NoError(t, none.Validate())
	require.Equal(t, time.Minute, none.LeadTime())
	require.Equal(t, time.Date(2026, 12, 7, 8, 30, 0, 0, loc), none.OpenSlots(loc, now, nil)[0].Start,
		"08:00 starts now, under a minute ahead; 08:30 is the first")
	require.Equal(t, time.Date(2026, 12, 7, 8, 0, 0, 0, loc), none.OpenSlots(loc, now.Add(-time.Minute), nil)[0].Start,
		"a minute before, 08:00 is open")

	fields, reasons := bookingProblems(t, lead.BookingSettings{LeadTimeMinutes: -1}.Validate())
	require.Equal(t, []string{"booking.lead_time_minutes"}, fields)
	require.Contains(t, reasons[0], "must be between 1 and 10080")
}

func TestBookingSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		settings lead.BookingSettings
		fields   []string
		reasons  []string
	}{
		{
			name: "EveryProblemAtOnce",
			settings: lead.BookingSettings{
				Hours:           map[string]string{"sun": "10:00-09:00", "mon": "8-17", "funday": "08:00-17:00", "wed": "08:00-08:30", "tue": "08:00-25:00"},
				SlotMinutes:     60,
				Capacity:        51,
				LeadTimeMinutes: 7*24*60 + 1,
				DaysAhead:       91,
				Holidays:        []string{"2026-12-25", "2026-12-26", "2026-13-01", "26-12-31", "2026-2-3"},
				LinkTTLHours:    -1,
			},
			fields: []string{
				"booking.hours.mon", "booking.hours.tue", "booking.hours.wed", "booking.hours.sun", "booking.hours.funday",
				"booking.capacity", "booking.lead_time_minutes", "booking.days_ahead",
				"booking.holidays[2]", "booking.holidays[3]", "booking.holidays[4]", "booking.link_ttl_hours",
			},
			reasons: []string{
				`"8-17" does not start at a time`, `"08:00-25:00" does not end at a time`, "shorter than one 60-minute slot",
				`"10:00-09:00" must end after it starts`, `"funday" is not a weekday (use mon, tue, wed, thu, fri, sat, sun)`,
				"is 51 appointments per slot, must be between 1 and 50", "is 10081 minutes, must be between 1 and 10080",
				"is 91 days, must be between 1 and 90",
				`"2026-13-01" is not a date in YYYY-MM-DD form`, `"26-12-31" is not a date`, `"2026-2-3" is not a date`,
				"is -1 hours, must be between 1 and 2160",
			},
		},
		{
			name:     "SlotTooShort",
			settings: lead.BookingSettings{SlotMinutes: 4},
			fields:   []string{"booking.slot_minutes"},
			reasons:  []string{"is 4 minutes, must be between 5 and 480"},
		},
		{
			// With no valid slot length the hours are not measured against
			// it: one problem, not one per day.
			name:     "SlotTooLongIsNotBlamedOnTheHours",
			settings: lead.BookingSettings{SlotMinutes: 481, Hours: map[string]string{"mon": "08:00-09:00", "tue": "nine-five"}},
			fields:   []string{"booking.slot_minutes", "booking.hours.tue"},
			reasons:  []string{"is 481 minutes, must be between 5 and 480", `"nine-five" does not start at a time: "nine" is not a time of day in HH:MM form`},
		},
		{
			name:     "NegativeNumbers",
			settings: lead.BookingSettings{SlotMinutes: -30, Capacity: -1, DaysAhead: -2},
			fields:   []string{"booking.slot_minutes", "booking.capacity", "booking.days_ahead"},
			reasons:  []string{"is -30 minutes", "is -1 appointments per slot", "is -2 days"},
		},
		{
			name:     "AWindowMustStayInOneDay",
			settings: lead.BookingSettings{Hours: map[string]string{"fri": "24:00-24:00", "sat": "22:00-02:00", "sun": "09:00"}},
			fields:   []string{"booking.hours.fri", "booking.hours.sat", "booking.hours.sun"},
			reasons:  []string{"must end after it starts, within one day", "must end after it starts, within one day", "is not a window"},
		},
		{
			name:     "SwitchedOffIsCheckedToo",
			settings: lead.BookingSettings{Enabled: false, Holidays: []string{"Christmas"}},
			fields:   []string{"booking.holidays[0]"},
			reasons:  []string{`"Christmas" is not a date in YYYY-MM-DD form, such as 2026-12-25`},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fields, reasons := bookingProblems(t, tt.settings.Validate())
			require.Equal(t, tt.fields, fields)
			require.Len(t, reasons, len(tt.reasons))
			for i, want := range tt.reasons {
				require.Contains(t, reasons[i], want, fields[i])
			}
		})
	}
	t.Run("Valid", func(t *testing.T) {
		t.Parallel()
		for _, b := range []lead.BookingSettings{
			{Hours: map[string]string{"mon": "00:00-24:00", "sun": " 07:30 - 12:00 "}, SlotMinutes: 5},
			{Hours: map[string]string{"sat": "08:00-16:00"}, SlotMinutes: 480, Capacity: 50, LeadTimeMinutes: 10080, DaysAhead: 90, LinkTTLHours: 2160},
			{Holidays: []string{"2026-12-25", "2027-01-01", "2028-02-29"}},
		} {
			require.NoError(t, b.Validate(), "%+v", b)
		}
	})
	t.Run("TheTenantChecksItsBooking", func(t *testing.T) {
		t.Parallel()
		var tenant lead.Tenant
		tenant.Booking = lead.BookingSettings{Holidays: []string{"2026-02-30"}}
		var vErr *lead.ValidationError
		errs := tenant.Validate(nil)
		require.Error(t, errs)
		found := false
		for _, e := range errs.(interface{ Unwrap() []error }).Unwrap() {
			if errors.As(e, &vErr) && vErr.Field == "booking.holidays[0]" {
				found = true
			}
		}
		require.True(t, found, "the tenant names its booking's field: %v", errs)
	})
}
