package lead_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests name, whatever the machine has

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// instant parses an RFC 3339 time with its offset, so that every test case
// names one unambiguous instant (01:30-04:00 and 01:30-05:00 on the
// fall-back night are an hour apart).
func instant(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return at
}

func location(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func hours(t *testing.T, start, end string) lead.QuietHours {
	t.Helper()
	s, err := lead.ParseTimeOfDay(start)
	require.NoError(t, err)
	e, err := lead.ParseTimeOfDay(end)
	require.NoError(t, err)
	return lead.QuietHours{Start: s, End: e}
}

func TestQuietRule(t *testing.T) {
	t.Parallel()

	tests := []struct {
		rule    lead.QuietRule
		day     time.Weekday
		want    string
		wantErr bool
	}{
		{"", time.Sunday, "08:00-21:00", false},
		{"", time.Wednesday, "08:00-21:00", false},
		{lead.QuietRuleFederal, time.Saturday, "08:00-21:00", false},
		{lead.QuietRuleFlorida, time.Monday, "08:00-20:00", false},
		{lead.QuietRuleOklahoma, time.Sunday, "08:00-20:00", false},
		{lead.QuietRuleMaryland, time.Friday, "08:00-20:00", false},
		{lead.QuietRuleConnecticut, time.Tuesday, "09:00-20:00", false},
		// 9 a.m., not the federal 8 (it read 08:00 before).
		{lead.QuietRuleTexas, time.Saturday, "09:00-21:00", false},
		{lead.QuietRuleTexas, time.Sunday, "12:00-21:00", false},
		{lead.QuietRuleTexas, time.Monday, "09:00-21:00", false},
		{"TEXAS", time.Monday, "", true},
		{"fl", time.Monday, "", true},
		{lead.QuietRuleNone, time.Sunday, "00:00-24:00", false},
		{"NONE", time.Monday, "", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule)+"/"+tt.day.String(), func(t *testing.T) {
			t.Parallel()

			got, ok := tt.rule.HoursOn(tt.day)
			err := tt.rule.Validate()
			if tt.wantErr {
				require.False(t, ok)
				require.ErrorContains(t, err, `quiet rule "`+string(tt.rule)+`" is not known`)
				require.ErrorContains(t, err, "federal, FL, OK, MD, CT, TX, none")
				return
			}
			require.True(t, ok)
			require.NoError(t, err)
			require.Equal(t, tt.want, got.String())
		})
	}
}

func TestSendWindowValidate(t *testing.T) {
	t.Parallel()

	ny := location(t, "America/New_York")
	tests := []struct {
		name   string
		window lead.SendWindow
		// fields are the fields the problems name, in order; none means
		// the window is valid.
		fields []string
		// reason is part of the first problem's text.
		reason string
	}{
		{"DefaultHoursFederal", lead.SendWindow{Location: ny}, nil, ""},
		{"OwnHoursEveryRule", lead.SendWindow{Hours: hours(t, "09:00", "20:00"), Rule: lead.QuietRuleConnecticut, Location: ny}, nil, ""},
		{"AllDayHours", lead.SendWindow{Hours: hours(t, "00:00", "24:00"), Rule: lead.QuietRuleTexas, Location: ny}, nil, ""},
		{"EmptyOnSundaysOnly", lead.SendWindow{Hours: hours(t, "08:00", "11:00"), Rule: lead.QuietRuleTexas, Location: ny}, nil, ""},
		{"NoLocation", lead.SendWindow{}, []string{"time_zone"}, "is required"},
		{"HoursBackwards", lead.SendWindow{Hours: hours(t, "21:00", "08:00"), Location: ny}, []string{"quiet_hours"}, "must start before it ends"},
		{"UnknownRule", lead.SendWindow{Rule: "TEXAS", Location: ny}, []string{"quiet_rule"}, `"TEXAS" is not known`},
		{"NeverOverlapsFederal", lead.SendWindow{Hours: hours(t, "07:00", "08:00"), Location: ny}, []string{"quiet_hours"},
			"07:00-08:00 never overlaps the federal rule (08:00-21:00 every day)"},
		{"NeverOverlapsConnecticut", lead.SendWindow{Hours: hours(t, "20:00", "21:00"), Rule: lead.QuietRuleConnecticut, Location: ny}, []string{"quiet_hours"},
			"never overlaps the CT rule (09:00-20:00 every day)"},
		{"NeverOverlapsFlorida", lead.SendWindow{Hours: hours(t, "21:00", "24:00"), Rule: lead.QuietRuleFlorida, Location: ny}, []string{"quiet_hours"},
			"texts could never go out"},
		{"NeverOverlapsTexas", lead.SendWindow{Hours: hours(t, "06:00", "07:30"), Rule: lead.QuietRuleTexas, Location: ny}, []string{"quiet_hours"},
			"(09:00-21:00, Sunday 12:00-21:00)"},
		{"EverythingAtOnce", lead.SendWindow{Hours: hours(t, "10:00", "09:00"), Rule: "XX"}, []string{"time_zone", "quiet_hours", "quiet_rule"}, "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := tt.window.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var fields []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var vErr *lead.ValidationError
				require.True(t, errors.As(e, &vErr), "every problem is a *lead.ValidationError, got %T", e)
				fields = append(fields, vErr.Field)
			}
			require.Equal(t, tt.fields, fields)
			require.ErrorContains(t, err, tt.reason)

			// An invalid window allows nothing and never loops looking for
			// an opening.
			at := instant(t, "2026-03-10T12:00:00-04:00")
			require.False(t, tt.window.Allows(at))
			next, err := tt.window.NextOpening(at)
			require.Error(t, err)
			require.True(t, next.IsZero())
		})
	}
}

func TestNewSendWindow(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		hours    lead.QuietHours
		rule     lead.QuietRule
		timeZone string
		field    string
	}{
		{"Valid", lead.QuietHours{}, lead.QuietRuleTexas, "America/Chicago", ""},
		{"UnknownZone", lead.QuietHours{}, "", "Mars/Olympus", "time_zone"},
		{"LocalZone", lead.QuietHours{}, "", "Local", "time_zone"},
		{"NoZone", lead.QuietHours{}, "", "", "time_zone"},
		{"UnknownRule", lead.QuietHours{}, "NY", "America/New_York", "quiet_rule"},
		{"NeverOpens", lead.QuietHours{Start: 21 * 60, End: 22 * 60}, "", "America/New_York", "quiet_hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			w, err := lead.NewSendWindow(tt.hours, tt.rule, tt.timeZone)
			if tt.field == "" {
				require.NoError(t, err)
				require.Equal(t, tt.timeZone, w.Location.String())
				require.Equal(t, "08:00-21:00 (TX rule) in America/Chicago", w.String())
				return
			}
			var vErr *lead.ValidationError
			require.True(t, errors.As(err, &vErr), "%v", err)
			require.Equal(t, tt.field, vErr.Field)
		})
	}
}

func TestSendWindowNextOpening(t *testing.T) {
	t.Parallel()

	ny := location(t, "America/New_York")
	federal := lead.SendWindow{Location: ny}
	texas := lead.SendWindow{Rule: lead.QuietRuleTexas, Location: ny}

	// 2026-03-08 and 2026-11-01 are Sundays: the clocks in New York spring
	// from 02:00 to 03:00 on the first and fall back from 02:00 to 01:00 on
	// the second.
	tests := []struct {
		name   string
		window lead.SendWindow
		at     string
		// want is the next opening; it equals at when at is allowed.
		want string
	}{
		// An ordinary Tuesday under the default window.
		{"Midday", federal, "2026-03-10T12:00:00-04:00", "2026-03-10T12:00:00-04:00"},
		{"AtOpening", federal, "2026-03-10T08:00:00-04:00", "2026-03-10T08:00:00-04:00"},
		{"JustBeforeOpening", federal, "2026-03-10T07:59:59.999999999-04:00", "2026-03-10T08:00:00-04:00"},
		{"JustBeforeClosing", federal, "2026-03-10T20:59:59.999999999-04:00", "2026-03-10T20:59:59.999999999-04:00"},
		{"AtClosing", federal, "2026-03-10T21:00:00-04:00", "2026-03-11T08:00:00-04:00"},
		{"JustAfterMidnight", federal, "2026-03-10T00:00:01-04:00", "2026-03-10T08:00:00-04:00"},
		{"AtMidnight", federal, "2026-03-11T00:00:00-04:00", "2026-03-11T08:00:00-04:00"},
		{"LateEvening", federal, "2026-03-10T23:59:00-04:00", "2026-03-11T08:00:00-04:00"},
		{"AcrossMonthEnd", federal, "2026-03-31T22:00:00-04:00", "2026-04-01T08:00:00-04:00"},
		{"AcrossYearEnd", federal, "2026-12-31T21:30:00-05:00", "2027-01-01T08:00:00-05:00"},
		{"InstantGivenInUTC", federal, "2026-03-10T11:59:00Z", "2026-03-10T12:00:00Z"},

		// Spring forward: the night before is an hour shorter.
		{"SpringEve", federal, "2026-03-07T21:30:00-05:00", "2026-03-08T08:00:00-04:00"},
		{"SpringBeforeGap", federal, "2026-03-08T01:59:00-05:00", "2026-03-08T08:00:00-04:00"},
		{"SpringAfterGap", federal, "2026-03-08T03:00:00-04:00", "2026-03-08T08:00:00-04:00"},
		{"SpringDayOpen", federal, "2026-03-08T08:00:00-04:00", "2026-03-08T08:00:00-04:00"},
		{"SpringDayClosed", federal, "2026-03-08T21:00:00-04:00", "2026-03-09T08:00:00-04:00"},

		// Fall back: the night is an hour longer and 01:00-02:00 happens
		// twice.
		{"FallEve", federal, "2026-10-31T22:00:00-04:00", "2026-11-01T08:00:00-05:00"},
		{"FallFirstOneThirty", federal, "2026-11-01T01:30:00-04:00", "2026-11-01T08:00:00-05:00"},
		{"FallSecondOneThirty", federal, "2026-11-01T01:30:00-05:00", "2026-11-01T08:00:00-05:00"},
		{"FallDayOpen", federal, "2026-11-01T08:00:00-05:00", "2026-11-01T08:00:00-05:00"},
		{"FallDayLastMinute", federal, "2026-11-01T20:59:00-05:00", "2026-11-01T20:59:00-05:00"},
		{"FallDayClosed", federal, "2026-11-01T21:00:00-05:00", "2026-11-02T08:00:00-05:00"},

		// Texas: Sunday from noon, on ordinary and DST Sundays.
		{"TexasSaturdayNight", texas, "2026-04-11T21:30:00-04:00", "2026-04-12T12:00:00-04:00"},
		{"TexasSundayMorning", texas, "2026-04-12T09:00:00-04:00", "2026-04-12T12:00:00-04:00"},
		{"TexasSundayJustBeforeNoon", texas, "2026-04-12T11:59:59-04:00", "2026-04-12T12:00:00-04:00"},
		{"TexasSundayNoon", texas, "2026-04-12T12:00:00-04:00", "2026-04-12T12:00:00-04:00"},
		{"TexasSundayNight", texas, "2026-04-12T21:00:00-04:00", "2026-04-13T09:00:00-04:00"},
		{"TexasSaturdayMorning", texas, "2026-04-11T08:00:00-04:00", "2026-04-11T09:00:00-04:00"}, // 9 a.m. in Texas, not 8
		{"TexasSpringSunday", texas, "2026-03-07T22:00:00-05:00", "2026-03-08T12:00:00-04:00"},
		{"TexasSpringSundayMorning", texas, "2026-03-08T08:00:00-04:00", "2026-03-08T12:00:00-04:00"},
		{"TexasFallSunday", texas, "2026-11-01T01:30:00-05:00", "2026-11-01T12:00:00-05:00"},

		// Stricter states.
		{"ConnecticutEarly", lead.SendWindow{Rule: lead.QuietRuleConnecticut, Location: ny}, "2026-03-10T08:30:00-04:00", "2026-03-10T09:00:00-04:00"},
		{"ConnecticutEvening", lead.SendWindow{Rule: lead.QuietRuleConnecticut, Location: ny}, "2026-03-10T20:00:00-04:00", "2026-03-11T09:00:00-04:00"},
		{"FloridaEvening", lead.SendWindow{Rule: lead.QuietRuleFlorida, Location: ny}, "2026-03-10T20:00:00-04:00", "2026-03-11T08:00:00-04:00"},
		{"MarylandLastMinute", lead.SendWindow{Rule: lead.QuietRuleMaryland, Location: ny}, "2026-03-10T19:59:00-04:00", "2026-03-10T19:59:00-04:00"},
		{"OklahomaEvening", lead.SendWindow{Rule: lead.QuietRuleOklahoma, Location: ny}, "2026-03-10T20:30:00-04:00", "2026-03-11T08:00:00-04:00"},

		// The shop's hours intersected with the rule's.
		{"NarrowHoursEarly", lead.SendWindow{Hours: hours(t, "10:00", "18:00"), Location: ny}, "2026-03-10T09:00:00-04:00", "2026-03-10T10:00:00-04:00"},
		{"NarrowHoursClosed", lead.SendWindow{Hours: hours(t, "10:00", "18:00"), Location: ny}, "2026-03-10T18:00:00-04:00", "2026-03-11T10:00:00-04:00"},
		{"WideHoursClippedMorning", lead.SendWindow{Hours: hours(t, "07:00", "22:00"), Location: ny}, "2026-03-10T07:30:00-04:00", "2026-03-10T08:00:00-04:00"},
		{"WideHoursClippedEvening", lead.SendWindow{Hours: hours(t, "07:00", "22:00"), Location: ny}, "2026-03-10T21:30:00-04:00", "2026-03-11T08:00:00-04:00"},
		{"AllDayHoursAreFederal", lead.SendWindow{Hours: hours(t, "00:00", "24:00"), Location: ny}, "2026-03-10T06:00:00-04:00", "2026-03-10T08:00:00-04:00"},
		{"HalfHours", lead.SendWindow{Hours: hours(t, "09:30", "17:45"), Location: ny}, "2026-03-10T17:45:00-04:00", "2026-03-11T09:30:00-04:00"},
		{"NoSundayUnderTexas", lead.SendWindow{Hours: hours(t, "08:00", "11:00"), Rule: lead.QuietRuleTexas, Location: ny}, "2026-04-11T11:00:00-04:00", "2026-04-13T09:00:00-04:00"},
		{"NoSundayUnderTexasOnFallBack", lead.SendWindow{Hours: hours(t, "08:00", "11:00"), Rule: lead.QuietRuleTexas, Location: ny}, "2026-10-31T12:00:00-04:00", "2026-11-02T09:00:00-05:00"},

		// Other zones: one without DST, UTC, a fixed offset, another DST
		// zone on another date.
		{"Kolkata", lead.SendWindow{Location: location(t, "Asia/Kolkata")}, "2026-03-10T22:00:00+05:30", "2026-03-11T08:00:00+05:30"},
		{"UTC", lead.SendWindow{Location: time.UTC}, "2026-03-10T21:00:00Z", "2026-03-11T08:00:00Z"},
		{"FixedZone", lead.SendWindow{Location: time.FixedZone("UTC-7", -7*3600)}, "2026-03-10T05:00:00-07:00", "2026-03-10T08:00:00-07:00"},
		{"LosAngelesSpring", lead.SendWindow{Location: location(t, "America/Los_Angeles")}, "2026-03-07T23:00:00-08:00", "2026-03-08T08:00:00-07:00"},
		{"LondonSpring", lead.SendWindow{Location: location(t, "Europe/London")}, "2026-03-28T22:00:00Z", "2026-03-29T08:00:00+01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			at, want := instant(t, tt.at), instant(t, tt.want)
			got, err := tt.window.NextOpening(at)
			require.NoError(t, err)
			require.True(t, want.Equal(got), "want %s, got %s", want, got)
			require.Equal(t, at.Equal(want), tt.window.Allows(at), "Allows(at) is whether at is its own opening")
			require.True(t, tt.window.Allows(got), "the opening is allowed")
			if !at.Equal(want) {
				require.False(t, tt.window.Allows(got.Add(-time.Nanosecond)), "the opening is the first allowed instant")
			}
		})
	}
}

// TestSendWindowAllowsEveryMinute walks two DST weeks minute by minute and
// checks Allows against the wall clock the zone database reports, and
// NextOpening against the walk itself: the opening from any closed minute
// is the next allowed minute.
func TestSendWindowAllowsEveryMinute(t *testing.T) {
	t.Parallel()

	ny := location(t, "America/New_York")
	for _, tt := range []struct {
		name  string
		start string
	}{
		{"SpringForwardWeek", "2026-03-05T00:00:00-05:00"},
		{"FallBackWeek", "2026-10-29T00:00:00-04:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			w := lead.SendWindow{Rule: lead.QuietRuleTexas, Location: ny}
			start := instant(t, tt.start)
			end := start.Add(7 * 24 * time.Hour)
			var pending []time.Time // closed minutes waiting for the next opening
			for at := start; at.Before(end); at = at.Add(time.Minute) {
				local := at.In(ny)
				minute := local.Hour()*60 + local.Minute()
				open := 9 * 60
				if local.Weekday() == time.Sunday {
					open = 12 * 60
				}
				want := minute >= open && minute < 21*60
				require.Equal(t, want, w.Allows(at), "%s", local)
				if !want {
					pending = append(pending, at)
					continue
				}
				for _, p := range pending {
					got, err := w.NextOpening(p)
					require.NoError(t, err)
					require.True(t, at.Equal(got), "from %s want %s got %s", p.In(ny), local, got)
				}
				pending = pending[:0]
			}
		})
	}
}

func TestSendWindowHoursOn(t *testing.T) {
	t.Parallel()

	ny := location(t, "America/New_York")
	tests := []struct {
		window lead.SendWindow
		day    time.Weekday
		want   string // "" means closed that day
	}{
		{lead.SendWindow{Location: ny}, time.Monday, "08:00-21:00"},
		{lead.SendWindow{Hours: hours(t, "07:00", "19:00"), Rule: lead.QuietRuleConnecticut, Location: ny}, time.Monday, "09:00-19:00"},
		{lead.SendWindow{Hours: hours(t, "07:00", "19:00"), Rule: lead.QuietRuleTexas, Location: ny}, time.Sunday, "12:00-19:00"},
		{lead.SendWindow{Hours: hours(t, "08:00", "11:00"), Rule: lead.QuietRuleTexas, Location: ny}, time.Sunday, ""},
		{lead.SendWindow{Hours: hours(t, "08:00", "11:00"), Rule: lead.QuietRuleTexas, Location: ny}, time.Saturday, "09:00-11:00"},
		{lead.SendWindow{Hours: hours(t, "08:00", "12:00"), Rule: lead.QuietRuleTexas, Location: ny}, time.Sunday, ""},
		{lead.SendWindow{Rule: "XX", Location: ny}, time.Monday, ""},
		{lead.SendWindow{Hours: hours(t, "12:00", "08:00"), Location: ny}, time.Monday, ""},
	}
	for _, tt := range tests {
		t.Run(tt.window.String()+"/"+tt.day.String(), func(t *testing.T) {
			t.Parallel()

			got, ok := tt.window.HoursOn(tt.day)
			require.Equal(t, tt.want != "", ok)
			if ok {
				require.Equal(t, tt.want, got.String())
			}
		})
	}
}

func TestSendWindowErrorNamesTheWindow(t *testing.T) {
	t.Parallel()

	w := lead.SendWindow{Hours: hours(t, "06:00", "07:00"), Rule: lead.QuietRuleFlorida, Location: location(t, "America/New_York")}
	_, err := w.NextOpening(instant(t, "2026-03-10T12:00:00-04:00"))
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "send window 06:00-07:00 (FL rule) in America/New_York: "), err.Error())
}
