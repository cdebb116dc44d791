package lead

import (
	"fmt"
	"time"
)

// MaxClosedDays bounds a shop's calendar of closed days: a year of them.
// It also bounds how far a follow-up can be pushed (each closed day it
// skips is a different date), so the search for the next open day ends.
const MaxClosedDays = 366

// ClosedDayLayout is how a closed day is written: an ISO 8601 date,
// "2026-12-25", read on the shop's wall clock.
const ClosedDayLayout = "2006-01-02"

// checkClosedDays checks the shop's calendar of closed days: each a real
// date written as YYYY-MM-DD, each once, at most MaxClosedDays.
func (t Tenant) checkClosedDays(p *tenantProblems) {
	days := t.Compliance.ClosedDays
	if len(days) > MaxClosedDays {
		p.bad("compliance.closed_days", fmt.Sprintf("has %d days, at most %d allowed", len(days), MaxClosedDays))
	}
	first := make(map[string]int, len(days))
	for i, d := range days {
		field := fmt.Sprintf("compliance.closed_days[%d]", i)
		if reason := closedDayProblem(d); reason != "" {
			p.bad(field, reason)
			continue
		}
		if j, seen := first[d]; seen {
			p.bad(field, fmt.Sprintf("%s is already closed_days[%d]: each day once", d, j))
			continue
		}
		first[d] = i
	}
}

// closedDayProblem says what is wrong with one closed day, "" when
// nothing is: not a date of the calendar ("2026-02-30"), or not in the
// one spelling a shop and an operator read alike (the round trip refuses
// any other that time.Parse lets through).
func closedDayProblem(d string) string {
	day, err := time.Parse(ClosedDayLayout, d)
	if err != nil || day.Format(ClosedDayLayout) != d {
		return fmt.Sprintf("%s is not a date written YYYY-MM-DD (such as 2026-12-25)", quote(d))
	}
	return ""
}

// HoldsOnClosedDays reports whether step waits out the shop's closed
// days. Every follow-up does, text or email ("no follow-up goes out"):
// a shop that is closed cannot answer what its follow-ups start. The
// first answer to a new inquiry (the initial step, and the text to a
// caller whose call was missed, which is the same thing by phone) goes
// only when the shop chose AnswerOnClosedDays. What the customer asked
// for, or what answers the customer, goes whatever the day: a HELP answer,
// an opt-out's confirmation, the shop's own answer to a text, a booking's
// confirmation; so do notices to the shop itself.
func (c Compliance) HoldsOnClosedDays(step Step) bool {
	_, shopAnswer := step.ShopAnswerInbound()
	switch {
	case step.IsHelpAnswer(), step.IsOptOutConfirmation(), shopAnswer, step.IsBookingText(), step.IsNotice():
		return false
	case step.IsInitial(), step.IsMissedCallText():
		return !c.AnswerOnClosedDays
	}
	return true
}

// ClosedCalendar is a shop's closed days on its own wall clock: a closed
// day is closed from its midnight to the next, in the shop's time zone,
// whatever the UTC offset does in between.
type ClosedCalendar struct {
	loc  *time.Location
	days map[string]struct{}
}

// NewClosedCalendar reads c's closed days in the shop's time zone. A day
// that does not parse is an error naming it (a tenant row edited by
// hand: Validate refuses it on save); the send path cancels rather than
// guess.
func (c Compliance) NewClosedCalendar(loc *time.Location) (ClosedCalendar, error) {
	if loc == nil {
		return ClosedCalendar{}, &ValidationError{Field: "time_zone", Reason: "is required to read closed days"}
	}
	cal := ClosedCalendar{loc: loc, days: make(map[string]struct{}, len(c.ClosedDays))}
	for i, d := range c.ClosedDays {
		if reason := closedDayProblem(d); reason != "" {
			return ClosedCalendar{}, &ValidationError{Field: fmt.Sprintf("compliance.closed_days[%d]", i), Reason: reason}
		}
		cal.days[d] = struct{}{}
	}
	return cal, nil
}

// IsClosed reports whether instant t falls on a closed day of the shop's
// wall clock.
func (cal ClosedCalendar) IsClosed(t time.Time) bool {
	if len(cal.days) == 0 {
		return false
	}
	_, closed := cal.days[t.In(cal.loc).Format(ClosedDayLayout)]
	return closed
}

// NextOpenDay returns t when it falls on an open day, else the first
// instant of the next open day (its midnight on the shop's clock, or the
// first instant after a clock change that skips midnight).
func (cal ClosedCalendar) NextOpenDay(t time.Time) time.Time {
	// Each pass skips one closed day, a different date each time.
	for range len(cal.days) + 1 {
		if !cal.IsClosed(t) {
			return t
		}
		t = startOfNextDay(t, cal.loc)
	}
	return t
}

// NextOpening returns the first instant at or after t at which a text may
// go out under window w on an open day: t itself when w allows it and t's
// day is open. A closed day closes the window all day, so a text due on
// one goes at the window's opening on the next open day. Its errors are
// w.NextOpening's.
func (cal ClosedCalendar) NextOpening(w opener, t time.Time) (time.Time, error) {
	for range len(cal.days) + 1 {
		next, err := w.NextOpening(t)
		if err != nil || !cal.IsClosed(next) {
			return next, err
		}
		t = startOfNextDay(next, cal.loc)
	}
	// Unreachable: every pass skipped a different closed day.
	return time.Time{}, fmt.Errorf("send window %s after %s with %d closed days: %w", w, t.In(cal.loc).Format(time.RFC3339), len(cal.days), ErrWindowNeverOpens)
}

// startOfNextDay is the first instant whose wall clock in loc reads the
// day after t's. That is midnight, except where the clocks spring forward
// at midnight (America/Havana, Asia/Beirut): there midnight does not
// exist, time.Date may answer an instant still on t's day, and the day
// begins when the new offset does.
func startOfNextDay(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	y, m, d := local.Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	if ny, nm, nd := next.Date(); time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC).Before(time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)) {
		_, zoneEnd := next.ZoneBounds()
		next = zoneEnd
	}
	return next
}

// opener is a window that says when it next opens: SendWindow, or
// TextWindow (the shop's and the customer's together).
type opener interface {
	NextOpening(t time.Time) (time.Time, error)
	String() string
}

// NextSendTime is when step may go out to customer to, at or after now:
// now itself when nothing holds it. A text waits for the shop's sending
// window and for the legal hours where the customer is (TextWindow); a step
// that HoldsOnClosedDays also waits out the shop's closed days (an email
// to the first instant of the next open day, as email keeps no hours; a
// text to the window's opening that day). Its errors name the setting
// that is wrong or wrap ErrWindowNeverOpens.
func (t Tenant) NextSendTime(step Step, to Recipient, now time.Time) (time.Time, error) {
	held := t.Compliance.HoldsOnClosedDays(step)
	if step.Channel != ChannelSMS {
		if !held {
			return now, nil
		}
		loc, err := t.Location()
		if err != nil {
			return time.Time{}, err
		}
		cal, err := t.Compliance.NewClosedCalendar(loc)
		if err != nil {
			return time.Time{}, err
		}
		return cal.NextOpenDay(now), nil
	}
	w, err := t.TextWindow(to)
	if err != nil {
		return time.Time{}, fmt.Errorf("the sending window is invalid: %w", err)
	}
	cal := ClosedCalendar{loc: w.Shop.Location}
	if held {
		if cal, err = t.Compliance.NewClosedCalendar(w.Shop.Location); err != nil {
			return time.Time{}, err
		}
	}
	return cal.NextOpening(w, now)
}

// OpenBetween is how much of [a, b) window w was open on open days:
// w.OpenBetween less what of it fell on closed days. It walks the days
// from a's to b's, so its cost is the span's length in days.
func (cal ClosedCalendar) OpenBetween(w SendWindow, a, b time.Time) time.Duration {
	open := w.OpenBetween(a, b)
	if len(cal.days) == 0 || !b.After(a) {
		return open
	}
	for day := a; day.Before(b); {
		next := startOfNextDay(day, cal.loc)
		if cal.IsClosed(day) {
			end := b
			if next.Before(b) {
				end = next
			}
			open -= w.OpenBetween(day, end)
		}
		day = next
	}
	return open
}

// FirstTextOpenBetween is how much of [a, b) the shop's first text to a
// new inquiry could have gone out: its sending window, on open days
// unless it answers on closed days. The speed-to-lead report counts a
// lead that came in on Christmas Eve at 20:55 and was texted on the 26th
// at 08:00 as five minutes: the shop chose not to text sooner.
func (t Tenant) FirstTextOpenBetween(a, b time.Time) (time.Duration, error) {
	w, err := t.SendWindow()
	if err != nil {
		return 0, err
	}
	cal := ClosedCalendar{loc: w.Location}
	if t.Compliance.HoldsOnClosedDays(Step{Name: StepInitial, Channel: ChannelSMS}) {
		if cal, err = t.Compliance.NewClosedCalendar(w.Location); err != nil {
			return 0, err
		}
	}
	return cal.OpenBetween(w, a, b), nil
}
