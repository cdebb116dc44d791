package tekmetric

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// calendarLookBack widens a listing's start parameter: whether Tekmetric's
// start and end bound an appointment's start or any overlap is not
// documented, so an appointment that began up to this long before from and
// still runs is asked for too, and overlap is checked on the client.
const calendarLookBack = 24 * time.Hour

// var _ checks Client edits appointments as well as booking them.
var _ crm.AppointmentEditor = (*Client)(nil)

// bookedAppointment is the part of a Tekmetric appointment the calendar
// reads.
type bookedAppointment struct {
	ID          int64
	ShopID      int64
	CustomerID  int64
	Title       string
	Description string
	Start       time.Time
	End         time.Time
	Gone        bool
}

// decodeBookedAppointment reads an appointment as the calendar needs it.
// Times without an offset are the shop's wall-clock time. customerId is
// optional: a staff block need not have one.
func (c *Client) decodeBookedAppointment(raw json.RawMessage) (bookedAppointment, error) {
	var v struct {
		ShopID            int64  `json:"shopId"`
		CustomerID        int64  `json:"customerId"`
		Title             string `json:"title"`
		Description       string `json:"description"`
		StartTime         string `json:"startTime"`
		EndTime           string `json:"endTime"`
		DeletedDate       string `json:"deletedDate"`
		AppointmentStatus string `json:"appointmentStatus"`
	}
	var head struct {
		ID int64 `json:"id"`
	}
	chk := decodeRecord("appointment", raw, &head, &v)
	status := strings.ToUpper(strings.TrimSpace(v.AppointmentStatus))
	ap := bookedAppointment{
		ID:          head.ID,
		ShopID:      v.ShopID,
		CustomerID:  v.CustomerID,
		Title:       chk.text("title", v.Title),
		Description: chk.text("description", v.Description),
		Start:       chk.time("startTime", v.StartTime, c.location, true),
		End:         chk.time("endTime", v.EndTime, c.location, true),
		Gone: !chk.time("deletedDate", v.DeletedDate, c.location, false).IsZero() ||
			status == "CANCELED" || status == "CANCELLED",
	}
	return ap, chk.problem()
}

// ListAppointments lists the shop's appointments overlapping [from, to):
// every page of GET /api/v1/appointments with start and end (start widened
// by calendarLookBack), each row once, deleted and cancelled ones left out
// and overlap checked on each row. A malformed appointment fails the
// listing, naming its field: leaving it out could hide a taken bay.
func (c *Client) ListAppointments(ctx context.Context, from, to time.Time) ([]crm.BookedAppointment, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("error listing appointments for shop %d: window [%s, %s) is empty", c.shopID, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
	q := url.Values{}
	q.Set("shop", strconv.FormatInt(c.shopID, 10))
	q.Set("start", formatTime(from.Add(-calendarLookBack).Truncate(time.Second)))
	end := to.Truncate(time.Second)
	if end.Before(to) {
		end = end.Add(time.Second)
	}
	q.Set("end", formatTime(end))
	rows, err := c.listAll(ctx, "/api/v1/appointments", q)
	if err != nil {
		return nil, fmt.Errorf("error listing appointments for shop %d: %w", c.shopID, err)
	}
	out := make([]crm.BookedAppointment, 0, len(rows))
	for _, raw := range rows {
		ap, err := c.decodeBookedAppointment(raw)
		if err != nil {
			return nil, fmt.Errorf("error listing appointments for shop %d: %w", c.shopID, err)
		}
		if ap.Gone || ap.ShopID != c.shopID || !ap.Start.Before(to) || !ap.End.After(from) {
			continue
		}
		out = append(out, crm.BookedAppointment{
			ID: strconv.FormatInt(ap.ID, 10), CustomerID: optionalID(ap.CustomerID), Start: ap.Start, End: ap.End,
			Text: strings.TrimSpace(ap.Title + "\n" + ap.Description),
		})
	}
	slices.SortFunc(out, func(x, y crm.BookedAppointment) int {
		return cmp.Or(x.Start.Compare(y.Start), cmp.Compare(len(x.ID), len(y.ID)), strings.Compare(x.ID, y.ID))
	})
	return out, nil
}

// appointmentID reads the id of an appointment to edit.
func appointmentID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, &lead.ValidationError{Field: "appointment.id", Reason: fmt.Sprintf("%q is not a Tekmetric id", id)}
	}
	return n, nil
}

// MoveAppointment gives appointment id the times of appt (PATCH with
// startTime and endTime only, so its other fields stay). Patching the
// times it has already is no error, so a retry is safe.
func (c *Client) MoveAppointment(ctx context.Context, id string, appt crm.Appointment) error {
	n, err := appointmentID(id)
	if err != nil {
		return err
	}
	switch {
	case appt.Start.IsZero():
		return &lead.ValidationError{Field: "appointment.start", Reason: "is not set"}
	case !appt.End.After(appt.Start):
		return &lead.ValidationError{Field: "appointment.end", Reason: "must be after start"}
	}
	body := map[string]any{"startTime": formatTime(appt.Start), "endTime": formatTime(appt.End)}
	if _, err := c.do(ctx, http.MethodPatch, "/api/v1/appointments/"+strconv.FormatInt(n, 10), nil, body); err != nil {
		return fmt.Errorf("error moving appointment %d at shop %d: %w", n, c.shopID, err)
	}
	return nil
}

// CancelAppointment deletes appointment id. One that is already gone
// (404) is no error, so a retry is safe.
func (c *Client) CancelAppointment(ctx context.Context, id string) error {
	n, err := appointmentID(id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, "/api/v1/appointments/"+strconv.FormatInt(n, 10), nil, nil)
	if err != nil && !errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("error cancelling appointment %d at shop %d: %w", n, c.shopID, err)
	}
	return nil
}
