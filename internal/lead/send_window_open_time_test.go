package lead_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestSendWindowOpenBetween(t *testing.T) {
	t.Parallel()

	chicago := location(t, "America/Chicago")
	window := func(h lead.QuietHours, rule lead.QuietRule) lead.SendWindow {
		return lead.SendWindow{Hours: h, Rule: rule, Location: chicago}
	}
	shop := window(lead.DefaultQuietHours, "")
	allDay := window(lead.AllDay, lead.QuietRuleNone)

	tests := []struct {
		name   string
		window lead.SendWindow
		a, b   string
		want   time.Duration
	}{
		{"InsideOneDay", shop, "2026-11-10T09:00:00-06:00", "2026-11-10T10:30:00-06:00", 90 * time.Minute},
		{"OvernightCountsOnlyOpenMinutes", shop, "2026-11-10T20:55:00-06:00", "2026-11-11T08:05:00-06:00", 10 * time.Minute},
		{"AllClosed", shop, "2026-11-10T21:00:00-06:00", "2026-11-11T08:00:00-06:00", 0},
		{"WholeWeek", shop, "2026-11-09T00:00:00-06:00", "2026-11-16T00:00:00-06:00", 7 * 13 * time.Hour},
		{"WeekOverFallBack", shop, "2026-10-26T00:00:00-05:00", "2026-11-02T00:00:00-06:00", 7 * 13 * time.Hour},
		{"WeekOverSpringForward", shop, "2026-03-02T00:00:00-06:00", "2026-03-09T00:00:00-05:00", 7 * 13 * time.Hour},
		// 2026-03-08 02:00 CST jumps to 03:00 CDT: the night is an hour short.
		{"SpringForwardNightIsShort", allDay, "2026-03-08T00:00:00-06:00", "2026-03-08T04:00:00-05:00", 3 * time.Hour},
		{"SkippedHourNeverOpen", window(hours(t, "02:00", "04:00"), lead.QuietRuleNone), "2026-03-08T00:00:00-06:00", "2026-03-08T06:00:00-05:00", time.Hour},
		// 2026-11-01 02:00 CDT falls back to 01:00 CST: 01:00-02:00 happens twice.
		{"FallBackNightIsLong", allDay, "2026-11-01T00:00:00-05:00", "2026-11-01T03:00:00-06:00", 4 * time.Hour},
		{"RepeatedHourOpenTwice", window(hours(t, "01:00", "02:00"), lead.QuietRuleNone), "2026-11-01T00:00:00-05:00", "2026-11-01T06:00:00-06:00", 2 * time.Hour},
		{"RepeatedHourSecondPassOnly", window(hours(t, "01:00", "02:00"), lead.QuietRuleNone), "2026-11-01T01:30:00-06:00", "2026-11-01T06:00:00-06:00", 30 * time.Minute},
		// Texas: Saturday 08:00-21:00, Sunday 12:00-21:00.
		{"TexasSunday", window(lead.DefaultQuietHours, lead.QuietRuleTexas), "2026-11-14T20:00:00-06:00", "2026-11-15T13:00:00-06:00", 2 * time.Hour},
		{"EndBeforeStart", shop, "2026-11-10T10:00:00-06:00", "2026-11-10T09:00:00-06:00", 0},
		{"Empty", shop, "2026-11-10T10:00:00-06:00", "2026-11-10T10:00:00-06:00", 0},
		{"NoLocation", lead.SendWindow{Hours: lead.AllDay, Rule: lead.QuietRuleNone}, "2026-11-10T09:00:00-06:00", "2026-11-10T10:00:00-06:00", 0},
		{"InstantsInAnotherZone", shop, "2026-11-10T14:00:00Z", "2026-11-10T16:00:00Z", 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.window.OpenBetween(instant(t, tt.a), instant(t, tt.b)))
		})
	}
}

// TestSendWindowOpenBetweenMatchesMinuteSteps checks the interval
// arithmetic against the slowest obvious answer: step through the span a
// minute at a time and count the minutes Allows lets a text go. Spans
// start and end on whole minutes around both of 2026's clock changes, in
// zones that change on different dates, under several windows.
func TestSendWindowOpenBetweenMatchesMinuteSteps(t *testing.T) {
	t.Parallel()

	rng := rand.New(rand.NewPCG(11, 7))
	windows := []lead.SendWindow{
		{Hours: lead.DefaultQuietHours, Location: location(t, "America/Chicago")},
		{Hours: hours(t, "01:00", "03:30"), Rule: lead.QuietRuleNone, Location: location(t, "America/New_York")},
		{Hours: lead.DefaultQuietHours, Rule: lead.QuietRuleTexas, Location: location(t, "America/Chicago")},
		{Hours: hours(t, "00:30", "02:30"), Rule: lead.QuietRuleNone, Location: location(t, "Europe/London")},
		{Hours: lead.AllDay, Rule: lead.QuietRuleNone, Location: location(t, "Australia/Lord_Howe")},
	}
	changes := []time.Time{
		instant(t, "2026-03-08T08:00:00Z"), instant(t, "2026-11-01T07:00:00Z"),
		instant(t, "2026-03-29T01:00:00Z"), instant(t, "2026-10-25T01:00:00Z"),
		instant(t, "2026-04-04T15:00:00Z"), instant(t, "2026-10-03T15:30:00Z"),
	}
	for range 120 {
		w := windows[rng.IntN(len(windows))]
		around := changes[rng.IntN(len(changes))]
		a := around.Add(time.Duration(rng.IntN(3*24*60)-36*60) * time.Minute)
		b := a.Add(time.Duration(rng.IntN(2*24*60)) * time.Minute)
		var want time.Duration
		for at := a; at.Before(b); at = at.Add(time.Minute) {
			if w.Allows(at) {
				want += time.Minute
			}
		}
		require.Equal(t, want, w.OpenBetween(a, b), "window %s from %s to %s", w, a.In(w.Location), b.In(w.Location))
	}
}
