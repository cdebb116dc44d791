package lead

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The defaults of BookingSettings, which a zero field takes (WithDefaults).
const (
	DefaultSlotMinutes     = 60
	DefaultBookingCapacity = 1
	DefaultLeadTimeMinutes = 120
	DefaultDaysAhead       = 14
	DefaultLinkTTLHours    = 168
)

// Limits of BookingSettings. They keep the page short and the slot search
// small: at most 90 days of 5-minute slots.
const (
	MinSlotMinutes = 5
	// MinLeadTimeMinutes is the shortest lead time: a shop that wants none
	// sets 1, since 0 is the default of 120 (see LeadTimeMinutes).
	MinLeadTimeMinutes = 1
	MaxSlotMinutes     = 480
	MaxBookingCapacity = 50
	MaxLeadTimeMinutes = 7 * 24 * 60
	MaxDaysAhead       = 90
	MaxLinkTTLHours    = 90 * 24
)

// DefaultBookingHours are a shop's booking hours when it names none:
// Monday to Friday, 08:00 to 17:00. Read it, never change it (WithDefaults
// hands out copies).
var DefaultBookingHours = map[string]string{
	"mon": "08:00-17:00",
	"tue": "08:00-17:00",
	"wed": "08:00-17:00",
	"thu": "08:00-17:00",
	"fri": "08:00-17:00",
}

// bookingDays are the keys of BookingSettings.Hours, by time.Weekday.
var bookingDays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// bookingDayOrder is the order in which settings are checked and shown:
// the shop's week, Monday first.
var bookingDayOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// WithDefaults fills every zero field with its default, so that the slot
// search and the page read one complete value. Enabled and Holidays are
// kept as they are (off and none are their defaults). The hours are
// always a copy: changing them does not change b or DefaultBookingHours.
func (b BookingSettings) WithDefaults() BookingSettings {
	if len(b.Hours) == 0 {
		b.Hours = maps.Clone(DefaultBookingHours)
	} else {
		b.Hours = maps.Clone(b.Hours)
	}
	orDefault := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	orDefault(&b.SlotMinutes, DefaultSlotMinutes)
	orDefault(&b.Capacity, DefaultBookingCapacity)
	orDefault(&b.LeadTimeMinutes, DefaultLeadTimeMinutes)
	orDefault(&b.DaysAhead, DefaultDaysAhead)
	orDefault(&b.LinkTTLHours, DefaultLinkTTLHours)
	return b
}

// LeadTime is how soon a slot may start after the customer looks.
func (b BookingSettings) LeadTime() time.Duration {
	return time.Duration(b.WithDefaults().LeadTimeMinutes) * time.Minute
}

// LinkTTL is how long a booking link works after the message that carried
// it.
func (b BookingSettings) LinkTTL() time.Duration {
	return time.Duration(b.WithDefaults().LinkTTLHours) * time.Hour
}

// Validate checks the settings before they are saved and returns every
// problem at once, as errors.Join of *ValidationError, fields named like
// "booking.hours.mon" or "booking.holidays[2]". A zero field is its
// default and passes; switched-off settings are checked too, so that
// switching them on later cannot fail.
func (b BookingSettings) Validate() error {
	var p tenantProblems
	d := b.WithDefaults()
	slotOK := d.SlotMinutes >= MinSlotMinutes && d.SlotMinutes <= MaxSlotMinutes
	if !slotOK {
		p.bad("booking.slot_minutes", fmt.Sprintf("is %d minutes, must be between %d and %d", d.SlotMinutes, MinSlotMinutes, MaxSlotMinutes))
	}
	d.checkHours(&p, slotOK)
	checkRange(&p, "booking.capacity", d.Capacity, 1, MaxBookingCapacity, "appointments per slot")
	// 0 is the default (120), so the smallest lead time a shop can set is
	// 1: saying "between 0 and" would promise a zero that is not there.
	checkRange(&p, "booking.lead_time_minutes", d.LeadTimeMinutes, MinLeadTimeMinutes, MaxLeadTimeMinutes, "minutes")
	checkRange(&p, "booking.days_ahead", d.DaysAhead, 1, MaxDaysAhead, "days")
	for i, h := range d.Holidays {
		if at, err := time.Parse(time.DateOnly, h); err != nil || at.Format(time.DateOnly) != h {
			p.bad(fmt.Sprintf("booking.holidays[%d]", i), quote(h)+" is not a date in YYYY-MM-DD form, such as 2026-12-25")
		}
	}
	checkRange(&p, "booking.link_ttl_hours", d.LinkTTLHours, 1, MaxLinkTTLHours, "hours")
	return errors.Join(p.errs...)
}

// checkHours checks each day's window: a known weekday, a window that
// parses and ends after it starts, and (when the slot length is valid) is
// long enough for one slot.
func (b BookingSettings) checkHours(p *tenantProblems, slotOK bool) {
	keys := slices.Sorted(maps.Keys(b.Hours))
	slices.SortStableFunc(keys, func(x, y string) int { return dayRank(x) - dayRank(y) })
	for _, day := range keys {
		field := "booking.hours." + day
		if dayRank(day) == len(bookingDayOrder) {
			p.bad(field, quote(day)+" is not a weekday (use "+strings.Join(bookingDayOrder, ", ")+")")
			continue
		}
		w, err := parseBookingWindow(b.Hours[day])
		if err != nil {
			p.bad(field, err.Error())
			continue
		}
		if slotOK && int(w.End-w.Start) < b.SlotMinutes {
			p.bad(field, fmt.Sprintf("%s is shorter than one %d-minute slot", w, b.SlotMinutes))
		}
	}
}

// dayRank is a weekday key's place in the week, Monday first; unknown keys
// come last.
func dayRank(day string) int {
	if i := slices.Index(bookingDayOrder, day); i >= 0 {
		return i
	}
	return len(bookingDayOrder)
}

// parseBookingWindow reads one day's hours, "HH:MM-HH:MM" (24-hour clock,
// "24:00" for midnight at the end).
func parseBookingWindow(s string) (QuietHours, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("%s is not a window such as 08:00-17:00", quote(s))
	}
	start, err := ParseTimeOfDay(strings.TrimSpace(from))
	if err != nil {
		return QuietHours{}, fmt.Errorf("%s does not start at a time: %w", quote(s), err)
	}
	end, err := ParseTimeOfDay(strings.TrimSpace(to))
	if err != nil {
		return QuietHours{}, fmt.Errorf("%s does not end at a time: %w", quote(s), err)
	}
	w := QuietHours{Start: start, End: end}
	if start == 24*60 || end <= start {
		return QuietHours{}, fmt.Errorf("%s must end after it starts, within one day", quote(s))
	}
	return w, nil
}

// checkRange reports v outside [lo, hi], in unit.
func checkRange(p *tenantProblems, field string, v, lo, hi int, unit string) {
	if v < lo || v > hi {
		p.bad(field, fmt.Sprintf("is %d %s, must be between %d and %d", v, unit, lo, hi))
	}
}

// checkBooking checks the tenant's booking settings.
func (t Tenant) checkBooking(p *tenantProblems) {
	p.errs = append(p.errs, unjoin(t.Booking.Validate())...)
}
