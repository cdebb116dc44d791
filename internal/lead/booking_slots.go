package lead

import (
	"fmt"
	"slices"
	"time"
)

// TimeRange is busy time, [Start, End): an appointment already in the CRM
// or one of our own live bookings. Each one takes one place of the
// capacity of every slot it overlaps.
type TimeRange struct {
	Start time.Time
	End   time.Time
}

// overlaps reports whether r and [start, end) share any instant. A range
// that does not end after it starts (a CRM appointment with no length, or
// one whose end is before its start) is the instant r.Start: it takes a
// place of the slot it falls in. Read as a half-open range it was empty
// and took no place, except that [10:30, 10:30) took one of a 10:00 slot
// by the comparison alone while [10:00, 10:00) took none: a staff drop-off
// written without an end is still a car in a bay.
func (r TimeRange) overlaps(start, end time.Time) bool {
	if !r.End.After(r.Start) {
		return !r.Start.Before(start) && r.Start.Before(end)
	}
	return r.Start.Before(end) && start.Before(r.End)
}

// OpenSlots are the slots a customer may book at now, earliest first: the
// days today .. today+DaysAhead-1 in loc, skipping holidays and days
// without hours, each day's window cut into SlotMinutes slots on the wall
// clock (a slot that would run past the window's end is not offered),
// starting no earlier than now+LeadTime, with Free places left after the
// busy ranges that overlap it, and only those with a place left. Zero
// fields are their defaults; whether booking is Enabled is the caller's
// to check.
//
// The windows are wall-clock times, so a day on which the clocks change
// keeps its hours: a slot that starts in the hour the clocks skip (02:00
// on spring-forward night in the US) does not exist, one that ends in it
// ends when the clocks jump, and on fall-back night a wall time that
// happens twice is the first of them.
func (b BookingSettings) OpenSlots(loc *time.Location, now time.Time, busy []TimeRange) []Slot {
	d := b.WithDefaults()
	earliest := now.Add(d.LeadTime())
	today := now.In(loc)
	var open []Slot
	for i := range d.DaysAhead {
		for _, s := range d.daySlots(loc, today.Year(), today.Month(), today.Day()+i, busy) {
			if s.Free > 0 && !s.Start.Before(earliest) {
				open = append(open, s)
			}
		}
	}
	return open
}

// SlotAt is the open slot that starts exactly at start (as OpenSlots would
// offer it at now), else ErrSlotTaken wrapped with why: not one of the
// shop's slots, too soon or past, or full.
func (b BookingSettings) SlotAt(loc *time.Location, now, start time.Time, busy []TimeRange) (Slot, error) {
	d := b.WithDefaults()
	today, day := now.In(loc), start.In(loc)
	first := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	on := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	if days := int(on.Sub(first) / (24 * time.Hour)); days >= d.DaysAhead {
		return Slot{}, fmt.Errorf("%w: %s is more than %d days ahead", ErrSlotTaken, FormatSlot(Slot{Start: start}, loc), d.DaysAhead)
	}
	slots := d.daySlots(loc, day.Year(), day.Month(), day.Day(), busy)
	i := slices.IndexFunc(slots, func(s Slot) bool { return s.Start.Equal(start) })
	if i < 0 {
		return Slot{}, fmt.Errorf("%w: %s is not one of the shop's booking times", ErrSlotTaken, FormatSlot(Slot{Start: start}, loc))
	}
	s := slots[i]
	switch {
	case s.Start.Before(now.Add(d.LeadTime())):
		return Slot{}, fmt.Errorf("%w: %s is past or too soon (at least %s ahead)", ErrSlotTaken, FormatSlot(s, loc), d.LeadTime())
	case s.Free <= 0:
		return Slot{}, fmt.Errorf("%w: %s is full", ErrSlotTaken, FormatSlot(s, loc))
	}
	return s, nil
}

// FormatSlot is a slot's start for a customer, in the shop's time zone:
// "Tue Dec 8, 9:00 AM".
func FormatSlot(s Slot, loc *time.Location) string {
	return s.Start.In(loc).Format("Mon Jan 2, 3:04 PM")
}

// daySlots cuts one day's window (the date may be unnormalized, "Dec 32")
// into slots of b (defaults applied), Free counted against busy; none on
// a holiday, a day without hours or with hours that do not parse (Validate
// refuses those). Free may be zero or less.
func (b BookingSettings) daySlots(loc *time.Location, year int, month time.Month, day int, busy []TimeRange) []Slot {
	date := time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
	if slices.Contains(b.Holidays, date.Format(time.DateOnly)) {
		return nil
	}
	w, err := parseBookingWindow(b.Hours[bookingDays[date.Weekday()]])
	if err != nil {
		return nil
	}
	var slots []Slot
	for m := int(w.Start); m+b.SlotMinutes <= int(w.End); m += b.SlotMinutes {
		start, ok := bookingWallClock(loc, date, m)
		if !ok {
			continue // the clocks skip this time
		}
		end, _ := bookingWallClock(loc, date, m+b.SlotMinutes)
		s := Slot{Start: start, End: end, Free: b.Capacity}
		for _, r := range busy {
			if r.overlaps(start, end) {
				s.Free--
			}
		}
		slots = append(slots, s)
	}
	return slots
}

// bookingWallClock is the instant at which the clocks in loc show date (a UTC
// midnight naming the day) plus minutes, and whether they ever show it. A
// time the clocks skip is read as the pre-change offset would have it, the
// instant the clocks jump past it (02:30 on US spring-forward night is
// 03:30 daylight time); a time they show twice is the first.
func bookingWallClock(loc *time.Location, date time.Time, minutes int) (time.Time, bool) {
	want := date.Add(time.Duration(minutes) * time.Minute)
	at := time.Date(want.Year(), want.Month(), want.Day(), want.Hour(), want.Minute(), 0, 0, loc)
	y, mo, dd := at.Date()
	if y == want.Year() && mo == want.Month() && dd == want.Day() && at.Hour() == want.Hour() && at.Minute() == want.Minute() {
		return at, true
	}
	// The offset a day before is the one before the change (zones do not
	// change twice in a day).
	_, before := want.Add(-24 * time.Hour).In(loc).Zone()
	return want.Add(-time.Duration(before) * time.Second).In(loc), false
}
