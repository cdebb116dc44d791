package lead

import (
	"strings"
	"unicode/utf8"
)

// CleanText makes a CRM's text storable: Postgres refuses a NUL byte in
// text (SQLSTATE 22021) and the escape \u0000 in jsonb (22P05), and a
// single such field used to cost the whole lead (ten retries, then
// discarded). ok is false when s needed cleaning, so the decoder can record
// the field as a problem the shop should fix in its CRM.
//
// A NUL is dropped: it is never a character a person typed (a C string's
// terminator, padding from an export) and has no glyph, so removing it
// loses nothing a reader would see, and a phone number "555-201-3344\x00"
// stays the number it is. A byte that is not UTF-8 is replaced by U+FFFD:
// it stood for a character (a Latin-1 "é") that cannot be read, and the
// mark keeps the loss visible instead of silently joining the letters
// around it; a phone number with one is then no longer a number, which is
// right, since texting a guessed number is worse than not texting. U+FFFD
// already in s counts as needing cleaning too: encoding/json replaces
// invalid UTF-8 and lone surrogate escapes with it while decoding (the
// decoder tests showed a raw 0xFF byte arrives that way), so it is the
// trace of a byte lost before this function saw the text.
func CleanText(s string) (clean string, ok bool) {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s, !strings.ContainsRune(s, utf8.RuneError)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0:
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String(), false
}

// InvalidText reports whether s holds what Postgres cannot store as text:
// a NUL byte or a byte sequence that is not UTF-8.
func InvalidText(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsRune(s, 0)
}

// cleanedReason is what a cleaned field's problem says.
const cleanedReason = "held a NUL byte or text that is not UTF-8 (a NUL was dropped, an unreadable byte became U+FFFD); fix it in the CRM"

// cleanedProblems names each field a decoder had to clean with CleanText,
// as problems for Lead.ContactProblem. fields are paths as the CRM spells
// them ("order.complaint", "customer.phoneNumbers[0].number").
func cleanedProblems(fields []string) []*ValidationError {
	out := make([]*ValidationError, 0, len(fields))
	for _, f := range fields {
		out = append(out, &ValidationError{Field: f, Reason: cleanedReason})
	}
	return out
}
