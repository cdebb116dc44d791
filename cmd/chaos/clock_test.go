package main

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestCastClockAtEveryHour: whenever a run starts (every half hour of a
// day, in winter and in summer), the clock shop gets a customer whose
// window stays closed through the run and the checks after it, and one
// whose window stays open, each checked minute by minute; so the chaos
// check of the customer's clock never has nothing to judge.
func TestCastClockAtEveryHour(t *testing.T) {
	t.Parallel()
	const span = 10*time.Minute + 5*time.Minute + time.Hour
	for _, day := range []time.Time{time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 14, 0, 0, 0, 0, time.UTC)} {
		for start := day; start.Before(day.Add(24 * time.Hour)); start = start.Add(30 * time.Minute) {
			zone, err := middayZone(start)
			require.NoError(t, err)
			shop := lead.Tenant{Name: "clock", TimeZone: zone.String(), QuietHours: lead.AllDay, QuietRule: lead.QuietRuleFederal,
				Compliance: lead.Compliance{PhoneRegions: clockRegions}}
			cast, err := castClock(shop, start, span)
			require.NoError(t, err)
			require.NotEmpty(t, cast.night, "a customer at night at %s", start)
			require.NotEmpty(t, cast.day, "a customer at midday at %s", start)
			for _, c := range []struct {
				tpl   string
				state string
				open  bool
			}{{cast.night, "", false}, {cast.day, "", true}, {cast.day, cast.nightState, false}} {
				if c.state == "" && c.tpl == cast.day && !c.open {
					continue // no state at night at this hour
				}
				number, err := lead.ParsePhoneNumberIn(fmtNumber(c.tpl), clockRegions)
				require.NoError(t, err)
				region := ""
				if c.state != "" {
					sub, err := lead.ParseSubdivision(c.state, "")
					require.NoError(t, err)
					region = sub.Code
				}
				w, err := shop.TextWindow(lead.RecipientOf(region, number))
				require.NoError(t, err)
				for at := start; !at.After(start.Add(span)); at = at.Add(time.Minute) {
					require.Equal(t, c.open, w.Allows(at), "%s %s at %s", number, c.state, at)
				}
			}
		}
	}
}

func fmtNumber(tpl string) string { return fmt.Sprintf(tpl, 7) }
