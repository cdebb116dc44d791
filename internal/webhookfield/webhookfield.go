// Package webhookfield reads the fields of a provider's webhook body (a
// JSON object, a form) with errors that name the field, so that a CRM or a
// messaging provider answers a malformed delivery with a 400 saying what
// is wrong. Each provider package decodes its own wire format; these are
// the rules they share, written once: what text can be stored, how a
// field that is absent or null reads, how much of a bad value an error
// quotes.
package webhookfield

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxText bounds one text field of a webhook: Twilio bodies are at most
// 1600 characters, ids far shorter. A longer value is not what the
// provider sends.
const MaxText = 8 << 10

// Unstorable says why s cannot be stored as text (Postgres refuses NUL and
// invalid UTF-8, and MaxText bounds it), or "" when it can.
func Unstorable(s string) string {
	switch {
	case len(s) > MaxText:
		return "is longer than " + strconv.Itoa(MaxText) + " bytes"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL character"
	}
	return ""
}

// Object unmarshals raw, which must be one JSON object, into v.
func Object(raw []byte, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("is not a JSON object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New("is not a JSON object: " + err.Error())
	}
	return nil
}

// Text reads a JSON string field, which must be present and non-empty
// when required. An id or name with control characters is not one a
// provider wrote.
func Text(field string, raw json.RawMessage, required bool) (string, error) {
	if IsNull(raw) {
		if required {
			return "", fmt.Errorf("field %s: is missing", field)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("field %s: is not a string: %s", field, Excerpt(string(raw)))
	}
	if s == "" && required {
		return "", fmt.Errorf("field %s: is empty", field)
	}
	if reason := Unstorable(s); reason != "" {
		return "", fmt.Errorf("field %s: %s", field, reason)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("field %s: contains control characters: %s", field, Excerpt(s))
	}
	return s, nil
}

// PositiveInt reads a required JSON integer id.
func PositiveInt(field string, raw json.RawMessage) (int64, error) {
	if IsNull(raw) {
		return 0, fmt.Errorf("field %s: is missing", field)
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("field %s: is not a positive integer: %s", field, Excerpt(string(raw)))
	}
	return n, nil
}

// IsNull reports whether a field is absent or null.
func IsNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// Excerpt quotes the start of a value for an error message.
func Excerpt(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}
