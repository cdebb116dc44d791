package crm

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// EscapeID turns a CRM's text id into one the orchestrator can store and
// put in a job's args, reversibly: a NUL byte, a byte that is not UTF-8 and
// "%" itself become %XX. Postgres refuses a NUL in text and \u0000 in
// jsonb, so one such id in a polled window used to fail the whole poll's
// job insert, every lead of the window with it; unlike lead.CleanText the
// escape keeps the id fetchable (UnescapeID gives the CRM's id back).
// Ordinary ids (ShopMonkey's are UUIDs) come out unchanged.
func EscapeID(id string) string {
	if !strings.ContainsAny(id, "%\x00") && utf8.ValidString(id) {
		return id
	}
	var b strings.Builder
	for i := 0; i < len(id); {
		r, size := utf8.DecodeRuneInString(id[i:])
		if r == 0 || r == '%' || (r == utf8.RuneError && size == 1) {
			fmt.Fprintf(&b, "%%%02X", id[i])
		} else {
			b.WriteString(id[i : i+size])
		}
		i += size
	}
	return b.String()
}

// UnescapeID is the inverse of EscapeID. A "%" not followed by two hex
// digits is an error: no id EscapeID made holds one.
func UnescapeID(id string) (string, error) {
	if !strings.Contains(id, "%") {
		return id, nil
	}
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		if id[i] != '%' {
			b.WriteByte(id[i])
			continue
		}
		if i+2 >= len(id) {
			return "", fmt.Errorf("id %q: %% is not followed by two hex digits", id)
		}
		n, err := strconv.ParseUint(id[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("id %q: %% is not followed by two hex digits", id)
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}
