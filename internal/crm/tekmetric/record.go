package tekmetric

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// recordCheck collects the first problem of one Tekmetric record as a
// *crm.InvalidRecordError naming the record and the field an operator must
// fix, rather than "json: cannot unmarshal". Records are decoded into typed
// structs; encoding/json names the first field of the wrong type and fills
// in the others, and the checks below add what types cannot say (missing,
// not a time).
//
// Text fields go through text, which cleans them with lead.CleanText and
// keeps the names of those that needed it in cleaned ("customer.firstName")
// for the lead's list of problems.
type recordCheck struct {
	record string
	path   string // "repair_order.": how cleaned fields are named
	err    *crm.InvalidRecordError
	// cleaned lists the fields whose text had to be cleaned.
	cleaned []string
}

// text trims and cleans one text field the record was decoded into.
func (c *recordCheck) text(field, s string) string {
	clean, ok := lead.CleanText(strings.TrimSpace(s))
	if !ok {
		c.cleaned = append(c.cleaned, c.path+field)
	}
	return clean
}

// decodeRecord unmarshals raw into each of targets and starts the check of
// a record of kind ("repair order"). The id is read first, so that the
// record is named by it when it is readable and an unreadable id is the
// problem reported. Fields shared by several kinds of record go in a target
// of their own rather than an embedded struct, whose Go name encoding/json
// would put in the field path.
func decodeRecord(kind string, raw json.RawMessage, targets ...any) *recordCheck {
	c := &recordCheck{record: kind, path: strings.ReplaceAll(kind, " ", "_") + "."}
	var head struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		c.fail("", "is not a JSON object")
		return c
	}
	id, err := strconv.ParseInt(string(bytes.TrimSpace(head.ID)), 10, 64)
	switch {
	case len(head.ID) == 0 || string(head.ID) == "null":
		c.fail("id", "is missing")
	case err != nil || id <= 0:
		c.fail("id", "is not a positive integer: "+crmhttp.ExcerptJSON(head.ID))
	default:
		c.record = kind + " " + strconv.FormatInt(id, 10)
	}
	for _, v := range targets {
		var typeErr *json.UnmarshalTypeError
		if err := json.Unmarshal(raw, v); errors.As(err, &typeErr) && typeErr.Field != "" {
			c.fail(typeErr.Field, "is not "+jsonKind(typeErr.Type)+" (got a JSON "+typeErr.Value+")")
		} else if err != nil {
			c.fail("", "cannot be read: "+err.Error())
		}
	}
	return c
}

// jsonKind says in words what a Go type expects in JSON.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// fail records the problem unless one was found already; an empty field
// means the record as a whole.
func (c *recordCheck) fail(field, reason string) {
	if c.err != nil {
		return
	}
	if field == "" {
		field = "(record)"
	}
	c.err = &crm.InvalidRecordError{Record: c.record, Field: field, Reason: reason}
}

// problem returns the first problem found, or nil.
func (c *recordCheck) problem() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// id checks a required reference to another record (customerId).
func (c *recordCheck) id(field string, v int64) {
	switch {
	case v == 0:
		c.fail(field, "is missing")
	case v < 0:
		c.fail(field, "is not a positive id: "+strconv.FormatInt(v, 10))
	}
}

// time reads a time field. Tekmetric writes most times in UTC with a "Z",
// but some (appointment times, a job's authorizedDate) without any offset,
// in the shop's wall-clock time: those are read in loc. A required time
// that is empty is missing; any text that is not an ISO 8601 time is named
// with its value.
func (c *recordCheck) time(field, s string, loc *time.Location, required bool) time.Time {
	if s == "" {
		if required {
			c.fail(field, "is missing")
		}
		return time.Time{}
	}
	t, err := parseTime(s, loc)
	if err != nil {
		c.fail(field, "is not an ISO 8601 time: "+strconv.Quote(s))
		return time.Time{}
	}
	return t
}

// parseTime reads an ISO 8601 date-time with an offset as it says ("Z",
// "-06:00", or "-0600" as Java's default formatter writes it), and one
// without in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, loc)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
