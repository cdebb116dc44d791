package fake

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// The CRM fakes keep records as JSON objects holding JSON values only
// (json.Number for numbers), so that a planted record and a generated one
// compare, filter and encode alike. The helpers below read such values.

// Normalize turns v (a json.RawMessage or any Go value) into a JSON object
// holding only JSON values.
func Normalize(v any) (map[string]any, error) {
	b, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("record must be a JSON object")
	}
	return m, nil
}

// String is v when it is a string, else "".
func String(v any) string {
	s, _ := v.(string)
	return s
}

// Int is v as an int when it is a json.Number or an int, else 0.
func Int(v any) int {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	case int:
		return x
	}
	return 0
}

// Int64 is v as an int64 when it is an integral json.Number, else 0.
func Int64(v any) int64 {
	n, _ := v.(json.Number)
	i, _ := n.Int64()
	return i
}

// OrTrue is *b, or true when b is nil: a consent flag a lead spec leaves
// out is on, the usual state of a customer who just filled in a web form.
func OrTrue(b *bool) bool { return b == nil || *b }

// JoinWords joins the non-empty parts with spaces, as the CRMs build a
// customer's or a vehicle's display name.
func JoinWords(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), " ")
}
