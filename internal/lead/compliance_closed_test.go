package lead_test

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests name, whatever the machine has

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// knownKinds are the CRM kinds closedTenant's Validate knows.
var knownKinds = []string{"shopmonkey"}

// closedTenant is a valid tenant, in Chicago, with no closed days.
func closedTenant() lead.Tenant {
	return lead.Tenant{
		Name: "Main Street Auto", CRMKind: "shopmonkey", CRMLocationID: "loc-1",
		CRMSecret: lead.SealedSecret{KeyID: "k1", Ciphertext: []byte("sealed")},
		TimeZone:  "America/Chicago", PollInterval: time.Minute, SMSFrom: "+13125550123",
	}
}

// closedShop is a valid tenant in zone whose calendar closes days.
func closedShop(t *testing.T, zone string, rule lead.QuietRule, hours lead.QuietHours, days ...string) lead.Tenant {
	t.Helper()
	tn := closedTenant()
	tn.TimeZone, tn.QuietRule, tn.QuietHours = zone, rule, hours
	tn.Compliance.ClosedDays = days
	require.NoError(t, tn.Validate(knownKinds))
	return tn
}

var (
	followUpText  = lead.Step{Name: "day2", Channel: lead.ChannelSMS}
	followUpEmail = lead.Step{Name: "day2", Channel: lead.ChannelEmail}
	initialText   = lead.Step{Name: lead.StepInitial, Channel: lead.ChannelSMS}
	initialEmail  = lead.Step{Name: lead.StepInitial, Channel: lead.ChannelEmail}
)

// TestClosedDaysValidate: each day a real YYYY-MM-DD date, each once, at
// most 366, each problem named by its index.
func TestClosedDaysValidate(t *testing.T) {
	t.Parallel()

	year := make([]string, 0, 367)
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); len(year) < 367; d = d.AddDate(0, 0, 1) {
		year = append(year, d.Format(lead.ClosedDayLayout))
	}
	tests := []struct {
		name string
		days []string
		// want maps each field refused to a part of its reason.
		want map[string]string
	}{
		{"None", nil, nil},
		{"HolidaysOverTheNewYear", []string{"2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"}, nil},
		{"LeapDay", []string{"2028-02-29"}, nil},
		{"AYearOfDays", year[:366], nil},
		{"TooMany", year, map[string]string{"compliance.closed_days": "has 367 days, at most 366"}},
		{"NotADay", []string{"2026-12-25", "2026-02-30"}, map[string]string{"compliance.closed_days[1]": `"2026-02-30" is not a date written YYYY-MM-DD`}},
		{"NotLeap", []string{"2027-02-29"}, map[string]string{"compliance.closed_days[0]": "is not a date"}},
		{"OneDigitMonth", []string{"2026-1-05"}, map[string]string{"compliance.closed_days[0]": "is not a date"}},
		{"Words", []string{"Dec 25"}, map[string]string{"compliance.closed_days[0]": "is not a date"}},
		{"WithTime", []string{"2026-12-25T00:00"}, map[string]string{"compliance.closed_days[0]": "is not a date"}},
		{"Spaces", []string{" 2026-12-25"}, map[string]string{"compliance.closed_days[0]": "is not a date"}},
		{"Empty", []string{""}, map[string]string{"compliance.closed_days[0]": `"" is not a date`}},
		{"Twice", []string{"2026-12-25", "2026-12-26", "2026-12-25"}, map[string]string{"compliance.closed_days[2]": "2026-12-25 is already closed_days[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tn := closedTenant()
			tn.Compliance.ClosedDays = tc.days
			err := tn.Validate(knownKinds)
			got := map[string]string{}
			for _, e := range flatten(err) {
				var vErr *lead.ValidationError
				require.True(t, errors.As(e, &vErr), "%v", e)
				got[vErr.Field] = vErr.Reason
			}
			require.Len(t, got, len(tc.want), "%v", err)
			for field, reason := range tc.want {
				require.Contains(t, got[field], reason, "field %s", field)
			}
		})
	}
}

// flatten splits an errors.Join.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TestClosedDaysHold: which steps wait out a closed day, by the shop's
// choice for the first answer.
func TestClosedDaysHold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		step          lead.Step
		held, ifAnswr bool
	}{
		{followUpText, true, true},
		{followUpEmail, true, true},
		{initialText, true, false},
		{initialEmail, true, false},
		{lead.Step{Name: lead.MissedCallStepPrefix + "1", Channel: lead.ChannelSMS}, true, false},
		{lead.Step{Name: lead.BookingTextStepPrefix + "booked", Channel: lead.ChannelSMS}, false, false},
		{lead.Step{Name: lead.ReservedStepPrefix + "help-1", Channel: lead.ChannelSMS}, false, false},
		{lead.Step{Name: lead.NoticeStepPrefix + "reply-1", Channel: lead.ChannelEmail}, false, false},
	} {
		require.Equal(t, tc.held, lead.Compliance{}.HoldsOnClosedDays(tc.step), "%s by default", tc.step.Name)
		require.Equal(t, tc.ifAnswr, lead.Compliance{AnswerOnClosedDays: true}.HoldsOnClosedDays(tc.step), "%s with answer_on_closed_days", tc.step.Name)
	}
}

// TestClosedDaysOverTheYearBoundary: Dec 31 and Jan 1 closed, a follow-up
// due Dec 31 at 10:00 goes on Jan 2 at the window's opening on the shop's
// clock, in a zone without DST, one with DST in winter (standard time
// then) and one in summer time over the new year; its email goes at Jan
// 2's first instant; the first answer goes at once only when the shop
// chose it.
func TestClosedDaysOverTheYearBoundary(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"America/Phoenix", "America/New_York", "Australia/Sydney"} {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(zone)
			require.NoError(t, err)
			shop := closedShop(t, zone, lead.QuietRuleFederal, lead.QuietHours{}, "2026-12-31", "2027-01-01")
			due := time.Date(2026, 12, 31, 10, 0, 0, 0, loc)

			next, err := shop.NextSendTime(followUpText, lead.Recipient{}, due)
			require.NoError(t, err)
			require.Equal(t, time.Date(2027, 1, 2, 8, 0, 0, 0, loc), next.In(loc))
			next, err = shop.NextSendTime(followUpEmail, lead.Recipient{}, due)
			require.NoError(t, err)
			require.Equal(t, time.Date(2027, 1, 2, 0, 0, 0, 0, loc), next.In(loc))
			// Late on Jan 2 the text goes at once; early, at 08:00.
			for at, want := range map[time.Time]time.Time{
				time.Date(2027, 1, 2, 20, 59, 0, 0, loc):  time.Date(2027, 1, 2, 20, 59, 0, 0, loc),
				time.Date(2027, 1, 2, 21, 0, 0, 0, loc):   time.Date(2027, 1, 3, 8, 0, 0, 0, loc),
				time.Date(2027, 1, 1, 23, 59, 0, 0, loc):  time.Date(2027, 1, 2, 8, 0, 0, 0, loc),
				time.Date(2026, 12, 30, 22, 0, 0, 0, loc): time.Date(2027, 1, 2, 8, 0, 0, 0, loc),
			} {
				next, err := shop.NextSendTime(followUpText, lead.Recipient{}, at)
				require.NoError(t, err)
				require.Equal(t, want, next.In(loc), "due %s", at)
			}

			// The first answer waits by default, like a follow-up ...
			next, err = shop.NextSendTime(initialText, lead.Recipient{}, due)
			require.NoError(t, err)
			require.Equal(t, time.Date(2027, 1, 2, 8, 0, 0, 0, loc), next.In(loc))
			// ... and goes at once when the shop answers on closed days
			// (in the window: the law's hours hold every day).
			shop.Compliance.AnswerOnClosedDays = true
			for _, step := range []lead.Step{initialText, initialEmail} {
				next, err = shop.NextSendTime(step, lead.Recipient{}, due)
				require.NoError(t, err)
				require.Equal(t, due, next, "%s %s", step.Name, step.Channel)
			}
			next, err = shop.NextSendTime(initialText, lead.Recipient{}, due.Add(12*time.Hour))
			require.NoError(t, err)
			require.Equal(t, time.Date(2027, 1, 1, 8, 0, 0, 0, loc), next.In(loc), "a closed day's first answer still keeps the window's hours")
			next, err = shop.NextSendTime(followUpText, lead.Recipient{}, due)
			require.NoError(t, err)
			require.Equal(t, time.Date(2027, 1, 2, 8, 0, 0, 0, loc), next.In(loc), "follow-ups still wait")
		})
	}
}

// TestClosedDayMinuteByMinute walks every minute from 22:00 the evening
// before a closed day to 02:00 after it, with a window open all day so
// that only the closed day closes it: each minute on the closed day
// waits for the next midnight on the shop's clock, every other minute
// goes at once. In a zone whose clocks spring forward at midnight
// (America/Havana: 2026-03-08 begins at 01:00) the next day begins at
// the change.
func TestClosedDayMinuteByMinute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		zone, closed string
		nextDay      string // the first instant after the closed day
		minutes      int    // how long the closed day is
	}{
		{"America/Phoenix", "2026-12-25", "2026-12-26T00:00:00-07:00", 24 * 60},
		{"America/New_York", "2026-12-25", "2026-12-26T00:00:00-05:00", 24 * 60},
		// Fall back: the closed day is 25 hours long.
		{"America/New_York", "2026-11-01", "2026-11-02T00:00:00-05:00", 25 * 60},
		// Spring forward at midnight: the day after begins at 01:00 ...
		{"America/Havana", "2026-03-07", "2026-03-08T01:00:00-04:00", 24 * 60},
		// ... and is 23 hours long.
		{"America/Havana", "2026-03-08", "2026-03-09T00:00:00-04:00", 23 * 60},
	} {
		t.Run(tc.zone+"/"+tc.closed, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(tc.zone)
			require.NoError(t, err)
			shop := closedShop(t, tc.zone, lead.QuietRuleNone, lead.AllDay, tc.closed)
			nextDay, err := time.Parse(time.RFC3339, tc.nextDay)
			require.NoError(t, err)
			from := nextDay.Add(-time.Duration(tc.minutes+120) * time.Minute)
			to := nextDay.Add(2 * time.Hour)
			closedMinutes := 0
			for at := from; at.Before(to); at = at.Add(time.Minute) {
				onClosedDay := at.In(loc).Format(lead.ClosedDayLayout) == tc.closed
				want := at
				if onClosedDay {
					want = nextDay
					closedMinutes++
				}
				for _, step := range []lead.Step{followUpText, followUpEmail} {
					next, err := shop.NextSendTime(step, lead.Recipient{}, at)
					require.NoError(t, err)
					require.True(t, want.Equal(next), "%s %s at %s: got %s, want %s", step.Channel, tc.closed, at.In(loc), next.In(loc), want.In(loc))
				}
			}
			require.Equal(t, tc.minutes, closedMinutes, "every minute of the closed day is closed, and no other")
		})
	}
}

// TestClosedDaysOutlastTheWindowSearch: closed days in a row longer than
// the window's 8-day search still end in an opening (every closed day is
// a different date), and a year of closed days after a valid date still
// finds the day after.
func TestClosedDaysOutlastTheWindowSearch(t *testing.T) {
	t.Parallel()
	var days []string
	for d := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC); len(days) < lead.MaxClosedDays; d = d.AddDate(0, 0, 1) {
		days = append(days, d.Format(lead.ClosedDayLayout))
	}
	shop := closedShop(t, "America/Chicago", lead.QuietRuleTexas, lead.QuietHours{}, days...)
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	next, err := shop.NextSendTime(followUpText, lead.Recipient{}, time.Date(2026, 7, 1, 9, 0, 0, 0, chicago))
	require.NoError(t, err)
	// 366 days from 2026-07-01 end on 2027-07-01; 2027-07-02 is a Friday.
	require.Equal(t, time.Date(2027, 7, 2, 9, 0, 0, 0, chicago), next.In(chicago))
}

// TestClosedDaysHandEdited: a calendar that does not parse (a row edited
// by hand) is an error naming the day, not a guess.
func TestClosedDaysHandEdited(t *testing.T) {
	t.Parallel()
	shop := closedTenant()
	shop.Compliance.ClosedDays = []string{"2026-12-25", "25/12/2026"}
	_, err := shop.NextSendTime(followUpEmail, lead.Recipient{}, time.Now())
	var vErr *lead.ValidationError
	require.ErrorAs(t, err, &vErr)
	require.Equal(t, "compliance.closed_days[1]", vErr.Field)
	// A step no closed day holds does not read the calendar.
	next, err := shop.NextSendTime(lead.Step{Name: lead.NoticeStepPrefix + "x", Channel: lead.ChannelEmail}, lead.Recipient{}, time.Unix(0, 0))
	require.NoError(t, err)
	require.Equal(t, time.Unix(0, 0), next)
}

// TestClosedDaysOpenBetween: the time a first text could have gone out
// leaves the closed days out (all of them, a span's first and last days
// too), unless the shop answers on closed days.
func TestClosedDaysOpenBetween(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	shop := closedShop(t, "America/New_York", lead.QuietRuleFederal, lead.QuietHours{}, "2026-12-25", "2026-12-31", "2027-01-01")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, ny) }
	for _, tc := range []struct {
		name     string
		a, b     time.Time
		want     time.Duration
		answered time.Duration // with answer_on_closed_days
	}{
		{"OpenDay", at(2026, 12, 24, 10, 0), at(2026, 12, 24, 10, 5), 5 * time.Minute, 5 * time.Minute},
		{"OverChristmas", at(2026, 12, 24, 20, 55), at(2026, 12, 26, 8, 0), 5 * time.Minute, 5*time.Minute + 13*time.Hour},
		{"OnChristmas", at(2026, 12, 25, 9, 0), at(2026, 12, 25, 10, 0), 0, time.Hour},
		{"FromChristmas", at(2026, 12, 25, 20, 0), at(2026, 12, 26, 8, 30), 30 * time.Minute, time.Hour + 30*time.Minute},
		{"OverTheNewYear", at(2026, 12, 30, 20, 0), at(2027, 1, 2, 9, 0), 2 * time.Hour, 2*time.Hour + 26*time.Hour},
		{"Backwards", at(2026, 12, 26, 9, 0), at(2026, 12, 24, 9, 0), 0, 0},
	} {
		got, err := shop.FirstTextOpenBetween(tc.a, tc.b)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, tc.name)
		answers := shop
		answers.Compliance.AnswerOnClosedDays = true
		got, err = answers.FirstTextOpenBetween(tc.a, tc.b)
		require.NoError(t, err)
		require.Equal(t, tc.answered, got, tc.name+" with answer_on_closed_days")
	}
}

// BenchmarkNextSendTime is what a send job pays to ask when a follow-up
// may go: with no closed days, with a year of them but today open, and
// due on the first of 366 closed days in a row (the worst case). On the
// 2-core dev box: 8.5 us (loading the zone, as before), 88 us (reading
// 366 dates) and 335 us (skipping them one by one): under a millisecond
// in the worst case, next to a send job's database and provider round
// trips, so the calendar is read per job rather than cached.
func BenchmarkNextSendTime(b *testing.B) {
	var year []string
	for d := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC); len(year) < lead.MaxClosedDays; d = d.AddDate(0, 0, 1) {
		year = append(year, d.Format(lead.ClosedDayLayout))
	}
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(b, err)
	for _, bc := range []struct {
		name string
		days []string
		at   time.Time
	}{
		{"NoClosedDays", nil, time.Date(2026, 7, 1, 10, 0, 0, 0, chicago)},
		{"YearOfClosedDaysOpenToday", year, time.Date(2026, 6, 30, 10, 0, 0, 0, chicago)},
		{"FirstOf366ClosedDays", year, time.Date(2026, 7, 1, 10, 0, 0, 0, chicago)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			shop := closedTenant()
			shop.Compliance.ClosedDays = bc.days
			for b.Loop() {
				if _, err := shop.NextSendTime(followUpText, lead.Recipient{}, bc.at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
