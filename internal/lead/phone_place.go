package lead

import (
	"errors"
	"slices"
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// PhonePlace is where libphonenumber's data puts a number: its region and
// the time zones of its prefix. The customer's clock, when the CRM has no
// address, is judged by it; the number alone says nothing certain (a
// mobile moves with its owner), so it is a presumption, as the state laws
// that presume from the area code make it.
type PhonePlace struct {
	// Region is the ISO 3166-1 region the number is valid in ("US",
	// "CA"), or "" when it is valid nowhere by the data.
	Region string
	// TimeZones are the IANA zones the data maps the number's longest
	// known prefix to: one for most area codes, a few for one that
	// straddles a zone line (+1208, Idaho: America/Boise and
	// America/Los_Angeles). None when the data knows no zone.
	TimeZones []string
	// CountryWide says TimeZones is the list for the number's whole
	// country code, because the data knows no zone for any longer prefix
	// (a toll-free number, an area code it does not map): for +1 some 40
	// zones from Adak to Guam, which say nothing about where the customer
	// is (a window that must hold in all of them never opens), so a
	// caller uses the shop's zone instead; for a country of one zone
	// (+86: Asia/Shanghai) the one zone is exact.
	CountryWide bool
}

// Place looks up where the data puts p, an E.164 number (as
// ParsePhoneNumber returns). It does not check that p is in use; Region
// says whether it is.
func (p PhoneNumber) Place() (PhonePlace, error) {
	n, err := phonenumbers.Parse(string(p), "")
	if err != nil || len(p) == 0 || p[0] != '+' {
		return PhonePlace{}, errors.New("is not a number in E.164 form (+ and the country code)")
	}
	zones, err := phonenumbers.GetTimezonesForNumber(n)
	if err != nil {
		return PhonePlace{}, errors.New("has no time zone data: " + err.Error())
	}
	country, err := phonenumbers.GetTimezonesForPrefix(strconv.Itoa(int(n.GetCountryCode())))
	if err != nil {
		return PhonePlace{}, errors.New("has no time zone data: " + err.Error())
	}
	place := PhonePlace{Region: phonenumbers.GetRegionCodeForNumber(n), TimeZones: slices.Clone(zones)}
	if slices.Equal(zones, []string{phonenumbers.UNKNOWN_TIMEZONE}) {
		place.TimeZones = nil
	}
	place.CountryWide = len(place.TimeZones) == 0 || slices.Equal(zones, country)
	return place, nil
}
