package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// setBooking reads a --booking-file: one JSON object of
// lead.BookingSettings, unknown keys refused (a misspelt "capacty" must
// not silently leave the default). Its rules are Validate's.
func setBooking(t *lead.Tenant, text string) error {
	if text == "" {
		t.Booking = lead.BookingSettings{}
		return nil
	}
	data := []byte(text)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b lead.BookingSettings
	if err := dec.Decode(&b); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return &lead.ValidationError{Field: "booking." + typeErr.Field, Reason: fmt.Sprintf("is a JSON %s, must be a %s", typeErr.Value, typeErr.Type)}
		}
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return errors.New(strings.TrimPrefix(err.Error(), "json: ") + " (known: enabled, hours, slot_minutes, capacity, lead_time_minutes, days_ahead, holidays, link_ttl_hours)")
		}
		return jsonProblem(data, err)
	}
	if dec.More() {
		return errors.New("holds more than one JSON object")
	}
	t.Booking = b
	return nil
}

// bookingSummary is the booking settings as tenant show prints them, in
// the shop's words: whether it is on, the hours and the rules of a slot.
func bookingSummary(t lead.Tenant) string {
	b := t.Booking
	state := "off"
	if b.Enabled {
		state = "on"
	}
	if !b.Enabled && b.Hours == nil && b.SlotMinutes == 0 && len(b.Holidays) == 0 {
		return "off"
	}
	d := b.WithDefaults()
	var days []string
	for _, day := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if h, ok := d.Hours[day]; ok {
			days = append(days, day+" "+h)
		}
	}
	holidays := "no holidays"
	if len(d.Holidays) > 0 {
		holidays = "closed " + strings.Join(slices.Sorted(slices.Values(d.Holidays)), ", ")
	}
	return fmt.Sprintf("%s: %s (%s); %d-minute slots, %d per slot, at least %d minutes' notice, %d days ahead; %s; links work %dh after a message",
		state, strings.Join(days, ", "), t.TimeZone, d.SlotMinutes, d.Capacity, d.LeadTimeMinutes, d.DaysAhead, holidays, d.LinkTTLHours)
}
