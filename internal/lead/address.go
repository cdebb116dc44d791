package lead

import (
	"cmp"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// PhoneNumber is a phone number in E.164 form ("+15125550123"). The zero
// value means "no number".
type PhoneNumber string

// ParsePhoneNumber is ParsePhoneNumberIn for the default regions, US and
// Canada: the shops both CRMs serve.
func ParsePhoneNumber(raw string) (PhoneNumber, error) {
	return ParsePhoneNumberIn(raw, nil)
}

// ParsePhoneNumberIn normalises a phone number as a CRM may write it
// ("(512) 201-3344", "512.201.3344", "+1 512 201 3344", "1-512-201-3344")
// to E.164, through libphonenumber's data: the number must be valid (in
// use, by libphonenumber's ranges) in one of regions (ISO 3166-1 codes;
// empty means DefaultPhoneRegions), because a number that cannot exist is
// a text paid for and never delivered, and a number of another country is
// one the shop has no consent rules for. A number without a country code
// is read as written in each region in turn (US and CA share +1, so they
// read it alike). The reason of an error names what is wrong (the digits,
// the area code, the region the number belongs to) and never the number.
func ParsePhoneNumberIn(raw string, regions []string) (PhoneNumber, error) {
	if len(regions) == 0 {
		regions = DefaultPhoneRegions()
	}
	s, err := phoneText(raw)
	if err != nil {
		return "", err
	}
	var first error // the reason for the region tried first: the one a shop expects
	var tried []int32
	for _, region := range regions {
		cc := int32(phonenumbers.GetCountryCodeForRegion(region))
		if cc == 0 {
			first = cmp.Or(first, fmt.Errorf("cannot be read: the shop's phone region %q is not a region (such as US or CA)", region))
			continue
		}
		if slices.Contains(tried, cc) || (s[0] == '+' && len(tried) > 0) {
			continue // read alike: same country code, or written with one
		}
		tried = append(tried, cc)
		n, err := readPhoneNumber(s, region)
		if err == nil {
			err = validIn(n, regions)
		}
		if err == nil {
			return PhoneNumber(phonenumbers.Format(n, phonenumbers.E164)), nil
		}
		first = cmp.Or(first, err)
	}
	return "", first
}

// ParseAnyPhoneNumber normalises a number we receive rather than send to
// (the sender of a text or call, a number an operator looks up) to E.164,
// for any country, without asking libphonenumber whether it is in use: a
// STOP must suppress its sender even from a number the data does not know
// yet (v1 of the library is no longer updated, and new area codes open
// every year), and the number must match the E.164 form the lead holds. A
// number without a country code is read as North American.
func ParseAnyPhoneNumber(raw string) (PhoneNumber, error) {
	s, err := phoneText(raw)
	if err != nil {
		return "", err
	}
	n, err := readPhoneNumber(s, "US")
	if err != nil {
		return "", err
	}
	return PhoneNumber(phonenumbers.Format(n, phonenumbers.E164)), nil
}

// DefaultPhoneRegions are the regions of a shop that names none: the US
// and Canada, in that order (a fresh slice each call, so no caller can
// change another's).
func DefaultPhoneRegions() []string { return []string{"US", "CA"} }

// phoneText trims raw and refuses anything but digits, the separators CRMs
// write and a leading "+": libphonenumber would read "1-800-FLOWERS" and
// "ext. 12", neither of which takes a text.
func phoneText(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("is empty")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && (c != '+' || i != 0) {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return "", errors.New("contains " + strconv.QuoteRune(r) + ", not a phone number")
		}
	}
	return s, nil
}

// readPhoneNumber parses s as written in region and checks what a number
// needs before its ranges are asked: its digit count (in the words of the
// North American plan for +1, where CRMs' mistakes are) and its country
// code.
func readPhoneNumber(s, region string) (*phonenumbers.PhoneNumber, error) {
	plus := s[0] == '+'
	digits := 0
	lead1 := false
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if digits == 0 {
				lead1 = s[i] == '1'
			}
			digits++
		}
	}
	switch {
	case plus && (digits < 8 || digits > 15):
		return nil, errors.New("is not a valid international number (8 to 15 digits after +)")
	case plus && lead1 && digits != 11:
		return nil, errors.New("is not a valid North American number (+1 and 10 digits)")
	case !plus && phonenumbers.GetCountryCodeForRegion(region) == 1 && digits != 10 && (digits != 11 || !lead1):
		return nil, errors.New("has " + strconv.Itoa(digits) + " digits, want 10 (or 11 starting with 1)")
	}
	n, err := phonenumbers.Parse(s, region)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return nil, errors.New("does not start with a country code after +")
	case err != nil:
		return nil, errors.New("is not a phone number (" + err.Error() + ")")
	}
	if n.GetCountryCode() == 1 {
		nsn := phonenumbers.GetNationalSignificantNumber(n)
		if len(nsn) != 10 { // dialled out of another region: "00 1 23" in GB
			return nil, errors.New("is not a valid North American number (+1 and 10 digits)")
		}
		if nsn[0] == '0' || nsn[0] == '1' {
			return nil, errors.New("has an area code starting with " + nsn[:1] + ", which no North American number has")
		}
		if nsn[3] == '0' || nsn[3] == '1' {
			return nil, errors.New("has an exchange (the 3 digits after the area code) starting with " + nsn[3:4] + ", which no North American number has")
		}
	}
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.IS_POSSIBLE:
		return n, nil
	case phonenumbers.TOO_SHORT:
		return nil, fmt.Errorf("is too short for a number of +%d", n.GetCountryCode())
	case phonenumbers.TOO_LONG:
		return nil, fmt.Errorf("is too long for a number of +%d", n.GetCountryCode())
	default:
		return nil, fmt.Errorf("has a length no number of +%d has", n.GetCountryCode())
	}
}

// validIn refuses a number libphonenumber does not know as in use in one
// of regions, naming the region it does belong to when there is one.
func validIn(n *phonenumbers.PhoneNumber, regions []string) error {
	for _, r := range regions {
		if phonenumbers.IsValidNumberForRegion(n, r) {
			return nil
		}
	}
	if home := phonenumbers.GetRegionCodeForNumber(n); home != "" {
		return fmt.Errorf("is a number of %s, not of the shop's phone regions (%s)", home, strings.Join(regions, ", "))
	}
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	if n.GetCountryCode() == 1 {
		// The area code, not the exchange: a reason travels in job errors
		// and logs, and more digits would begin to name the customer.
		return fmt.Errorf("is not a number in use in North America (area code %s, or its exchange, is not in use)", nsn[:3])
	}
	return fmt.Errorf("is not a number in use in %s (no such range after +%d)", phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode())), n.GetCountryCode())
}

func (p PhoneNumber) String() string { return string(p) }

// Email is a normalised email address (lower-cased domain, no display
// name). The zero value means "no address".
type Email string

// ParseEmail checks one bare address and normalises its domain to lower
// case. Display names ("Ann <ann@example.com>") are refused: a CRM field
// holds an address, and anything else means the record is not what we think.
func ParseEmail(raw string) (Email, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("is empty")
	}
	// net/mail takes UTF-8 local parts, so an address whose byte could not
	// be read (CleanText made it U+FFFD) would pass and bounce.
	if strings.ContainsRune(s, utf8.RuneError) {
		return "", errors.New("holds a character that could not be read (U+FFFD), not an email address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", errors.New("is not a valid email address")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || !strings.Contains(s[at+1:], ".") {
		return "", errors.New("is not a valid email address (no domain)")
	}
	return Email(s[:at] + "@" + strings.ToLower(s[at+1:])), nil
}

func (e Email) String() string { return string(e) }

func itoa(i int) string { return strconv.Itoa(i) }

func quote(s string) string { return strconv.Quote(s) }

// CheckDomain checks a mail domain an operator names (a shop's receiving
// domain for reply addresses): lower-case labels of letters, digits and
// hyphens, at least two of them, no scheme, port, path or "@".
func CheckDomain(domain string) error {
	if domain == "" {
		return errors.New("is empty")
	}
	if len(domain) > 253 {
		return errors.New("is longer than 253 characters")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is not a domain (such as reply.shop.example)", domain)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a domain (such as reply.shop.example)", domain)
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return fmt.Errorf("%q is not a domain (lower-case letters, digits, hyphens and dots, such as reply.shop.example)", domain)
			}
		}
	}
	return nil
}
