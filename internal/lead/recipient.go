package lead

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the zones of every state and area code, whatever the worker's image has

	"github.com/nyaruka/phonenumbers"
)

// Recipient is where the customer a text goes to is, as far as we can
// tell, and how we know: the time zones whose clocks a text must wait for
// and the state whose law on the hours applies. The law sets the hours by
// the called party's location; a CRM address says where that is, a mobile
// number only presumes it (as Oklahoma's and Connecticut's laws presume
// from the area code).
//
// The zero Recipient is "unknown": the text waits for the federal hours on
// the shop's clock, as a customer of a shop presumably lives near it.
type Recipient struct {
	// Zones are the clocks the window must hold on: one for most
	// customers, each side of the line for a state or area code that a
	// zone line cuts. Empty: the shop's.
	Zones []*time.Location
	// Subdivision is the customer's state or province, when known (from
	// the address, else from the area code); its Rule applies.
	Subdivision Subdivision
	// From says how we know, for `enqueue conversation`, `tenant show`
	// and the logs: "the CRM address (Texas)".
	From string
}

// The ways we learn where a customer is, first that applies wins.
const (
	recipientFromAddress  = "the customer's address in the CRM"
	recipientFromAreaCode = "the number's area code"
	recipientFromShop     = "the shop's time zone (nothing says where the customer is)"
)

// RecipientOf says where the customer with CRM address region (a Lead's
// CustomerRegion, ISO 3166-2, "" unknown) and phone number is: by the
// address where the CRM has one; else by the number's place in
// libphonenumber's data (its time zones, and the state its area code is
// in); else nowhere known. A number whose zones are only its country's
// (a toll-free number, a new area code the data does not map yet) says
// nothing about the clock, unless its area code names a state.
func RecipientOf(region string, phone PhoneNumber) Recipient {
	if sub, ok := SubdivisionByCode(region); ok {
		return Recipient{Zones: loadZones(sub.Zones), Subdivision: sub, From: recipientFromAddress + " (" + sub.Name + ")"}
	}
	if phone == "" {
		return Recipient{From: recipientFromShop}
	}
	place, err := phone.Place()
	if err != nil {
		return Recipient{From: recipientFromShop}
	}
	sub, known := areaCodeSubdivision(phone, place.Region)
	var zones []*time.Location
	if !place.CountryWide || len(place.TimeZones) == 1 {
		zones = loadZones(place.TimeZones)
	}
	if len(zones) == 0 && known {
		zones = loadZones(sub.Zones)
	}
	if len(zones) == 0 && !known {
		return Recipient{From: recipientFromShop}
	}
	from := recipientFromAreaCode
	if known {
		from += " (" + sub.Name + ")"
	} else {
		names := make([]string, len(zones))
		for i, z := range zones {
			names[i] = z.String()
		}
		from += " (" + strings.Join(names, ", ") + ")"
	}
	return Recipient{Zones: zones, Subdivision: sub, From: from}
}

// areaCodeSubdivision is the US state or Canadian province libphonenumber's
// geocoding names for a +1 number's area code ("Texas" for +1512, "Chicago,
// IL" for +1312201). Other
// countries' numbers, and area codes it names no state for ("United
// States" for +1800), have none.
func areaCodeSubdivision(phone PhoneNumber, region string) (Subdivision, bool) {
	if region != "US" && region != "CA" {
		return Subdivision{}, false
	}
	n, err := phonenumbers.Parse(string(phone), "")
	if err != nil {
		return Subdivision{}, false
	}
	name, err := phonenumbers.GetGeocodingForNumber(n, "en")
	if err != nil {
		return Subdivision{}, false
	}
	// The data names an area code's state ("Texas") or, for a prefix
	// it knows better, its town and state ("Chicago, IL"), or a street,
	// town and state ("Louisiana Street, Houston, TX"): the state is
	// after the last comma.
	if i := strings.LastIndex(name, ", "); i >= 0 {
		short := name[i+2:]
		if len(short) != 2 {
			return Subdivision{}, false
		}
		return SubdivisionByCode(region + "-" + short)
	}
	sub, ok := subdivisionByName(name)
	if !ok || sub.Country() != region {
		return Subdivision{}, false
	}
	return sub, true
}

// loadZones loads the IANA zones named, skipping any that does not load
// (the embedded time/tzdata has them all; a zone renamed in a later
// release of libphonenumber's data would otherwise fail every send). A
// zone is loaded once per process: time.LoadLocation reads and parses it
// on every call.
func loadZones(names []string) []*time.Location {
	var zones []*time.Location
	for _, name := range names {
		loc, ok := zoneCache.Load(name)
		if !ok {
			l, err := time.LoadLocation(name)
			if err != nil {
				continue
			}
			loc, _ = zoneCache.LoadOrStore(name, l)
		}
		z := loc.(*time.Location)
		if !slices.ContainsFunc(zones, func(have *time.Location) bool { return have.String() == z.String() }) {
			zones = append(zones, z)
		}
	}
	return zones
}

// zoneCache holds the zones loadZones loaded, by name.
var zoneCache sync.Map

// TextWindow is when a text to one customer may go out: the shop's own
// sending window on the shop's clock and, on each of the customer's
// clocks, the federal hours, the shop's quiet rule and the customer's
// state's rule. Every part must allow an instant for the text to go.
type TextWindow struct {
	// Shop is the shop's hours and rule, on its clock.
	Shop SendWindow
	// Customer are the legal windows on the customer's clocks, one per
	// zone and rule.
	Customer []SendWindow
	// To is where the customer is, and how we know.
	To Recipient
}

// TextWindow is when the shop's texts to customer to may go out. A shop
// whose quiet rule is none (test and demo fleets, or a shop whose
// customers no such law covers, which it answers for) keeps only its own
// hours: no legal window, on either clock.
func (t Tenant) TextWindow(to Recipient) (TextWindow, error) {
	shop, err := t.SendWindow()
	if err != nil {
		return TextWindow{}, err
	}
	w := TextWindow{Shop: shop, To: to}
	if t.QuietRule == QuietRuleNone {
		return w, nil
	}
	zones := to.Zones
	if len(zones) == 0 {
		zones = []*time.Location{shop.Location}
	}
	rules := []QuietRule{QuietRuleFederal}
	if t.QuietRule != "" && t.QuietRule != QuietRuleFederal {
		rules = append(rules, t.QuietRule)
	}
	if r := to.Subdivision.Rule; r != "" && !slices.Contains(rules, r) {
		rules = append(rules, r)
	}
	for _, z := range zones {
		for _, r := range rules {
			w.Customer = append(w.Customer, SendWindow{Hours: AllDay, Rule: r, Location: z})
		}
	}
	return w, nil
}

// Allows reports whether a text may go out at t: every part allows it.
func (w TextWindow) Allows(t time.Time) bool {
	if !w.Shop.Allows(t) {
		return false
	}
	for _, c := range w.Customer {
		if !c.Allows(t) {
			return false
		}
	}
	return true
}

// NextOpening is the first instant at or after t at which every part
// allows a text. It moves t to the next opening of each part that is
// closed at t, in turn, until none is: each move skips only instants some
// part forbids, so the first instant all allow is found, across the clocks
// changing on any of them. It gives up, wrapping ErrWindowNeverOpens, when
// the parts do not overlap within the search horizon (a shop's evening
// hours and a customer in Guam).
func (w TextWindow) NextOpening(t time.Time) (time.Time, error) {
	limit := t.AddDate(0, 0, openingSearchDays)
	for at := t; ; {
		moved := false
		for _, part := range append([]SendWindow{w.Shop}, w.Customer...) {
			next, err := part.NextOpening(at)
			if err != nil {
				return time.Time{}, err
			}
			if next.After(at) {
				at, moved = next, true
			}
		}
		if !moved {
			return at, nil
		}
		if at.After(limit) {
			return time.Time{}, fmt.Errorf("send window %s, and where the customer is (%s) %s, after %s: %w", w.Shop, w.To.From, w.describeCustomer(), t.UTC().Format(time.RFC3339), ErrWindowNeverOpens)
		}
	}
}

// describeCustomer says which hours the customer's clocks allow: "08:00-21:00 every day
// America/Boise, 08:00-21:00 every day America/Los_Angeles".
func (w TextWindow) describeCustomer() string {
	if len(w.Customer) == 0 {
		return "no legal hours (quiet rule none)"
	}
	var parts []string
	for _, z := range w.zones() {
		parts = append(parts, describeWeek(w.customerHoursOn(z))+" "+z)
	}
	return strings.Join(parts, "; ")
}

// zones are the names of the customer's clocks, in order.
func (w TextWindow) zones() []string {
	var names []string
	for _, c := range w.Customer {
		if !slices.Contains(names, c.Location.String()) {
			names = append(names, c.Location.String())
		}
	}
	return names
}

// customerHoursOn are the legal hours on the customer's clock zone: every
// rule that applies there, intersected.
func (w TextWindow) customerHoursOn(zone string) hoursOnFunc {
	return func(d time.Weekday) (QuietHours, bool) {
		hours := AllDay
		for _, c := range w.Customer {
			if c.Location.String() != zone {
				continue
			}
			h, ok := c.HoursOn(d)
			if !ok {
				return QuietHours{}, false
			}
			hours = QuietHours{Start: max(hours.Start, h.Start), End: min(hours.End, h.End)}
		}
		return hours, hours.End > hours.Start
	}
}

// Describe says in a line when a text to this customer may go: "the
// shop's 08:00-21:00 every day (America/Chicago), and 08:00-21:00 every
// day America/Boise, 08:00-21:00 every day America/Los_Angeles where the
// customer is, by the number's area code (Idaho)".
func (w TextWindow) Describe() string {
	s := "the shop's " + w.Shop.Describe() + " (" + w.Shop.Location.String() + ")"
	if len(w.Customer) == 0 {
		return s + "; no legal window where the customer is (quiet rule none)"
	}
	rule := ""
	if r := w.To.Subdivision.Rule; r != "" {
		rule = ", under " + w.To.Subdivision.Name + "'s law (" + string(r) + " rule)"
	}
	return s + ", and " + w.describeCustomer() + " where the customer is, by " + cmp.Or(w.To.From, recipientFromShop) + rule
}

// String is Describe, for errors.
func (w TextWindow) String() string { return w.Describe() }

// DescribeCustomerClock says in plain words, for `tenant show`, which
// hours the shop's texts keep on the customer's clock: "texts only 08:00-21:00 every
// day on the customer's clock (the state of their address in the CRM, else
// their number's area code; in every zone of one a zone line cuts; else
// the shop's), stricter in FL, MD, OK 08:00-20:00 every day; CT ...".
func (t Tenant) DescribeCustomerClock() string {
	if t.QuietRule == QuietRuleNone {
		return "not kept: quiet rule none keeps only the shop's own hours"
	}
	rules := []QuietRule{QuietRuleFederal}
	if t.QuietRule != "" && t.QuietRule != QuietRuleFederal {
		rules = append(rules, t.QuietRule)
	}
	hoursOn := func(extra QuietRule) hoursOnFunc {
		return func(d time.Weekday) (QuietHours, bool) {
			hours := AllDay
			for _, r := range append(slices.Clone(rules), extra) {
				h, _ := r.HoursOn(d)
				hours = QuietHours{Start: max(hours.Start, h.Start), End: min(hours.End, h.End)}
			}
			return hours, hours.End > hours.Start
		}
	}
	base := describeWeek(hoursOn(QuietRuleFederal))
	var order []string
	byHours := map[string][]string{}
	for _, s := range subdivisions {
		if s.Rule == "" {
			continue
		}
		if h := describeWeek(hoursOn(s.Rule)); h != base {
			if _, ok := byHours[h]; !ok {
				order = append(order, h)
			}
			byHours[h] = append(byHours[h], s.Short())
		}
	}
	text := "texts only " + base + " on the customer's clock (the state of their address in the CRM, else their number's area code; in every zone of one a zone line cuts; else the shop's)"
	var stricter []string
	for _, h := range order {
		stricter = append(stricter, strings.Join(byHours[h], ", ")+" "+h)
	}
	if len(stricter) > 0 {
		text += ", stricter in " + strings.Join(stricter, "; ")
	}
	return text
}

// CustomerClock says, for one customer, which hours texts keep on their
// clock and how we know where they are: "08:00-21:00 every day
// Pacific/Honolulu, by the number's area code (Hawaii)". It is what
// `enqueue conversation` and `enqueue consent` show beside the consent.
func (t Tenant) CustomerClock(to Recipient) string {
	w, err := t.TextWindow(to)
	if err != nil {
		return "none, the sending window is invalid: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	if len(w.Customer) == 0 {
		return "not kept (quiet rule none)"
	}
	s := w.describeCustomer() + ", by " + cmp.Or(w.To.From, recipientFromShop)
	if r := w.To.Subdivision.Rule; r != "" {
		s += ", under " + w.To.Subdivision.Name + "'s law (" + string(r) + " rule)"
	}
	return s
}
