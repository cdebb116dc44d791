package lead_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// everyDay is booking hours of window on all seven days.
func everyDay(window string) map[string]string {
	h := map[string]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		h[d] = window
	}
	return h
}

// newYork is America/New_York, whose 2026 clocks spring forward on Mar 8
// (02:00 EST becomes 03:00 EDT) and fall back on Nov 1 (02:00 EDT becomes
// 01:00 EST).
func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	return loc
}

// wallStarts are the slots' starts as the shop's clocks show them,
// "2006-01-02 15:04 MST".
func wallStarts(slots []lead.Slot, loc *time.Location) []string {
	out := make([]string, 0, len(slots))
	for _, s := range slots {
		out = append(out, s.Start.In(loc).Format("2006-01-02 15:04 MST"))
	}
	return out
}

// onDay keeps the slots that start on the date (YYYY-MM-DD) in loc.
func onDay(slots []lead.Slot, loc *time.Location, date string) []lead.Slot {
	var out []lead.Slot
	for _, s := range slots {
		if s.Start.In(loc).Format(time.DateOnly) == date {
			out = append(out, s)
		}
	}
	return out
}

func TestOpenSlots(t *testing.T) {
	t.Parallel()
	loc := newYork(t)
	// Monday Dec 7 2026, 06:00 EST.
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, loc)
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, loc) }

	t.Run("LeadTimeAndTheWindowsEnd", func(t *testing.T) {
		t.Parallel()
		b := lead.BookingSettings{Hours: map[string]string{"mon": "08:00-10:30"}, SlotMinutes: 60, LeadTimeMinutes: 90, DaysAhead: 1}
		require.Equal(t, []lead.Slot{
			{Start: at(7, 8, 0), End: at(7, 9, 0), Free: 1},
			{Start: at(7, 9, 0), End: at(7, 10, 0), Free: 1},
		}, b.OpenSlots(loc, now, nil), "10:00-11:00 would run past 10:30")
		require.Equal(t, []string{"2026-12-07 09:00 EST"}, wallStarts(b.OpenSlots(loc, at(7, 6, 31), nil), loc),
			"08:00 is 89 minutes ahead at 06:31, under the lead time")
		require.Equal(t, []string{"2026-12-07 08:00 EST", "2026-12-07 09:00 EST"}, wallStarts(b.OpenSlots(loc, at(7, 6, 30), nil), loc),
			"exactly the lead time ahead is soon enough")
		require.Empty(t, b.OpenSlots(loc, at(7, 7, 31), nil))
	})
	t.Run("CapacityAndBusyOverlap", func(t *testing.T) {
		t.Parallel()
		b := lead.BookingSettings{Hours: map[string]string{"mon": "08:00-12:00"}, Capacity: 2, DaysAhead: 1}
		busy := []lead.TimeRange{
			{Start: at(7, 8, 30), End: at(7, 9, 30)},   // one place of 08:00 and one of 09:00
			{Start: at(7, 8, 0), End: at(7, 8, 15)},    // the other of 08:00: full
			{Start: at(7, 7, 0), End: at(7, 10, 0)},    // not 10:00: it ends as 10:00 starts
			{Start: at(7, 11, 0), End: at(7, 11, 1)},   // one of 11:00
			{Start: at(7, 12, 0), End: at(7, 13, 0)},   // after the window
			{Start: at(8, 10, 0), End: at(8, 11, 0)},   // another day
			{Start: at(7, 10, 30), End: at(7, 10, 30)}, // no length: one of 10:00
		}
		got := b.OpenSlots(loc, at(7, 5, 0), busy)
		require.Equal(t, []lead.Slot{
			{Start: at(7, 10, 0), End: at(7, 11, 0), Free: 1},
			{Start: at(7, 11, 0), End: at(7, 12, 0), Free: 1},
		}, got, "08:00 and 09:00 full (three and two busy ranges)")

		b.Capacity = 3
		got = b.OpenSlots(loc, at(7, 5, 0), busy[:3])
		require.Equal(t, []time.Time{at(7, 9, 0), at(7, 10, 0), at(7, 11, 0)}, []time.Time{got[0].Start, got[1].Start, got[2].Start},
			"08:00 has three busy ranges: full")
		require.Equal(t, []int{1, 3, 3}, []int{got[0].Free, got[1].Free, got[2].Free}, "09:00 two, 10:00 and 11:00 none")
	})
	t.Run("ARangeWithoutLengthIsAnInstant", func(t *testing.T) {
		t.Parallel()
		// Regression: [10:30, 10:30) took a place of 10:00 but [08:00,
		// 08:00) none, and an end before the start none anywhere.
		b := lead.BookingSettings{Hours: map[string]string{"mon": "08:00-12:00"}, DaysAhead: 1}
		busy := []lead.TimeRange{
			{Start: at(7, 8, 0), End: at(7, 8, 0)},                         // 08:00, at the slot's start
			{Start: at(7, 9, 59).Add(59 * time.Second), End: at(7, 9, 30)}, // 09:59:59, its end before its start
			{Start: at(7, 11, 0), End: time.Time{}},                        // 11:00, no end at all
			{Start: at(7, 12, 0), End: at(7, 12, 0)},                       // 12:00, after the window
		}
		require.Equal(t, []lead.Slot{{Start: at(7, 10, 0), End: at(7, 11, 0), Free: 1}}, b.OpenSlots(loc, at(7, 5, 0), busy))
		_, err := b.SlotAt(loc, at(7, 5, 0), at(7, 8, 0), busy)
		require.ErrorIs(t, err, lead.ErrSlotTaken)
	})
	t.Run("DaysAheadHolidaysAndDaysWithoutHours", func(t *testing.T) {
		t.Parallel()
		b := lead.BookingSettings{
			Hours:     map[string]string{"mon": "09:00-10:00", "tue": "09:00-10:00", "wed": "09:00-10:00", "sat": "09:00-10:00"},
			DaysAhead: 6, Holidays: []string{"2026-12-08", "2026-12-13"}, LeadTimeMinutes: 1,
		}
		require.Equal(t, []string{"2026-12-07 09:00 EST", "2026-12-09 09:00 EST", "2026-12-12 09:00 EST"}, wallStarts(b.OpenSlots(loc, now, nil), loc),
			"Mon; not Tue (holiday), Thu or Fri (no hours); Sat; Sun is a holiday with no hours anyway")
		b.DaysAhead = 5
		require.Equal(t, []string{"2026-12-07 09:00 EST", "2026-12-09 09:00 EST"}, wallStarts(b.OpenSlots(loc, now, nil), loc),
			"today is the first of the days ahead: five end on Friday")
		b.DaysAhead = 8
		require.Equal(t, "2026-12-14 09:00 EST", wallStarts(b.OpenSlots(loc, now, nil), loc)[3], "eight reach the next Monday")
		b.DaysAhead = 1
		require.Equal(t, []string{"2026-12-07 09:00 EST"}, wallStarts(b.OpenSlots(loc, now, nil), loc), "one day ahead is today only")
		require.Empty(t, b.OpenSlots(loc, at(7, 9, 0), nil), "nothing left today")
	})
	t.Run("TodayIsTheShopsToday", func(t *testing.T) {
		t.Parallel()
		// 02:00 UTC on Tuesday is still Monday evening in New York.
		b := lead.BookingSettings{Hours: map[string]string{"mon": "20:00-23:00", "tue": "09:00-10:00"}, DaysAhead: 1, LeadTimeMinutes: 1}
		got := b.OpenSlots(loc, time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC), nil)
		require.Equal(t, []string{"2026-12-07 22:00 EST"}, wallStarts(got, loc))
	})
	t.Run("YearBoundary", func(t *testing.T) {
		t.Parallel()
		b := lead.BookingSettings{Hours: everyDay("08:00-17:00"), DaysAhead: 5, Holidays: []string{"2027-01-01"}}
		got := b.OpenSlots(loc, time.Date(2026, 12, 30, 19, 30, 0, 0, loc), nil)
		require.Empty(t, onDay(got, loc, "2026-12-30"), "the evening is past the hours")
		require.Len(t, onDay(got, loc, "2026-12-31"), 9)
		require.Empty(t, onDay(got, loc, "2027-01-01"), "New Year's Day is a holiday")
		require.Len(t, onDay(got, loc, "2027-01-02"), 9)
		require.Len(t, onDay(got, loc, "2027-01-03"), 9, "the fifth day")
		require.Len(t, got, 27, "and nothing on Jan 4")
		require.Equal(t, "2026-12-31 08:00 EST", wallStarts(got, loc)[0])
		require.Equal(t, "2027-01-03 16:00 EST", wallStarts(got, loc)[26])
	})
}

// TestOpenSlotsAcrossDST checks, for every minute of both 2026 US clock
// changes and the day before each as now, that every slot offered starts
// at a wall time on the shop's grid and within its hours, no sooner than
// the lead time, ends after it starts, and follows the slot before it;
// and that the change day offers exactly its slots that are still ahead.
func TestOpenSlotsAcrossDST(t *testing.T) {
	t.Parallel()
	loc := newYork(t)
	const lead30 = 30 * time.Minute
	for _, tt := range []struct {
		day    time.Time
		window string
		from   int // the window's start, minutes after midnight
		to     int
		want   []string // the change day's slots, as the clocks show them
	}{
		{
			day: time.Date(2026, 3, 8, 0, 0, 0, 0, loc), window: "01:00-04:00", from: 60, to: 240,
			want: []string{"01:00 EST", "01:30 EST", "03:00 EDT", "03:30 EDT"},
		},
		{
			day: time.Date(2026, 3, 8, 0, 0, 0, 0, loc), window: "00:00-24:00", from: 0, to: 1440,
			want: dstDay("00:00 EST", "00:30 EST", "01:00 EST", "01:30 EST", "03:00 EDT", "EDT"),
		},
		{
			day: time.Date(2026, 11, 1, 0, 0, 0, 0, loc), window: "01:00-04:00", from: 60, to: 240,
			want: []string{"01:00 EDT", "01:30 EDT", "02:00 EST", "02:30 EST", "03:00 EST", "03:30 EST"},
		},
		{
			day: time.Date(2026, 11, 1, 0, 0, 0, 0, loc), window: "00:00-24:00", from: 0, to: 1440,
			want: dstDay("00:00 EDT", "00:30 EDT", "01:00 EDT", "01:30 EDT", "02:00 EST", "EST"),
		},
	} {
		t.Run(tt.day.Format(time.DateOnly)+"/"+tt.window, func(t *testing.T) {
			t.Parallel()
			b := lead.BookingSettings{Hours: everyDay(tt.window), SlotMinutes: 30, LeadTimeMinutes: 30, DaysAhead: 2}
			date := tt.day.Format(time.DateOnly)
			all := onDay(b.OpenSlots(loc, tt.day.AddDate(0, 0, -1), nil), loc, date)
			var got []string
			for _, s := range all {
				got = append(got, s.Start.In(loc).Format("15:04 MST"))
			}
			require.Equal(t, tt.want, got, "the change day's slots, seen the day before")

			first, last := tt.day.AddDate(0, 0, -1), tt.day.AddDate(0, 0, 1)
			minutes := 0
			for now := first; now.Before(last); now = now.Add(time.Minute) {
				minutes++
				slots := b.OpenSlots(loc, now, nil)
				for i, s := range slots {
					checkSlotOnGrid(t, loc, s, tt.from, tt.to, now)
					require.False(t, s.Start.Before(now.Add(lead30)), "now %s: %s is sooner than the lead time", now, s.Start)
					if i > 0 {
						prev := slots[i-1]
						require.True(t, s.Start.After(prev.Start), "now %s: %s after %s, strictly", now, s.Start, prev.Start)
						require.False(t, s.Start.Before(prev.End), "now %s: %s starts before %s ends", now, s.Start, prev.End)
					}
				}
				var ahead []lead.Slot
				for _, s := range all {
					if !s.Start.Before(now.Add(lead30)) {
						ahead = append(ahead, s)
					}
				}
				require.Equal(t, ahead, onDay(slots, loc, date), "now %s: the change day's slots still ahead", now)
			}
			require.Equal(t, map[bool]int{true: 47 * 60, false: 49 * 60}[tt.day.Month() == time.March], minutes,
				"every minute of two days, one of them an hour short or long")
		})
	}
}

// dstDay is a change day's 30-minute slots of 00:00-24:00: the five
// around the change as given, then 02:30 or 03:30 to 23:30 in zone.
func dstDay(around0, around1, around2, around3, after, zone string) []string {
	out := []string{around0, around1, around2, around3, after}
	var h, m int
	_, _ = fmt.Sscanf(after, "%d:%d", &h, &m)
	for mm := h*60 + m + 30; mm < 24*60; mm += 30 {
		out = append(out, fmt.Sprintf("%02d:%02d %s", mm/60, mm%60, zone))
	}
	return out
}

// checkSlotOnGrid: s starts on the hour or half hour of the clocks in
// loc, within [from, to), with no seconds; it ends after it starts, on
// the grid too, within at most 90 minutes (a slot ending across a fall-back
// hour lasts 30 minutes of wall clock and 90 of real time).
func checkSlotOnGrid(t *testing.T, loc *time.Location, s lead.Slot, from, to int, now time.Time) {
	t.Helper()
	wall := s.Start.In(loc)
	m := wall.Hour()*60 + wall.Minute()
	if wall.Second() != 0 || wall.Nanosecond() != 0 || m < from || m+30 > to || (m-from)%30 != 0 {
		t.Fatalf("now %s: slot starts at %s, not on the grid of [%d, %d)", now, wall, from, to)
	}
	back := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, loc)
	if !back.Equal(s.Start) {
		// The clocks show this wall time twice: the slot must be the first.
		t.Fatalf("now %s: slot starts at %s, the second time the clocks show %s", now, wall, wall.Format("15:04"))
	}
	d := s.End.Sub(s.Start)
	end := s.End.In(loc)
	if d <= 0 || d > 90*time.Minute || end.Minute()%30 != 0 || end.Second() != 0 {
		t.Fatalf("now %s: slot %s ends at %s", now, wall, end)
	}
}

func TestOpenSlotsDSTDetail(t *testing.T) {
	t.Parallel()
	loc := newYork(t)
	b := lead.BookingSettings{Hours: everyDay("00:00-24:00"), SlotMinutes: 30, LeadTimeMinutes: 1, DaysAhead: 2}
	t.Run("SpringForward", func(t *testing.T) {
		t.Parallel()
		got := onDay(b.OpenSlots(loc, time.Date(2026, 3, 7, 23, 0, 0, 0, loc), nil), loc, "2026-03-08")
		for _, s := range got {
			w := s.Start.In(loc).Format("15:04")
			require.NotEqual(t, "02:00", w)
			require.NotEqual(t, "02:30", w)
		}
		i := slices.IndexFunc(got, func(s lead.Slot) bool { return s.Start.In(loc).Format("15:04") == "01:30" })
		require.GreaterOrEqual(t, i, 0)
		require.Equal(t, time.Date(2026, 3, 8, 3, 0, 0, 0, loc), got[i].End, "01:30 ends when the clocks jump to 03:00")
		require.Equal(t, 30*time.Minute, got[i].End.Sub(got[i].Start))
		require.Equal(t, got[i].End, got[i+1].Start)
		require.Len(t, got, 46)
	})
	t.Run("FallBack", func(t *testing.T) {
		t.Parallel()
		got := onDay(b.OpenSlots(loc, time.Date(2026, 10, 31, 23, 0, 0, 0, loc), nil), loc, "2026-11-01")
		count := map[string]int{}
		for _, s := range got {
			count[s.Start.In(loc).Format("15:04")]++
		}
		require.Equal(t, 1, count["01:00"])
		require.Equal(t, 1, count["01:30"])
		require.Len(t, got, 48)
		i := slices.IndexFunc(got, func(s lead.Slot) bool { return s.Start.In(loc).Format("15:04") == "01:30" })
		require.Equal(t, "01:30 EDT", got[i].Start.In(loc).Format("15:04 MST"), "the first 01:30")
		require.Equal(t, "02:00 EST", got[i].End.In(loc).Format("15:04 MST"))
		require.Equal(t, 90*time.Minute, got[i].End.Sub(got[i].Start), "the repeated hour is inside it")
	})
}

func TestSlotAt(t *testing.T) {
	t.Parallel()
	loc := newYork(t)
	at := func(month time.Month, day, hour, minute int) time.Time {
		return time.Date(2026, month, day, hour, minute, 0, 0, loc)
	}
	// Monday Nov 30 2026, 09:10; Tuesday Dec 1 has a holiday.
	now := at(11, 30, 9, 10)
	b := lead.BookingSettings{
		Hours: map[string]string{"mon": "08:00-12:00", "tue": "08:00-12:00", "wed": "08:00-12:00", "sat": "10:00-11:30"}, SlotMinutes: 30,
		Capacity: 2, LeadTimeMinutes: 60, DaysAhead: 7, Holidays: []string{"2026-12-01"},
	}
	busy := []lead.TimeRange{
		{Start: at(12, 2, 8, 0), End: at(12, 2, 9, 0)},  // 08:00 and 08:30 Wed: one place each
		{Start: at(12, 2, 8, 0), End: at(12, 2, 8, 30)}, // 08:00 Wed: full
	}
	open := b.OpenSlots(loc, now, busy)
	require.Equal(t, "2026-11-30 10:30 EST", wallStarts(open, loc)[0])
	for _, s := range open {
		got, err := b.SlotAt(loc, now, s.Start, busy)
		require.NoError(t, err, "offered: %s", s.Start)
		require.Equal(t, s, got)
		got, err = b.SlotAt(loc, now, s.Start.UTC(), busy)
		require.NoError(t, err, "the same instant in another zone")
		require.Equal(t, s, got)
	}
	half := slices.IndexFunc(open, func(s lead.Slot) bool { return s.Start.Equal(at(12, 2, 8, 30)) })
	require.Equal(t, 1, open[half].Free)

	for _, tt := range []struct {
		name  string
		start time.Time
		why   string
	}{
		{"Full", at(12, 2, 8, 0), "Wed Dec 2, 8:00 AM is full"},
		{"TooSoon", at(11, 30, 10, 0), "Mon Nov 30, 10:00 AM is past or too soon (at least 1h0m0s ahead)"},
		{"Past", at(11, 30, 8, 0), "is past or too soon"},
		{"Yesterday", at(11, 29, 8, 0), "Sun Nov 29, 8:00 AM is not one of the shop's booking times"},
		{"OffTheGrid", at(12, 2, 9, 15), "Wed Dec 2, 9:15 AM is not one of the shop's booking times"},
		{"PastTheWindowsEnd", at(12, 5, 11, 30), "is not one of the shop's booking times"},
		{"RunsPastTheWindowsEnd", at(12, 5, 11, 10), "is not one of the shop's booking times"},
		{"Holiday", at(12, 1, 9, 0), "Tue Dec 1, 9:00 AM is not one of the shop's booking times"},
		{"NoHours", at(12, 3, 9, 0), "is not one of the shop's booking times"},
		{"BeyondTheHorizon", at(12, 7, 9, 0), "Mon Dec 7, 9:00 AM is more than 7 days ahead"},
		{"FarBeyond", at(12, 30, 9, 0), "is more than 7 days ahead"},
		{"WithSeconds", at(12, 2, 9, 0).Add(time.Second), "is not one of the shop's booking times"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.SlotAt(loc, now, tt.start, busy)
			require.True(t, errors.Is(err, lead.ErrSlotTaken), "%v", err)
			require.ErrorContains(t, err, tt.why)
			require.NotContains(t, open, lead.Slot{Start: tt.start}, "nor is it offered")
			for _, s := range open {
				require.False(t, s.Start.Equal(tt.start), "OpenSlots offers %s", tt.start)
			}
		})
	}
	t.Run("TheLastDayAheadIsOffered", func(t *testing.T) {
		t.Parallel()
		s, err := b.SlotAt(loc, now, at(12, 5, 10, 0), busy)
		require.NoError(t, err, "Sat Dec 5 is the sixth day of seven")
		require.Equal(t, at(12, 5, 10, 30), s.End)
	})
	t.Run("TheSecondOfTwoEqualWallTimes", func(t *testing.T) {
		t.Parallel()
		nb := lead.BookingSettings{Hours: everyDay("00:00-24:00"), SlotMinutes: 30, LeadTimeMinutes: 1, DaysAhead: 2}
		before := at(10, 31, 12, 0)
		first := at(11, 1, 1, 0)
		require.Equal(t, "EDT", first.Format("MST"))
		_, err := nb.SlotAt(loc, before, first, nil)
		require.NoError(t, err)
		second := first.Add(time.Hour)
		require.Equal(t, "01:00 EST", second.In(loc).Format("15:04 MST"))
		_, err = nb.SlotAt(loc, before, second, nil)
		require.True(t, errors.Is(err, lead.ErrSlotTaken), "%v", err)
	})
}

func TestFormatSlot(t *testing.T) {
	t.Parallel()
	loc := newYork(t)
	s := lead.Slot{Start: time.Date(2026, 12, 8, 14, 0, 0, 0, time.UTC)}
	require.Equal(t, "Tue Dec 8, 9:00 AM", lead.FormatSlot(s, loc))
	require.Equal(t, "Tue Dec 8, 2:00 PM", lead.FormatSlot(s, time.UTC))
}
