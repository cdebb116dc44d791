package lead

import (
	"log/slog"
	"regexp"
	"strings"
)

// Job errors and log lines leave the tenant's rows: River keeps a job's
// errors in river_job, which has no row-level security, and logs go to
// whoever runs the fleet. A customer's phone number or email address must
// not travel with them. The senders name the recipient masked, and the
// job middleware passes every error a job returns through MaskContacts,
// because providers quote the number themselves (Twilio's 21211 is "The
// 'To' number +1555... is not a valid phone number").

// MaskPhone masks a phone number, keeping its country and area code and its
// last four digits ("+15551234567" -> "+1555***4567"), enough for an
// operator to tell numbers apart and not enough to text one. Separators are
// dropped; fewer than six digits mask whole.
func MaskPhone(p string) string {
	digits := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if isDigit(p[i]) {
			digits = append(digits, p[i])
		}
	}
	d := len(digits)
	if d < 6 {
		return "***"
	}
	tail := 2
	if d >= 10 {
		tail = 4
	}
	hidden := max(3, d-8)
	head := d - tail - hidden
	prefix := ""
	if strings.HasPrefix(strings.TrimSpace(p), "+") {
		prefix = "+"
	}
	return prefix + string(digits[:head]) + "***" + string(digits[d-tail:])
}

// MaskEmail masks an email address's local part, keeping its first
// character and the domain ("john@example.com" -> "j***@example.com"): the
// domain says which provider bounced, the rest is the customer's.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return "***"
	}
	return e[:1] + "***" + e[at:]
}

// MaskedPhone is a phone number that logs masked (see MaskPhone).
type MaskedPhone string

// LogValue logs the number masked.
func (p MaskedPhone) LogValue() slog.Value { return slog.StringValue(MaskPhone(string(p))) }

// MaskedEmail is an email address that logs masked (see MaskEmail).
type MaskedEmail string

// LogValue logs the address masked.
func (e MaskedEmail) LogValue() slog.Value { return slog.StringValue(MaskEmail(string(e))) }

// emailPattern finds what looks like an email address in free text.
var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+`)

// MaskContacts masks every email address and phone number in free text
// (an error, a provider's message). A phone number is what a customer or a
// CRM writes: "+" and 8 to 15 digits in any grouping, or a North American
// number as 10 digits (11 with a leading 1), bare or grouped 3-3-4
// ("(555) 123-4567", "555.123.4567", "1-555-123-4567"). Digits inside a
// word or an id (a Twilio SID, a UUID), dates and times, and bare runs that
// cannot be a North American number (epoch seconds start with 1) are left
// alone, so errors keep the ids an operator needs.
func MaskContacts(s string) string {
	if s == "" {
		return s
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailPattern.ReplaceAllStringFunc(s, MaskEmail)
	}
	return maskPhones(s)
}

// digitGroup is a run of digits in a text, s[start:end].
type digitGroup struct{ start, end int }

func maskPhones(s string) string {
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && isWordByte(s[i-1])) {
			i++
			continue
		}
		groups := chainAt(s, i)
		next := groups[len(groups)-1].end
		if next < len(s) && isWordByte(s[next]) {
			// The chain runs into a word ("5551234567abc"): an id.
			i = skipWord(s, next)
			continue
		}
		for a := 0; a < len(groups); {
			start, end, ok := phoneIn(s, groups, a)
			if !ok {
				a++
				continue
			}
			out.WriteString(s[last:start])
			out.WriteString(MaskPhone(s[start:end]))
			last = end
			for a < len(groups) && groups[a].start < end {
				a++
			}
		}
		i = next
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

// chainAt returns the digit groups from i on that are joined by phone
// separators (one or two of " -.()", as in "(555) 123-4567").
func chainAt(s string, i int) []digitGroup {
	var groups []digitGroup
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		groups = append(groups, digitGroup{i, j})
		k := j
		for k < len(s) && k-j < 2 && isPhoneSeparator(s[k]) {
			k++
		}
		if k == j || k >= len(s) || !isDigit(s[k]) {
			return groups
		}
		i = k
	}
}

// phoneIn finds the longest phone number made of groups[a:b] for some b,
// and returns its span in s (with a leading "+" or "(" when the text has
// one).
func phoneIn(s string, groups []digitGroup, a int) (start, end int, ok bool) {
	start = groups[a].start
	plus := start > 0 && s[start-1] == '+'
	paren := start > 0 && s[start-1] == '('
	if plus || paren {
		if start > 1 && isWordByte(s[start-2]) {
			return 0, 0, false
		}
		start--
	}
	for b := len(groups); b > a; b-- {
		if isPhoneShape(s, groups[a:b], plus) {
			end = groups[b-1].end
			if paren && end < len(s) && s[end] == ')' {
				end++
			}
			return start, end, true
		}
	}
	return 0, 0, false
}

// isPhoneShape reports whether groups read as a phone number: after "+",
// 8 to 15 digits in any grouping; otherwise a North American number, bare
// (10 digits, or 11 starting with 1) or grouped 3-3-4 (1-3-3-4), its area
// code and exchange starting with 2-9.
func isPhoneShape(s string, groups []digitGroup, plus bool) bool {
	var digits []byte
	sizes := make([]int, 0, len(groups))
	for _, g := range groups {
		digits = append(digits, s[g.start:g.end]...)
		sizes = append(sizes, g.end-g.start)
	}
	if plus {
		return len(digits) >= 8 && len(digits) <= 15 && digits[0] != '0'
	}
	switch {
	case len(sizes) == 1 && sizes[0] == 10,
		len(sizes) == 3 && sizes[0] == 3 && sizes[1] == 3 && sizes[2] == 4:
	case len(sizes) == 1 && sizes[0] == 11,
		len(sizes) == 4 && sizes[0] == 1 && sizes[1] == 3 && sizes[2] == 3 && sizes[3] == 4:
		if digits[0] != '1' {
			return false
		}
		digits = digits[1:]
	default:
		return false
	}
	return digits[0] >= '2' && digits[3] >= '2'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isPhoneSeparator(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'
}

// isWordByte reports whether c continues an identifier, so that digits next
// to it are part of an id rather than a number of their own. '-' counts:
// UUIDs' groups are joined by it (their last group can be 12 digits).
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '-' || c >= 0x80
}

func skipWord(s string, i int) int {
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return i
}
