package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// The shop's calendar as the booking desk and jobs see it: the CRM's
// appointments, read through the tenant's adapter, and our own bookings
// the CRM does not list (yet). Both count against a slot's capacity.

// calendarReading is what the CRM listed of a window, and when: a booking
// recorded since may be missing from it.
type calendarReading struct {
	listed []crm.BookedAppointment
	at     time.Time
}

// recentlyBooked is how long after a booking its appointment may be
// missing from a reading of the calendar (a reading older than the
// booking, a CRM whose list lags its create): that long, our own row holds
// its place.
const recentlyBooked = time.Minute

// busyTimes is the busy time in [from, to): every appointment the CRM
// lists there, and every live booking of ours it does not list (recorded,
// or being created, or ambiguous: it may take its place any moment), and
// the target of every move under way. self (nil for none) is left out
// entirely, its booking and its CRM appointment: a booking's own job, or a
// move of it, must not find its own place taken.
func busyTimes(ctx context.Context, st *store.Store, t lead.Tenant, a crm.Adapter, from, to time.Time, self *store.BookingRecord) ([]lead.TimeRange, error) {
	at := time.Now()
	listed, err := a.ListAppointments(ctx, from, to)
	if err != nil {
		return nil, err
	}
	ours, err := st.LiveBookingTimes(ctx, t.ID, from, to)
	if err != nil {
		return nil, err
	}
	return mergeBusy(calendarReading{listed: listed, at: at}, ours, self), nil
}

// mergeBusy is busyTimes of a reading of the CRM's calendar and our live
// bookings, each appointment counted once.
func mergeBusy(cal calendarReading, ours []store.BookingRecord, self *store.BookingRecord) []lead.TimeRange {
	var busy []lead.TimeRange
	crmIDs := map[string]bool{}
	for _, ap := range cal.listed {
		if self != nil && (ap.ID == self.CRMAppointmentID || (self.Ref != "" && strings.Contains(ap.Text, self.Ref))) {
			continue
		}
		crmIDs[ap.ID] = true
		busy = append(busy, lead.TimeRange{Start: ap.Start, End: ap.End})
	}
	for _, b := range ours {
		if self != nil && b.ID == self.ID {
			continue
		}
		if b.Change == lead.BookingMove && b.ChangeState == lead.ChangeRequested {
			busy = append(busy, lead.TimeRange{Start: b.ChangeStart, End: b.ChangeEnd})
		}
		if !inCRM(b, cal, crmIDs) {
			busy = append(busy, lead.TimeRange{Start: b.Start, End: b.End})
		}
	}
	return busy
}

// inCRM reports whether the reading already holds booking b (by its id
// there, or by our marker in its text while the id is not recorded yet).
// A booking booked well before the reading that the CRM no longer lists
// (the shop deleted it) counts as in it: the CRM is the truth about booked
// appointments, so it holds no place.
func inCRM(b store.BookingRecord, cal calendarReading, ids map[string]bool) bool {
	if b.CRMAppointmentID != "" && ids[b.CRMAppointmentID] {
		return true
	}
	if slices.ContainsFunc(cal.listed, func(ap crm.BookedAppointment) bool { return strings.Contains(ap.Text, b.Ref) }) {
		return true
	}
	return b.State == lead.BookingBooked && b.BookedAt.Before(cal.at.Add(-recentlyBooked))
}

// ourAppointment is the CRM appointment booking b made, found by what a
// retry after a lost answer knows: the same customer, the same start and
// our marker in its text.
func ourAppointment(listed []crm.BookedAppointment, customerID string, b store.BookingRecord) (crm.BookedAppointment, bool) {
	for _, ap := range listed {
		if ap.CustomerID == customerID && ap.Start.Equal(b.Start) && strings.Contains(ap.Text, b.Ref) {
			return ap, true
		}
	}
	return crm.BookedAppointment{}, false
}

// placesTaken counts the busy ranges that overlap [start, end).
func placesTaken(busy []lead.TimeRange, start, end time.Time) int {
	n := 0
	for _, r := range busy {
		if r.Start.Before(end) && start.Before(r.End) {
			n++
		}
	}
	return n
}

// appointmentTitle is what the shop's calendar calls an online booking:
// the customer's request, bounded.
func appointmentTitle(l lead.Lead) string {
	const maxTitle = 80
	title := "Online booking"
	if s := strings.Join(strings.Fields(l.Summary), " "); s != "" {
		title += ": " + s
	}
	if r := []rune(title); len(r) > maxTitle {
		title = string(r[:maxTitle-1]) + "…"
	}
	return title
}

// shopLocation is the tenant's time zone (saved settings are checked, so
// an error is a row edited by hand).
func shopLocation(t lead.Tenant) (*time.Location, error) {
	loc, err := t.Location()
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	return loc, nil
}
