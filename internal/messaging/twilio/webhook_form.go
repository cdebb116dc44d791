package twilio

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/webhookfield"
)

// formReader reads the fields of a verified webhook's form, keeping the
// first problem, like bufio.Scanner: check err once at the end. Each field
// is its first value.
type formReader struct {
	form url.Values
	err  error
}

func (r *formReader) fail(field, reason string) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: %s", field, reason)
	}
}

// text reads a text field, which must be present and non-empty when
// required.
func (r *formReader) text(field string, required bool) string {
	s := r.form.Get(field)
	if s == "" {
		if required {
			r.fail(field, "is missing")
		}
		return ""
	}
	if reason := webhookfield.Unstorable(s); reason != "" {
		r.fail(field, reason)
		return ""
	}
	return s
}

// freeText reads what a person typed. Bytes that cannot be stored (NUL,
// invalid UTF-8) become U+FFFD instead of failing the webhook: refusing a
// reply would lose a STOP, or let the sequence go on texting someone who
// answered.
func (r *formReader) freeText(field string) string {
	s := r.form.Get(field)
	if len(s) > webhookfield.MaxText {
		r.fail(field, "is longer than "+strconv.Itoa(webhookfield.MaxText)+" bytes")
		return ""
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// count reads an optional non-negative integer; absent or empty is 0.
func (r *formReader) count(field string) int {
	s := strings.TrimSpace(r.form.Get(field))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		r.fail(field, "is not a non-negative integer: "+webhookfield.Excerpt(s))
		return 0
	}
	return n
}
