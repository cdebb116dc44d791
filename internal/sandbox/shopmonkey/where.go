package fakeshopmonkey

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// condition is one condition of a where filter.
type condition struct {
	field string
	op    string // eq, gt, gte, lt, lte, in
	value any
}

// parseWhere reads a where filter. Operators are bare; a "$"-prefixed one
// (Mongo style) is dropped without a word, as the live API does, so the
// filter silently matches more rows than the caller meant.
func parseWhere(raw string) ([]condition, error) {
	if raw == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var where map[string]any
	if err := dec.Decode(&where); err != nil || where == nil {
		return nil, errors.New("must be a JSON object")
	}
	var conds []condition
	for field, v := range where {
		if strings.HasPrefix(field, "$") {
			continue
		}
		ops, ok := v.(map[string]any)
		if !ok {
			conds = append(conds, condition{field: field, op: "eq", value: v})
			continue
		}
		for op, operand := range ops {
			switch {
			case strings.HasPrefix(op, "$"):
				continue
			case op == "in":
				if _, ok := operand.([]any); !ok {
					return nil, fmt.Errorf("%s.in must be an array", field)
				}
			case op != "eq" && op != "gt" && op != "gte" && op != "lt" && op != "lte":
				return nil, fmt.Errorf("unknown operator %q on %s", op, field)
			}
			conds = append(conds, condition{field: field, op: op, value: operand})
		}
	}
	return conds, nil
}

// parseOrderBy reads orderBy ("id", "-id" or {"id":"desc"}) and reports
// whether rows go in descending id order. Only id sorts: the live API
// ignores orderBy on createdDate and updatedDate, and other fields are
// treated the same.
func parseOrderBy(raw string) (desc bool, err error) {
	field, dir := raw, "asc"
	if strings.HasPrefix(raw, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil || len(m) != 1 {
			return false, errors.New(`must be a field name or {"field":"asc|desc"}`)
		}
		for f, d := range m {
			field, dir = f, strings.ToLower(fmt.Sprint(d))
		}
	} else if f, ok := strings.CutPrefix(raw, "-"); ok {
		field, dir = f, "desc"
	}
	return field == "id" && (dir == "desc" || dir == "-1"), nil
}

func queryInt(q map[string][]string, name string, def int) (int, error) {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer", name)
	}
	return n, nil
}

func matchesWhere(row map[string]any, conds []condition) bool {
	for _, c := range conds {
		v := fieldAt(row, c.field)
		switch c.op {
		case "eq":
			if !equalValues(v, c.value) {
				return false
			}
		case "in":
			if !slices.ContainsFunc(c.value.([]any), func(o any) bool { return equalValues(v, o) }) {
				return false
			}
		default:
			n, ok := compareValues(v, c.value)
			if !ok {
				return false
			}
			if (c.op == "gt" && n <= 0) || (c.op == "gte" && n < 0) || (c.op == "lt" && n >= 0) || (c.op == "lte" && n > 0) {
				return false
			}
		}
	}
	return true
}

// fieldAt reads a dotted field ("meta.version").
func fieldAt(row map[string]any, field string) any {
	var v any = row
	for part := range strings.SplitSeq(field, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// compareValues orders two JSON values: times by instant when both parse as
// RFC 3339, other strings as text, numbers by value.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		tx, errx := time.Parse(time.RFC3339, x)
		ty, erry := time.Parse(time.RFC3339, y)
		if errx == nil && erry == nil {
			return tx.Compare(ty), true
		}
		return strings.Compare(x, y), true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return 0, false
		}
		fx, errx := x.Float64()
		fy, erry := y.Float64()
		if errx != nil || erry != nil {
			return 0, false
		}
		return cmp.Compare(fx, fy), true
	}
	return 0, false
}

func equalValues(a, b any) bool {
	if n, ok := compareValues(a, b); ok {
		return n == 0
	}
	switch a.(type) {
	case nil, bool:
		return a == b
	}
	return false
}
