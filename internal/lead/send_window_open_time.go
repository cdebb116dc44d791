package lead

import "time"

// OpenBetween returns how much of [a, b) the window was open: the time a
// text could have gone out. The speed-to-lead report counts a lead that
// came in at 20:55 and was texted at 08:00 the next morning as five
// minutes, not eleven hours: the shop could not have texted sooner.
//
// It is exact across the clocks changing: like NextOpening it walks the
// zone periods of the shop's time zone, and within one period (a fixed UTC
// offset) intersects each wall-clock day's window with the span by
// interval arithmetic. An hour the clocks skip is never open; an hour they
// repeat counts twice when the window covers it, because it happens twice.
// A window without a location, or b not after a, is open for nothing.
func (w SendWindow) OpenBetween(a, b time.Time) time.Duration {
	if w.Location == nil || !b.After(a) {
		return 0
	}
	var open time.Duration
	for from := a.In(w.Location); from.Before(b); {
		_, zoneEnd := from.ZoneBounds()
		to := b
		if !zoneEnd.IsZero() && zoneEnd.Before(b) {
			to = zoneEnd
		}
		open += openInZone(from, to, w.HoursOn)
		from = to.In(w.Location)
	}
	return open
}

// openInZone is how much of [from, to) the window is open, assuming from's
// UTC offset holds throughout: the wall clock then moves in step with real
// time, so [from, to) is one wall-clock span of the same length.
func openInZone(from, to time.Time, hoursOn hoursOnFunc) time.Duration {
	start := wallClock(from)
	end := start.Add(to.Sub(from))
	var open time.Duration
	for day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC); day.Before(end); day = day.AddDate(0, 0, 1) {
		hours, ok := hoursOn(day.Weekday())
		if !ok {
			continue
		}
		opens, closes := day.Add(minutes(hours.Start)), day.Add(minutes(hours.End))
		if opens.Before(start) {
			opens = start
		}
		if closes.After(end) {
			closes = end
		}
		if closes.After(opens) {
			open += closes.Sub(opens)
		}
	}
	return open
}
