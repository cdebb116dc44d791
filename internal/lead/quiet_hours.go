package lead

import (
	"fmt"
	"time"
)

// TimeOfDay is a wall-clock time in minutes after midnight, in whatever
// time zone its owner names.
type TimeOfDay int

// ParseTimeOfDay reads "HH:MM" (24-hour clock); "24:00" is the end of the
// day, so a window can run to midnight.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day in HH:MM form (24-hour clock)", s)
	}
	return TimeOfDay(t.Hour()*60 + t.Minute()), nil
}

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// QuietHours is the daily window in which texts may go out, in the shop's
// time zone: from Start (inclusive) to End (exclusive). Outside it texts
// wait for the next opening.
type QuietHours struct {
	Start TimeOfDay
	End   TimeOfDay
}

// DefaultQuietHours is 08:00 to 21:00, inside what US rules (TCPA: 8 a.m.
// to 9 p.m. at the recipient's location) allow.
var DefaultQuietHours = QuietHours{Start: 8 * 60, End: 21 * 60}

// AllDay is the whole day. With QuietRuleNone it lets texts go at any
// hour: test and demo fleets, which must run whenever they are started.
var AllDay = QuietHours{Start: 0, End: 24 * 60}

// IsZero reports whether the window is unset.
func (q QuietHours) IsZero() bool { return q == QuietHours{} }

func (q QuietHours) String() string { return q.Start.String() + "-" + q.End.String() }

// Validate checks the window: it must be non-empty and end after it starts
// on the same day.
func (q QuietHours) Validate() error {
	if q.Start < 0 || q.End > 24*60 || q.End <= q.Start {
		return fmt.Errorf("%s must start before it ends, within one day", q)
	}
	return nil
}
