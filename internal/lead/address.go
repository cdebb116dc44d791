package lead

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PhoneNumber is a phone number in E.164 form ("+15551234567"). The zero
// value means "no number".
type PhoneNumber string

// ParsePhoneNumber normalises a phone number as a CRM may write it
// ("(555) 123-4567", "555.123.4567", "+1 555 123 4567", "1-555-123-4567")
// to E.164. Numbers without a country code are read as North American,
// because both CRMs serve US and Canadian shops; anything else must carry a
// leading "+".
func ParsePhoneNumber(raw string) (PhoneNumber, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("is empty")
	}
	plus := strings.HasPrefix(s, "+")
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || (c == '+' && i == 0):
		default:
			return "", errors.New("contains " + strconv.QuoteRune(rune(c)) + ", not a phone number")
		}
	}
	d := string(digits)
	switch {
	case plus:
		if len(d) < 8 || len(d) > 15 || d[0] == '0' {
			return "", errors.New("is not a valid international number (8 to 15 digits after +)")
		}
		if d[0] == '1' && len(d) != 11 {
			return "", errors.New("is not a valid North American number (+1 and 10 digits)")
		}
	case len(d) == 10:
		d = "1" + d
	case len(d) == 11 && d[0] == '1':
	default:
		return "", errors.New("has " + strconv.Itoa(len(d)) + " digits, want 10 (or 11 starting with 1)")
	}
	if d[0] == '1' && (d[1] == '0' || d[1] == '1') {
		return "", errors.New("has an area code starting with " + string(d[1]) + ", which no North American number has")
	}
	return PhoneNumber("+" + d), nil
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
