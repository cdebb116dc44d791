package httpapi

import (
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// What each state of a booking looks like to the customer: the views
// page.html renders, built from the desk's offer and booking.

// liveBooking reports whether a booking is still the lead's appointment,
// or on its way to becoming one: the page shows it instead of a fresh offer.
func liveBooking(s lead.BookingState) bool {
	switch s {
	case lead.BookingRequested, lead.BookingInProgress, lead.BookingBooked, lead.BookingAmbiguous:
		return true
	}
	return false
}

// offerView is the offer page: who it is for and the open slots.
func offerView(o lead.BookingOffer, csrf, notice string) bookingView {
	v := customerView(o)
	v.Title = "Book a time at " + o.Shop.Name
	v.Heading = "Choose a time"
	v.Notice = notice
	v.Pick = pick(o, csrf, lead.BookingBook, "Pick a time that suits you", "Book this time")
	v.Contact = len(v.Pick.Days) == 0
	return v
}

// statusView is where booking b stands, with what the customer may do next.
func statusView(o lead.BookingOffer, b lead.Booking, csrf string) bookingView {
	v := customerView(o)
	loc := shopLocation(o.Shop)
	when := formatSlot(b.Start, loc)
	switch {
	case b.State == lead.BookingRequested || b.State == lead.BookingInProgress:
		v.Heading, v.Refresh = "Booking…", true
		v.Lines = []string{"We are booking " + when + " with " + o.Shop.Name + ". This page updates by itself."}
	case b.State == lead.BookingBooked && b.Change != "" && b.ChangeState == lead.ChangeRequested:
		v.Heading, v.Refresh = "Updating your appointment…", true
		v.Lines = []string{"Your appointment is " + when + ". This page updates by itself."}
	case b.State == lead.BookingBooked:
		bookedView(&v, o, b, csrf)
	case b.State == lead.BookingTaken:
		v.Heading = "That time was just taken"
		v.Lines = reasonLines(b.Reason)
		v.Pick = pick(o, csrf, lead.BookingBook, "Other open times", "Book this time")
		v.Contact = len(v.Pick.Days) == 0
	case b.State == lead.BookingCancelled:
		v.Heading = "Appointment cancelled"
		v.Lines = []string{"Your appointment " + when + " is cancelled. You can book another time below."}
		v.Pick = pick(o, csrf, lead.BookingBook, "Book again", "Book this time")
	case b.State == lead.BookingAmbiguous:
		v.Heading = "We are confirming with the shop"
		v.Lines = []string{"The shop's system did not confirm " + when + " yet. The shop will confirm it with you."}
		v.Contact = true
	default:
		v.Heading = "We could not book it"
		v.Lines = reasonLines(b.Reason)
		v.Contact = true
	}
	v.Title = v.Heading + " · " + o.Shop.Name
	return v
}

// bookedView is a booked appointment: its time, how a change went, and the
// forms to move or cancel it.
func bookedView(v *bookingView, o lead.BookingOffer, b lead.Booking, csrf string) {
	loc := shopLocation(o.Shop)
	start := b.Start
	if b.Change == lead.BookingMove && b.ChangeState == lead.ChangeDone && !b.ChangeStart.IsZero() {
		start = b.ChangeStart
	}
	v.Heading = "Booked"
	v.Lines = []string{"See you " + formatSlot(start, loc) + " at " + o.Shop.Name + "."}
	switch b.ChangeState {
	case lead.ChangeAskedShop:
		v.Notice = "We asked the shop to " + changeWords(b, loc) + "; they will confirm it with you."
	case lead.ChangeFailed:
		v.Notice = "We could not " + changeWords(b, loc) + ": " + b.ChangeReason
	}
	v.Pick = pick(o, csrf, lead.BookingMove, "Move it to another time", "Move to this time")
	v.Cancel = &formKeys{CSRF: csrf, Key: newRandomToken()}
}

// changeWords is the customer's change as words.
func changeWords(b lead.Booking, loc *time.Location) string {
	if b.Change == lead.BookingCancel {
		return "cancel the appointment"
	}
	return "move it " + formatSlot(b.ChangeStart, loc)
}

// customerView is what every page of an offer shows: the shop, and whose
// request it is.
func customerView(o lead.BookingOffer) bookingView {
	return bookingView{Shop: o.Shop.Name, FirstName: o.FirstName, Summary: o.Summary, Vehicle: o.Vehicle.Name(),
		Phone: o.ShopPhone, Email: o.ShopEmail}
}

// reasonLines is a booking's reason, or a line that says to pick again.
func reasonLines(reason string) []string {
	if reason == "" {
		return []string{"Please choose another time."}
	}
	return []string{reason}
}

// pick is a form choosing one of o's slots, grouped by day in the shop's
// zone, with a new one-time key.
func pick(o lead.BookingOffer, csrf string, action lead.BookingAction, heading, submit string) *pickView {
	loc := shopLocation(o.Shop)
	p := &pickView{formKeys: formKeys{CSRF: csrf, Key: newRandomToken()}, Action: action, Heading: heading, Submit: submit}
	if len(o.Slots) > 0 {
		p.Zone = zoneWords(loc, o.Slots[0].Start)
	}
	for _, s := range o.Slots {
		start := s.Start.In(loc)
		legend := start.Format("Monday, January 2")
		if len(p.Days) == 0 || p.Days[len(p.Days)-1].Legend != legend {
			p.Days = append(p.Days, dayView{Legend: legend})
		}
		day := &p.Days[len(p.Days)-1]
		day.Slots = append(day.Slots, slotView{Value: s.Start.UTC().Format(time.RFC3339), Label: start.Format("3:04 PM"),
			Required: len(p.Days) == 1 && len(day.Slots) == 0})
	}
	return p
}

// shopLocation is the shop's time zone; one that does not load (the
// tenant's settings are checked when saved) falls back to UTC, which
// zoneWords then says.
func shopLocation(s lead.Shop) *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// zoneWords says which zone the times are in: "in the shop's time zone,
// America/Chicago (CST)", abbreviated as at the first slot offered (not
// the clock's now: a page read the evening before a DST change offers
// times after it).
func zoneWords(loc *time.Location, at time.Time) string {
	abbr, _ := at.In(loc).Zone()
	return "in the shop's time zone, " + loc.String() + " (" + abbr + ")"
}

// formatSlot is a slot's start as the customer reads it, in loc:
// "on Monday, December 7 at 9:00 AM".
func formatSlot(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("on Monday, January 2 at 3:04 PM")
}
