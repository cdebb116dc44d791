package lead

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// QuietRule is a legal sending window a tenant opts into on top of its own
// QuietHours. US law sets the hours by where the recipient is, and some
// states are stricter than the federal TCPA window; a shop whose customers
// live in one of them picks its state so that no text goes out at an hour
// the law forbids, whatever hours the shop itself typed in.
type QuietRule string

// The rules we know. The empty rule is the federal one: no tenant can send
// outside 08:00-21:00 by forgetting to choose.
const (
	// QuietRuleFederal is the TCPA window: 08:00-21:00 every day.
	QuietRuleFederal QuietRule = "federal"
	// QuietRuleFlorida: 08:00-20:00 every day.
	QuietRuleFlorida QuietRule = "FL"
	// QuietRuleOklahoma: 08:00-20:00 every day.
	QuietRuleOklahoma QuietRule = "OK"
	// QuietRuleMaryland: 08:00-20:00 every day.
	QuietRuleMaryland QuietRule = "MD"
	// QuietRuleConnecticut: 09:00-20:00 every day.
	QuietRuleConnecticut QuietRule = "CT"
	// QuietRuleTexas: 09:00-21:00 Monday to Saturday, 12:00-21:00 on
	// Sunday (Bus. & Com. Code 301.051: not before 9 a.m. on a weekday or
	// Saturday, nor before noon on Sunday, nor after 9 p.m.).
	QuietRuleTexas QuietRule = "TX"
	// QuietRuleNone adds nothing to the shop's own hours: for shops whose
	// customers no such law covers, and for test and demo fleets that must
	// run at any hour. The shop answers for choosing it; nobody gets it by
	// default.
	QuietRuleNone QuietRule = "none"
)

// KnownQuietRules lists every rule Validate accepts besides the empty one
// (federal), for error messages and CLI help.
func KnownQuietRules() []QuietRule {
	return []QuietRule{QuietRuleFederal, QuietRuleFlorida, QuietRuleOklahoma, QuietRuleMaryland, QuietRuleConnecticut, QuietRuleTexas, QuietRuleNone}
}

// HoursOn returns the hours the rule allows on weekday d, which is a
// weekday in the recipient's (here the shop's) time zone; ok is false for a
// rule we do not know, so that callers fail closed.
func (r QuietRule) HoursOn(d time.Weekday) (hours QuietHours, ok bool) {
	switch r {
	case "", QuietRuleFederal:
		return QuietHours{Start: 8 * 60, End: 21 * 60}, true
	case QuietRuleFlorida, QuietRuleOklahoma, QuietRuleMaryland:
		return QuietHours{Start: 8 * 60, End: 20 * 60}, true
	case QuietRuleConnecticut:
		return QuietHours{Start: 9 * 60, End: 20 * 60}, true
	case QuietRuleNone:
		return QuietHours{Start: 0, End: 24 * 60}, true
	case QuietRuleTexas:
		if d == time.Sunday {
			return QuietHours{Start: 12 * 60, End: 21 * 60}, true
		}
		return QuietHours{Start: 9 * 60, End: 21 * 60}, true
	}
	return QuietHours{}, false
}

// Validate refuses a rule we do not know, naming it and the ones we do, so
// that a typo ("TEXAS") is caught when the tenant is saved rather than
// silently meaning "never send".
func (r QuietRule) Validate() error {
	if _, ok := r.HoursOn(time.Monday); ok {
		return nil
	}
	known := make([]string, 0, len(KnownQuietRules()))
	for _, k := range KnownQuietRules() {
		known = append(known, string(k))
	}
	return fmt.Errorf("quiet rule %s is not known (known: %s; empty means federal)", quote(string(r)), strings.Join(known, ", "))
}

// String names the rule as operators know it; the empty rule reads as
// "federal", which is what it means.
func (r QuietRule) String() string {
	if r == "" {
		return string(QuietRuleFederal)
	}
	return string(r)
}

// describe says which hours the rule allows, for error messages:
// "08:00-21:00, Sunday 12:00-21:00".
func (r QuietRule) describe() string {
	return describeWeek(r.HoursOn)
}

// ErrWindowNeverOpens is what NextOpening wraps when the window does not
// open within its search horizon. A job that meets it should stop (cancel
// and record why) rather than snooze: no retry will find an opening.
var ErrWindowNeverOpens = errors.New("the send window does not open within 8 days")

// openingSearchDays bounds NextOpening. A valid window opens on at least one
// weekday, so a week after the day we start on always contains an opening;
// the eighth day covers starting just after that weekday's window closed.
const openingSearchDays = 8

// SendWindow is when a text may go out to a tenant's customers: the shop's
// own daily hours intersected with its legal rule for each weekday, read
// on the wall clock of the shop's time zone. Send jobs ask Allows and, when
// it says no, snooze until NextOpening.
type SendWindow struct {
	// Hours are the shop's own daily hours; zero means DefaultQuietHours.
	Hours QuietHours
	// Rule is the legal window; empty means federal.
	Rule QuietRule
	// Location is the shop's time zone; the window is its wall clock.
	Location *time.Location
}

// NewSendWindow builds a tenant's window from its settings, loading the
// time zone and validating the whole, so a job gets either a window that
// opens or an error that names what is wrong.
func NewSendWindow(hours QuietHours, rule QuietRule, timeZone string) (SendWindow, error) {
	w := SendWindow{Hours: hours, Rule: rule}
	if timeZone != "" && timeZone != "Local" {
		loc, err := time.LoadLocation(timeZone)
		if err != nil {
			return SendWindow{}, &ValidationError{Field: "time_zone", Reason: quote(timeZone) + " is not a known IANA time zone (such as America/New_York)"}
		}
		w.Location = loc
	}
	if err := w.Validate(); err != nil {
		return SendWindow{}, err
	}
	return w, nil
}

func (w SendWindow) hours() QuietHours {
	if w.Hours.IsZero() {
		return DefaultQuietHours
	}
	return w.Hours
}

// String describes the window for errors and logs: "08:00-21:00 (TX rule)
// in America/Chicago".
func (w SendWindow) String() string {
	loc := "no time zone"
	if w.Location != nil {
		loc = w.Location.String()
	}
	return fmt.Sprintf("%s (%s rule) in %s", w.hours(), w.Rule, loc)
}

// Validate returns every problem at once as errors.Join of
// *ValidationError, named by the tenant setting each comes from
// (time_zone, quiet_hours, quiet_rule). Beyond each part on its own, it
// refuses hours that never overlap the rule on any weekday: such a tenant
// could never text anyone, which is a mistake, not a policy. A window that
// is empty on some weekdays only (08:00-11:00 under the Texas rule on
// Sunday) is fine: the shop simply does not text that day.
func (w SendWindow) Validate() error {
	var errs []error
	bad := func(field, reason string) {
		errs = append(errs, &ValidationError{Field: field, Reason: reason})
	}
	if w.Location == nil {
		bad("time_zone", "is required (an IANA name such as America/New_York, not Local)")
	}
	hours := w.hours()
	hoursErr := hours.Validate()
	if hoursErr != nil {
		bad("quiet_hours", hoursErr.Error())
	}
	ruleErr := w.Rule.Validate()
	if ruleErr != nil {
		bad("quiet_rule", ruleErr.Error())
	}
	if hoursErr == nil && ruleErr == nil && !w.opensOnSomeWeekday() {
		bad("quiet_hours", fmt.Sprintf("%s never overlaps the %s rule (%s): texts could never go out", hours, w.Rule, w.Rule.describe()))
	}
	return errors.Join(errs...)
}

func (w SendWindow) opensOnSomeWeekday() bool {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if _, ok := w.HoursOn(d); ok {
			return true
		}
	}
	return false
}

// Describe says which hours texts may go out, day by day, as the shop
// reads it: "09:00-20:00 every day" or "08:00-21:00, Sunday 12:00-21:00".
// Unlike String it shows what the rule leaves of the shop's hours.
func (w SendWindow) Describe() string { return describeWeek(w.HoursOn) }

// HoursOn returns the effective window on weekday d: the shop's hours
// intersected with the rule's. ok is false when they do not overlap that
// day, or when the hours or the rule are invalid (so an invalid window
// never allows anything).
func (w SendWindow) HoursOn(d time.Weekday) (hours QuietHours, ok bool) {
	own := w.hours()
	legal, known := w.Rule.HoursOn(d)
	if !known || own.Validate() != nil {
		return QuietHours{}, false
	}
	hours = QuietHours{Start: max(own.Start, legal.Start), End: min(own.End, legal.End)}
	return hours, hours.End > hours.Start
}

// Allows reports whether a text may go out at instant t: whether the wall
// clock in the shop's time zone then reads inside that day's window. A
// window without a location or with an unknown rule allows nothing.
func (w SendWindow) Allows(t time.Time) bool {
	if w.Location == nil {
		return false
	}
	return allows(t, w.Location, w.HoursOn)
}

// NextOpening returns the first instant at or after t at which a text may
// go out: t itself when Allows(t), else the start of the next window, read
// on the shop's wall clock. An opening whose wall-clock time does not exist
// that day (a window starting at 02:30 when the clocks spring from 02:00 to
// 03:00) is the first instant after the gap. It looks at most 8 days ahead
// and returns an error wrapping ErrWindowNeverOpens when nothing opens, and
// a *ValidationError when the window is invalid; it never loops forever.
func (w SendWindow) NextOpening(t time.Time) (time.Time, error) {
	if err := w.Validate(); err != nil {
		return time.Time{}, fmt.Errorf("send window %s: %w", w, err)
	}
	if next, ok := nextOpening(t, w.Location, w.HoursOn); ok {
		return next, nil
	}
	return time.Time{}, fmt.Errorf("send window %s after %s: %w", w, t.In(w.Location).Format(time.RFC3339), ErrWindowNeverOpens)
}

// hoursOnFunc gives a window's hours per weekday; ok false means closed.
type hoursOnFunc func(time.Weekday) (QuietHours, bool)

// wallClock returns the wall-clock reading of t in its own location as a
// zone-less (UTC) time. Calendar arithmetic on it (the next day, 08:00 of
// that day) is done with time.Date and is exact: UTC days are all 24
// hours long, whereas days in the shop's zone are 23 or 25 hours twice a
// year.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func minutes(tod TimeOfDay) time.Duration { return time.Duration(tod) * time.Minute }

func allows(t time.Time, loc *time.Location, hoursOn hoursOnFunc) bool {
	wall := wallClock(t.In(loc))
	hours, ok := hoursOn(wall.Weekday())
	if !ok {
		return false
	}
	midnight := time.Date(wall.Year(), wall.Month(), wall.Day(), 0, 0, 0, 0, time.UTC)
	since := wall.Sub(midnight)
	return since >= minutes(hours.Start) && since < minutes(hours.End)
}

// nextOpening finds the first instant >= t whose wall clock in loc reads
// inside the window. It walks the zone periods of loc (Time.ZoneBounds):
// within one period the UTC offset is fixed, so the wall clock moves in step
// with real time and the first opening of the period is found by calendar
// arithmetic on the wall clock. An opening the period does not reach
// (because the clocks change first) is looked for again in the next period
// under its new offset. That gives the right answer when a wall-clock time
// does not exist (spring forward: the first instant after the gap) or
// happens twice (fall back: the hour repeats, and so may the window).
func nextOpening(t time.Time, loc *time.Location, hoursOn hoursOnFunc) (time.Time, bool) {
	if allows(t, loc, hoursOn) {
		return t, true
	}
	local := t.In(loc)
	limit := time.Date(local.Year(), local.Month(), local.Day()+openingSearchDays, local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), loc)
	from := local
	for from.Before(limit) {
		_, zoneEnd := from.ZoneBounds()
		if next, ok := openingInZone(from, zoneEnd, hoursOn); ok {
			if next.After(limit) {
				return time.Time{}, false
			}
			return next, true
		}
		if zoneEnd.IsZero() {
			return time.Time{}, false
		}
		from = zoneEnd
	}
	return time.Time{}, false
}

// openingInZone returns the first instant in [from, zoneEnd) whose wall
// clock is inside the window, assuming from's UTC offset holds throughout
// (a zero zoneEnd means it holds for ever).
func openingInZone(from, zoneEnd time.Time, hoursOn hoursOnFunc) (time.Time, bool) {
	wall := wallClock(from)
	for i := 0; i <= openingSearchDays; i++ {
		day := time.Date(wall.Year(), wall.Month(), wall.Day()+i, 0, 0, 0, 0, time.UTC)
		hours, ok := hoursOn(day.Weekday())
		if !ok {
			continue
		}
		open, closes := day.Add(minutes(hours.Start)), day.Add(minutes(hours.End))
		if !wall.Before(closes) {
			continue
		}
		wait := time.Duration(0)
		if wall.Before(open) {
			wait = open.Sub(wall)
		}
		next := from.Add(wait)
		if !zoneEnd.IsZero() && !next.Before(zoneEnd) {
			return time.Time{}, false
		}
		return next, true
	}
	return time.Time{}, false
}

// describeWeek says which hours a window allows, the Monday hours first
// and the weekdays that differ after them: "08:00-21:00, Sunday
// 12:00-21:00".
func describeWeek(hoursOn hoursOnFunc) string {
	show := func(d time.Weekday) string {
		if h, ok := hoursOn(d); ok {
			return h.String()
		}
		return "closed"
	}
	base := show(time.Monday)
	parts := []string{base}
	for _, d := range []time.Weekday{time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		if s := show(d); s != base {
			parts = append(parts, d.String()+" "+s)
		}
	}
	if len(parts) == 1 {
		return base + " every day"
	}
	return strings.Join(parts, ", ")
}
