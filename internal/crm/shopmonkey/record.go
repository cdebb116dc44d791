package shopmonkey

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// recordDecoder reads the fields of one ShopMonkey record leniently, field
// by field, so that a bad record yields a *crm.InvalidRecordError naming the
// record and the field an operator must fix, rather than "json: cannot
// unmarshal". Like bufio.Scanner it keeps the first error and returns zero
// values after it; check err once at the end.
//
// Every text it reads goes through lead.CleanText, and the fields that
// needed it are kept in cleaned, named by path ("order.complaint"), for the
// lead's list of problems; ids go through crm.EscapeID instead, which keeps
// them fetchable.
type recordDecoder struct {
	record string // "order 5f3a..."
	prefix string // "phoneNumbers[0]." inside an embedded record
	path   string // "customer.phoneNumbers[0].": how cleaned fields are named
	fields map[string]json.RawMessage
	err    *crm.InvalidRecordError
	// cleaned lists the fields whose text had to be cleaned.
	cleaned []string
}

// newRecordDecoder starts reading raw as a record of kind ("order",
// "customer", ...), named by its id when it has one.
func newRecordDecoder(kind string, raw json.RawMessage) *recordDecoder {
	d := &recordDecoder{record: kind, path: kind + "."}
	if err := json.Unmarshal(raw, &d.fields); err != nil || d.fields == nil {
		d.fail("", "is not a JSON object")
		return d
	}
	var id string
	if json.Unmarshal(d.fields["id"], &id) == nil && id != "" {
		d.record = kind + " " + crm.EscapeID(id)
	}
	return d
}

// problem returns the first problem found, or nil.
func (d *recordDecoder) problem() error {
	if d.err == nil {
		return nil
	}
	return d.err
}

func (d *recordDecoder) fail(field, reason string) {
	if d.err == nil {
		if field == "" {
			field = "(record)"
		}
		d.err = &crm.InvalidRecordError{Record: d.record, Field: d.prefix + field, Reason: reason}
	}
}

// value returns a field's raw JSON, or nil when it is absent or null.
func (d *recordDecoder) value(field string) json.RawMessage {
	v := bytes.TrimSpace(d.fields[field])
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return v
}

// has reports whether a field is present and not null.
func (d *recordDecoder) has(field string) bool { return d.value(field) != nil }

// text reads an optional string field, cleaned with lead.CleanText.
func (d *recordDecoder) text(field string) string {
	s := d.rawText(field)
	clean, ok := lead.CleanText(s)
	if !ok {
		d.cleaned = append(d.cleaned, d.path+field)
	}
	return clean
}

// rawText reads an optional string field as the CRM wrote it.
func (d *recordDecoder) rawText(field string) string {
	v := d.value(field)
	if v == nil {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		d.fail(field, "is not a string: "+crmhttp.ExcerptJSON(v))
	}
	return s
}

// id reads a required id (a record's own, or a reference to another) in
// the crm.EscapeID form the orchestrator keeps it in.
func (d *recordDecoder) id(field string) string {
	if !d.has(field) {
		d.fail(field, "is missing")
		return ""
	}
	s := d.rawText(field)
	if s == "" && d.err == nil {
		d.fail(field, "is empty")
	}
	return crm.EscapeID(s)
}

// optionalID reads an id that may be absent (an order's vehicleId).
func (d *recordDecoder) optionalID(field string) string {
	return crm.EscapeID(d.rawText(field))
}

// requiredText reads a string field that must be present and non-empty.
func (d *recordDecoder) requiredText(field string) string {
	if !d.has(field) {
		d.fail(field, "is missing")
		return ""
	}
	s := d.text(field)
	if s == "" && d.err == nil {
		d.fail(field, "is empty")
	}
	return s
}

// timestamp reads a required RFC 3339 time.
func (d *recordDecoder) timestamp(field string) time.Time {
	s := d.requiredText(field)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d.fail(field, "is not an RFC 3339 time: "+strconv.Quote(s))
		return time.Time{}
	}
	return t.UTC()
}

// boolean reads an optional boolean; absent or null is false.
func (d *recordDecoder) boolean(field string) bool {
	v := d.value(field)
	if v == nil {
		return false
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		d.fail(field, "is not a boolean: "+crmhttp.ExcerptJSON(v))
	}
	return b
}

// evidence names a consent field as read: its path in the record and its
// raw value ("true"), or lead.ConsentValueAbsent, for the lead's consent
// evidence.
func (d *recordDecoder) evidence(field string) lead.ConsentEvidence {
	v := lead.ConsentValueAbsent
	if raw := d.value(field); raw != nil {
		v = string(raw)
	}
	return lead.ConsentEvidence{Field: d.path + field, Value: v}
}

// integer reads an optional integer that ShopMonkey may write as a number or
// as a numeric string ("number" is seen both ways); absent or null is 0.
func (d *recordDecoder) integer(field string) int64 {
	v := d.value(field)
	if v == nil {
		return 0
	}
	text := string(v)
	if v[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			d.fail(field, "is not a number: "+crmhttp.ExcerptJSON(v))
			return 0
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return 0
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		d.fail(field, "is not a number: "+crmhttp.ExcerptJSON(v))
	}
	return n
}

// textList reads an optional array of strings.
func (d *recordDecoder) textList(field string) []string {
	v := d.value(field)
	if v == nil {
		return nil
	}
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		d.fail(field, "is not an array of strings: "+crmhttp.ExcerptJSON(v))
	}
	return out
}

// objects reads an optional array of objects; present reports whether the
// field was there at all (even empty).
func (d *recordDecoder) objects(field string) (items []json.RawMessage, present bool) {
	v := d.value(field)
	if v == nil {
		return nil, false
	}
	if err := json.Unmarshal(v, &items); err != nil {
		d.fail(field, "is not an array: "+crmhttp.ExcerptJSON(v))
		return nil, true
	}
	return items, true
}

// object returns a decoder for a nested object (meta, phoneNumbers[0]) that
// reports errors against this record; nil when the field is absent.
func (d *recordDecoder) object(field string, raw json.RawMessage) *recordDecoder {
	sub := &recordDecoder{record: d.record, prefix: d.prefix + field + ".", path: d.path + field + "."}
	if err := json.Unmarshal(raw, &sub.fields); err != nil || sub.fields == nil {
		d.fail(field, "is not an object: "+crmhttp.ExcerptJSON(raw))
		return nil
	}
	return sub
}

// merge takes over the first error and the cleaned fields of a nested
// decoder.
func (d *recordDecoder) merge(sub *recordDecoder) {
	if sub == nil {
		return
	}
	if d.err == nil && sub.err != nil {
		d.err = sub.err
	}
	d.cleaned = append(d.cleaned, sub.cleaned...)
	sub.cleaned = nil
}

// version reads meta.version, which rises with every change. A record
// without one gets its updatedDate in milliseconds instead, which rises with
// every change too, so a changed record is still looked at again.
func (d *recordDecoder) version(updated time.Time) int64 {
	v, fromUpdated := d.metaVersion()
	if fromUpdated {
		return updated.UnixMilli()
	}
	return v
}

// metaVersion reads meta.version; fromUpdated is true when the record has
// none, so that its updatedDate stands in (see version). The webhook reads
// a record's version through it too, so the two cannot drift.
func (d *recordDecoder) metaVersion() (v int64, fromUpdated bool) {
	raw := d.value("meta")
	if raw == nil {
		return 0, true
	}
	meta := d.object("meta", raw)
	if meta == nil {
		return 0, false
	}
	if !meta.has("version") {
		return 0, true
	}
	v = meta.integer("version")
	d.merge(meta)
	return v, false
}
