package shopmonkey

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// calendarEpoch is the lower bound of the startDate window that finds the
// appointments which began before a listing's from and still run. Bare
// operators need both bounds in this package's lister; the endDate filter
// keeps that window small whatever its width.
var calendarEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// bookedAppointment is the part of a ShopMonkey appointment the calendar
// reads.
type bookedAppointment struct {
	ID         string
	LocationID string
	CustomerID string
	Name       string
	Note       string
	Start      time.Time
	End        time.Time
	Gone       bool
}

// decodeBookedAppointment reads an appointment as the calendar needs it.
// Whether ShopMonkey marks a cancelled appointment with "deleted",
// "canceled" or "cancelled" is not documented, so any of them set leaves
// it out. customerId is optional: a staff block need not have one.
func decodeBookedAppointment(raw json.RawMessage) (bookedAppointment, error) {
	d := newRecordDecoder(kindAppointment, raw)
	a := bookedAppointment{
		ID:         d.id("id"),
		LocationID: d.requiredText("locationId"),
		CustomerID: d.optionalID("customerId"),
		Name:       d.text("name"),
		Note:       d.text("note"),
		Start:      d.timestamp("startDate"),
		End:        d.timestamp("endDate"),
		Gone:       d.boolean("deleted") || d.boolean("canceled") || d.boolean("cancelled"),
	}
	return a, d.problem()
}

// ListAppointments lists the location's appointments overlapping
// [from, to): startDate before to and endDate after from. It lists two
// startDate windows with the endDate filter, those that began before from
// and those that begin in [from, to), each split until under the page cap
// as polls are, and asks a window again when it held fewer rows than
// meta.total counts, because a missed booking is a double booking. Every
// condition is checked again on each row. A malformed appointment fails
// the listing, naming its field: leaving it out could hide a taken bay.
func (a *Adapter) ListAppointments(ctx context.Context, from, to time.Time) ([]crm.BookedAppointment, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("error listing appointments: window [%s, %s) is empty", formatTime(from), formatTime(to))
	}
	l := &windowLister{
		adapter: a, path: "/v3/appointment", field: "startDate", exact: true, seen: map[string]bool{},
		filter: map[string]any{"endDate": map[string]string{"gt": formatTime(from)}},
	}
	if from.After(calendarEpoch) {
		if err := l.list(ctx, calendarEpoch, from); err != nil {
			return nil, fmt.Errorf("error listing appointments running at %s: %w", formatTime(from), err)
		}
	}
	if err := l.list(ctx, from, to); err != nil {
		return nil, fmt.Errorf("error listing appointments in [%s, %s): %w", formatTime(from), formatTime(to), err)
	}
	out := make([]crm.BookedAppointment, 0, len(l.rows))
	for _, raw := range l.rows {
		ap, err := decodeBookedAppointment(raw)
		if err != nil {
			return nil, fmt.Errorf("error listing appointments: %w", err)
		}
		if ap.Gone || ap.LocationID != a.locationID || !ap.Start.Before(to) || !ap.End.After(from) {
			continue
		}
		out = append(out, crm.BookedAppointment{
			ID: ap.ID, CustomerID: ap.CustomerID, Start: ap.Start, End: ap.End,
			Text: strings.TrimSpace(ap.Name + "\n" + ap.Note),
		})
	}
	slices.SortFunc(out, func(x, y crm.BookedAppointment) int {
		return cmp.Or(x.Start.Compare(y.Start), strings.Compare(x.ID, y.ID))
	})
	return out, nil
}
