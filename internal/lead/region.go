package lead

import (
	"fmt"
	"strings"
)

// A Subdivision is a US state (or territory, or DC) or a Canadian province
// or territory: where a customer lives, as far as the recipient's clock is
// concerned. Its Code is ISO 3166-2 ("US-TX", "CA-ON").
type Subdivision struct {
	Code string
	Name string
	// Zones are the IANA time zones the subdivision's people keep,
	// principal first. A state split by a zone line lists each side
	// (Texas: America/Chicago and, for El Paso, America/Denver), and a
	// window that must hold where the customer is must then hold in all
	// of them, as for an area code that straddles the line.
	Zones []string
	// Rule is the state's own law on the hours of solicitation calls and
	// texts, stricter than the federal window; empty: none we encode.
	Rule QuietRule
}

// Country is the subdivision's ISO 3166-1 code: "US" of "US-TX".
func (s Subdivision) Country() string { c, _, _ := strings.Cut(s.Code, "-"); return c }

// Short is the two-letter code as addresses write it: "TX" of "US-TX".
func (s Subdivision) Short() string { _, c, _ := strings.Cut(s.Code, "-"); return c }

// subdivisions lists every US state, DC and territory with a +1 area code,
// and every Canadian province and territory. Zones follow the zone lines
// where they cut a state's populated land (a county or more), not every
// town: Nevada's West Wendover keeps Mountain time and is left out, so is
// Quebec's Magdalen Islands.
var subdivisions = []Subdivision{
	{"US-AL", "Alabama", []string{"America/Chicago"}, ""},
	{"US-AK", "Alaska", []string{"America/Anchorage", "America/Adak"}, ""},
	{"US-AZ", "Arizona", []string{"America/Phoenix", "America/Denver"}, ""}, // the Navajo Nation keeps DST
	{"US-AR", "Arkansas", []string{"America/Chicago"}, ""},
	{"US-CA", "California", []string{"America/Los_Angeles"}, ""},
	{"US-CO", "Colorado", []string{"America/Denver"}, ""},
	{"US-CT", "Connecticut", []string{"America/New_York"}, QuietRuleConnecticut},
	{"US-DE", "Delaware", []string{"America/New_York"}, ""},
	{"US-DC", "District of Columbia", []string{"America/New_York"}, ""},
	{"US-FL", "Florida", []string{"America/New_York", "America/Chicago"}, QuietRuleFlorida}, // the panhandle west of the Apalachicola
	{"US-GA", "Georgia", []string{"America/New_York"}, ""},
	{"US-HI", "Hawaii", []string{"Pacific/Honolulu"}, ""},
	{"US-ID", "Idaho", []string{"America/Boise", "America/Los_Angeles"}, ""},
	{"US-IL", "Illinois", []string{"America/Chicago"}, ""},
	{"US-IN", "Indiana", []string{"America/Indiana/Indianapolis", "America/Chicago"}, ""},
	{"US-IA", "Iowa", []string{"America/Chicago"}, ""},
	{"US-KS", "Kansas", []string{"America/Chicago", "America/Denver"}, ""},
	{"US-KY", "Kentucky", []string{"America/New_York", "America/Chicago"}, ""},
	{"US-LA", "Louisiana", []string{"America/Chicago"}, ""},
	{"US-ME", "Maine", []string{"America/New_York"}, ""},
	{"US-MD", "Maryland", []string{"America/New_York"}, QuietRuleMaryland},
	{"US-MA", "Massachusetts", []string{"America/New_York"}, ""},
	{"US-MI", "Michigan", []string{"America/Detroit", "America/Menominee"}, ""},
	{"US-MN", "Minnesota", []string{"America/Chicago"}, ""},
	{"US-MS", "Mississippi", []string{"America/Chicago"}, ""},
	{"US-MO", "Missouri", []string{"America/Chicago"}, ""},
	{"US-MT", "Montana", []string{"America/Denver"}, ""},
	{"US-NE", "Nebraska", []string{"America/Chicago", "America/Denver"}, ""},
	{"US-NV", "Nevada", []string{"America/Los_Angeles"}, ""},
	{"US-NH", "New Hampshire", []string{"America/New_York"}, ""},
	{"US-NJ", "New Jersey", []string{"America/New_York"}, ""},
	{"US-NM", "New Mexico", []string{"America/Denver"}, ""},
	{"US-NY", "New York", []string{"America/New_York"}, ""},
	{"US-NC", "North Carolina", []string{"America/New_York"}, ""},
	{"US-ND", "North Dakota", []string{"America/Chicago", "America/Denver"}, ""},
	{"US-OH", "Ohio", []string{"America/New_York"}, ""},
	{"US-OK", "Oklahoma", []string{"America/Chicago"}, QuietRuleOklahoma},
	{"US-OR", "Oregon", []string{"America/Los_Angeles", "America/Boise"}, ""},
	{"US-PA", "Pennsylvania", []string{"America/New_York"}, ""},
	{"US-RI", "Rhode Island", []string{"America/New_York"}, ""},
	{"US-SC", "South Carolina", []string{"America/New_York"}, ""},
	{"US-SD", "South Dakota", []string{"America/Chicago", "America/Denver"}, ""},
	{"US-TN", "Tennessee", []string{"America/Chicago", "America/New_York"}, ""},
	{"US-TX", "Texas", []string{"America/Chicago", "America/Denver"}, QuietRuleTexas},
	{"US-UT", "Utah", []string{"America/Denver"}, ""},
	{"US-VT", "Vermont", []string{"America/New_York"}, ""},
	{"US-VA", "Virginia", []string{"America/New_York"}, ""},
	{"US-WA", "Washington", []string{"America/Los_Angeles"}, ""},
	{"US-WV", "West Virginia", []string{"America/New_York"}, ""},
	{"US-WI", "Wisconsin", []string{"America/Chicago"}, ""},
	{"US-WY", "Wyoming", []string{"America/Denver"}, ""},
	{"US-AS", "American Samoa", []string{"Pacific/Pago_Pago"}, ""},
	{"US-GU", "Guam", []string{"Pacific/Guam"}, ""},
	{"US-MP", "Northern Mariana Islands", []string{"Pacific/Saipan"}, ""},
	{"US-PR", "Puerto Rico", []string{"America/Puerto_Rico"}, ""},
	{"US-VI", "U.S. Virgin Islands", []string{"America/St_Thomas"}, ""},
	{"CA-AB", "Alberta", []string{"America/Edmonton"}, ""},
	{"CA-BC", "British Columbia", []string{"America/Vancouver", "America/Edmonton"}, ""}, // the Peace River and the East Kootenays
	{"CA-MB", "Manitoba", []string{"America/Winnipeg"}, ""},
	{"CA-NB", "New Brunswick", []string{"America/Moncton"}, ""},
	{"CA-NL", "Newfoundland and Labrador", []string{"America/St_Johns", "America/Goose_Bay"}, ""},
	{"CA-NS", "Nova Scotia", []string{"America/Halifax"}, ""},
	{"CA-NT", "Northwest Territories", []string{"America/Yellowknife"}, ""},
	{"CA-NU", "Nunavut", []string{"America/Iqaluit", "America/Rankin_Inlet", "America/Cambridge_Bay"}, ""},
	{"CA-ON", "Ontario", []string{"America/Toronto", "America/Winnipeg"}, ""}, // the northwest keeps Central time
	{"CA-PE", "Prince Edward Island", []string{"America/Halifax"}, ""},
	{"CA-QC", "Quebec", []string{"America/Toronto"}, ""},
	{"CA-SK", "Saskatchewan", []string{"America/Regina"}, ""},
	{"CA-YT", "Yukon", []string{"America/Whitehorse"}, ""},
}

// SubdivisionByCode finds a subdivision by its ISO 3166-2 code ("US-TX").
func SubdivisionByCode(code string) (Subdivision, bool) {
	for _, s := range subdivisions {
		if s.Code == code {
			return s, true
		}
	}
	return Subdivision{}, false
}

// subdivisionByName finds one by its English name, as libphonenumber's
// geocoding names an area code's state ("Texas", "Ontario").
func subdivisionByName(name string) (Subdivision, bool) {
	for _, s := range subdivisions {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return Subdivision{}, false
}

// countryOf reads a CRM's country field: "", "US", "USA", "United
// States", "CA", "Canada" (case and spaces aside). ok is false for any
// other country, whose subdivisions we do not know.
func countryOf(raw string) (country string, ok bool) {
	switch strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(raw, ".", "")), " ")) {
	case "":
		return "", true
	case "US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA":
		return "US", true
	case "CA", "CAN", "CANADA":
		return "CA", true
	}
	return "", false
}

// ParseSubdivision reads the state of a customer's address as a CRM
// writes it: a two-letter code ("TX", "tx", "ON") or a name ("Texas",
// "new york"), with the address's country when the CRM has one ("US",
// "USA", "Canada"; empty: either, as the two share no codes). An empty
// state is no subdivision and no error: the CRM does not know. Anything
// else is an error whose reason names what is wrong, for the lead's
// contact problems; the caller then judges the customer's clock by the
// phone number instead.
func ParseSubdivision(state, country string) (Subdivision, error) {
	state = strings.Join(strings.Fields(strings.ReplaceAll(state, ".", "")), " ")
	if state == "" {
		return Subdivision{}, nil
	}
	c, ok := countryOf(country)
	if !ok {
		return Subdivision{}, fmt.Errorf("the country %s is not the United States or Canada, whose states we know", quote(strings.TrimSpace(country)))
	}
	for _, s := range subdivisions {
		if (c == "" || s.Country() == c) && (strings.EqualFold(s.Short(), state) || strings.EqualFold(s.Name, state)) {
			return s, nil
		}
	}
	where := "a US state or Canadian province"
	switch c {
	case "US":
		where = "a US state"
	case "CA":
		where = "a Canadian province"
	}
	return Subdivision{}, fmt.Errorf("%s is not %s (its code, such as TX, or its name)", quote(state), where)
}
