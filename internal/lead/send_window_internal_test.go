package lead

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests name, whatever the machine has

	"github.com/stretchr/testify/require"
)

// TestNextOpeningAcrossClockChanges drives the window arithmetic with
// windows no legal rule allows (every rule starts at 08:00 or later, after
// New York's clocks change), to prove the edge cases: a window starting in
// the hour that does not exist on the spring-forward day, and windows
// inside the hour that happens twice on the fall-back night.
func TestNextOpeningAcrossClockChanges(t *testing.T) {
	t.Parallel()

	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	daily := func(start, end TimeOfDay) hoursOnFunc {
		return func(time.Weekday) (QuietHours, bool) { return QuietHours{Start: start, End: end}, true }
	}
	hm := func(h, m int) TimeOfDay { return TimeOfDay(h*60 + m) }
	closed := func(time.Weekday) (QuietHours, bool) { return QuietHours{}, false }

	tests := []struct {
		name    string
		hoursOn hoursOnFunc
		at      string
		// want is the next opening ("" when there is none); it equals at
		// when at is allowed.
		want string
	}{
		// 2026-03-08: 01:59:59 EST is followed by 03:00:00 EDT.
		{"OpensInTheGap", daily(hm(2, 30), hm(5, 0)), "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"OpensInTheGapLastInstantBefore", daily(hm(2, 30), hm(5, 0)), "2026-03-08T01:59:59.999999999-05:00", "2026-03-08T03:00:00-04:00"},
		{"OpensInTheGapAlreadyOpen", daily(hm(2, 30), hm(5, 0)), "2026-03-08T03:10:00-04:00", "2026-03-08T03:10:00-04:00"},
		{"OpensInTheGapNextDay", daily(hm(2, 30), hm(5, 0)), "2026-03-08T05:00:00-04:00", "2026-03-09T02:30:00-04:00"},
		{"OpensAndClosesAcrossTheGap", daily(hm(2, 30), hm(3, 30)), "2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"WholeWindowInTheGap", daily(hm(2, 0), hm(3, 0)), "2026-03-08T00:00:00-05:00", "2026-03-09T02:00:00-04:00"},
		{"OpensAtTheGap", daily(hm(2, 0), hm(4, 0)), "2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"OpensBeforeTheGap", daily(hm(1, 0), hm(4, 0)), "2026-03-08T00:30:00-05:00", "2026-03-08T01:00:00-05:00"},

		// 2026-11-01: 01:59:59 EDT is followed by 01:00:00 EST.
		{"RepeatedHourFirstTime", daily(hm(1, 0), hm(1, 30)), "2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00"},
		{"RepeatedHourSecondTime", daily(hm(1, 0), hm(1, 30)), "2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00"},
		{"RepeatedHourAfterBoth", daily(hm(1, 0), hm(1, 30)), "2026-11-01T01:30:00-05:00", "2026-11-02T01:00:00-05:00"},
		{"OpensMidRepeatedHour", daily(hm(1, 30), hm(2, 0)), "2026-11-01T01:15:00-05:00", "2026-11-01T01:30:00-05:00"},
		{"OpensMidRepeatedHourOpenFirstTime", daily(hm(1, 30), hm(2, 0)), "2026-11-01T01:45:00-04:00", "2026-11-01T01:45:00-04:00"},
		{"OpensMidRepeatedHourClosedBetween", daily(hm(1, 30), hm(2, 0)), "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00"},
		{"ClosesAtTheChange", daily(hm(0, 0), hm(2, 0)), "2026-11-01T01:59:59-04:00", "2026-11-01T01:59:59-04:00"},
		{"OpenThroughTheRepeat", daily(hm(0, 0), hm(2, 0)), "2026-11-01T01:00:00-05:00", "2026-11-01T01:00:00-05:00"},
		{"OpensAfterTheRepeat", daily(hm(2, 0), hm(3, 0)), "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00"},

		// The search is bounded: a window that never opens ends it.
		{"NeverOpens", closed, "2026-03-10T12:00:00-04:00", ""},
		{"NeverOpensAcrossBothChanges", closed, "2026-10-30T12:00:00-04:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			at, err := time.Parse(time.RFC3339Nano, tt.at)
			require.NoError(t, err)
			got, ok := nextOpening(at, ny, tt.hoursOn)
			if tt.want == "" {
				require.False(t, ok)
				require.True(t, got.IsZero())
				return
			}
			want, err := time.Parse(time.RFC3339Nano, tt.want)
			require.NoError(t, err)
			require.True(t, ok)
			require.True(t, want.Equal(got), "want %s, got %s", want, got)
			require.Equal(t, at.Equal(want), allows(at, ny, tt.hoursOn))
			require.True(t, allows(got, ny, tt.hoursOn))
			if !at.Equal(want) {
				require.False(t, allows(got.Add(-time.Nanosecond), ny, tt.hoursOn), "the opening is the first allowed instant")
			}
		})
	}
}
