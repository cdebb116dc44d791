package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// The messages a booking sends: the shop's notice (notify_shop, reason
// NoticeBooking) and the customer's confirmation text (send_sms, step
// lead.BookingTextStep). Both are composed when they run, from the booking
// as it stands, and both go through the outbox like every message.

// NoticeBooking is the reason of a notice about a booking, its move or its
// cancel; the notice's event is bookingEvent.
const NoticeBooking = "booking"

// bookingEventPrefix starts the event of a booking notice.
const bookingEventPrefix = "booking:"

// bookingEvent names one booking event (change "" for the booking, else
// the change's key) as a notice's MessageSID.
func bookingEvent(bookingID uuid.UUID, change string) string {
	if change == "" {
		return bookingEventPrefix + bookingID.String()
	}
	return bookingEventPrefix + bookingID.String() + ":" + change
}

// parseBookingEvent reads bookingEvent back.
func parseBookingEvent(event string) (bookingID uuid.UUID, change string, err error) {
	rest, ok := strings.CutPrefix(event, bookingEventPrefix)
	if !ok {
		return uuid.Nil, "", fmt.Errorf("%q is not a booking event", event)
	}
	id, change, _ := strings.Cut(rest, ":")
	bookingID, err = uuid.Parse(id)
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("%q is not a booking event: %w", event, err)
	}
	return bookingID, change, nil
}

// bookingWhen is a booking's time for messages, in the shop's zone.
func bookingWhen(t lead.Tenant, start time.Time) string {
	loc, err := t.Location()
	if err != nil {
		loc = time.UTC
	}
	return lead.FormatSlot(lead.Slot{Start: start}, loc)
}

// bookingNotice composes the shop's notice of a booking event.
func bookingNotice(ctx context.Context, st *store.Store, t lead.Tenant, l lead.Lead, event string) (subject, body string, err error) {
	id, change, err := parseBookingEvent(event)
	if err != nil {
		return "", "", river.JobCancel(err)
	}
	b, err := st.GetBooking(ctx, t.ID, id)
	if err != nil {
		return "", "", cancelIfNotFound(err)
	}
	name := strings.TrimSpace(l.FirstName + " " + l.LastName)
	who := name
	if l.Phone != "" {
		who += " (" + string(l.Phone) + ")"
	}
	about := ""
	if v := l.Vehicle.Name(); v != "" {
		about += ", " + v
	}
	if l.Summary != "" {
		about += ", about: " + l.Summary
	}
	when := bookingWhen(t, b.Start)
	if change == "" {
		return "Online booking: " + name + ", " + when,
			fmt.Sprintf("%s booked %s online%s.\n\nIt is in your calendar (appointment %s, marked %s). The follow-up messages for this lead have stopped.\n",
				who, when, about, b.CRMAppointmentID, b.Ref), nil
	}
	if change != b.ChangeKey {
		return "", "", river.JobCancel(fmt.Errorf("booking %s has had another change since", b.ID))
	}
	target := bookingWhen(t, b.ChangeStart)
	switch {
	case b.ChangeState == lead.ChangeAskedShop && b.Change == lead.BookingMove:
		return "Please move: " + name + " to " + target,
			fmt.Sprintf("%s asks to move their appointment (%s, appointment %s) to %s%s.\n\nYour CRM cannot be changed through its API: please move it there, and confirm with the customer. They were told you will.\n",
				who, when, b.CRMAppointmentID, target, about), nil
	case b.ChangeState == lead.ChangeAskedShop:
		return "Please cancel: " + name + ", " + when,
			fmt.Sprintf("%s asks to cancel their appointment (%s, appointment %s)%s.\n\nYour CRM cannot be changed through its API: please cancel it there, and confirm with the customer. They were told you will.\n",
				who, when, b.CRMAppointmentID, about), nil
	case b.ChangeState == lead.ChangeDone && b.Change == lead.BookingMove:
		return "Moved online: " + name + " to " + when,
			fmt.Sprintf("%s moved their appointment %s to %s%s. Your calendar is updated.\n", who, b.CRMAppointmentID, when, about), nil
	case b.ChangeState == lead.ChangeDone:
		return "Cancelled online: " + name + ", " + when,
			fmt.Sprintf("%s cancelled their appointment %s (%s)%s. It is removed from your calendar.\n", who, b.CRMAppointmentID, when, about), nil
	}
	return "Booking change not made: " + name,
		fmt.Sprintf("%s tried to %s their appointment %s (%s) online and it was not done: %s\n", who, b.Change, b.CRMAppointmentID, when, b.ChangeReason), nil
}

// bookingTextStep is the one-off step of a booking's confirmation text:
// the booking or change that stepName names (lead.BookingTextStep), in
// words, with the link to change it.
func bookingTextStep(ctx context.Context, d *Deps, t lead.Tenant, leadID uuid.UUID, stepName string) (lead.Step, error) {
	bookings, err := store.New(d.Pool).LeadBookings(ctx, t.ID, leadID)
	if err != nil {
		return lead.Step{}, err
	}
	for _, b := range bookings {
		switch stepName {
		case lead.BookingTextStep(b.ID, ""):
			return textStep(stepName, "{{.Shop.Name}}: you are booked for "+bookingWhen(t, b.Start)+
				".{{with .BookingURL}} To move or cancel: {{.}}{{end}}"), nil
		case lead.BookingTextStep(b.ID, b.ChangeKey):
			return textStep(stepName, "{{.Shop.Name}}: "+changeWords(t, b.Booking)), nil
		}
	}
	return lead.Step{}, river.JobCancel(fmt.Errorf("step %s names no booking of lead %s (or one changed again since)", stepName, leadID))
}

// changeWords is the customer's text about a change.
func changeWords(t lead.Tenant, b lead.Booking) string {
	when := bookingWhen(t, b.Start)
	switch {
	case b.ChangeState == lead.ChangeAskedShop && b.Change == lead.BookingMove:
		return "we asked the shop to move your appointment (" + when + ") to " + bookingWhen(t, b.ChangeStart) + "; they will confirm it with you."
	case b.ChangeState == lead.ChangeAskedShop:
		return "we asked the shop to cancel your appointment (" + when + "); they will confirm it with you."
	case b.ChangeState == lead.ChangeDone && b.Change == lead.BookingMove:
		return "your appointment is moved to " + when + ".{{with .BookingURL}} To change it: {{.}}{{end}}"
	case b.ChangeState == lead.ChangeDone:
		return "your appointment " + when + " is cancelled.{{with .BookingURL}} To book again: {{.}}{{end}}"
	}
	return "we could not change your appointment (" + when + "): " + templateSafe(b.ChangeReason) + " It stays as it was."
}

// textStep is a one-off text step with its wording.
func textStep(name, text string) lead.Step {
	return lead.Step{Name: name, Channel: lead.ChannelSMS, Template: lead.Templates{SMS: text}}
}

// templateSafe keeps words of ours from being read as template actions.
func templateSafe(s string) string { return strings.ReplaceAll(s, "{{", "{ {") }
