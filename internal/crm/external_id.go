package crm

import (
	"fmt"
	"strings"
)

// SplitExternalID reads s, an external id as an operator typed it, as
// "<prefix><id>" with one of prefixes (each ending in ':'); a bare id takes
// the first prefix, the record an estimate is in that CRM. It returns the
// prefix and the id, trimmed and not empty; the CRM's ParseExternalID
// checks the id is one of its own.
func SplitExternalID(s string, prefixes ...string) (prefix, id string, err error) {
	s = strings.TrimSpace(s)
	kind, id, found := strings.Cut(s, ":")
	if !found {
		kind, id = strings.TrimSuffix(prefixes[0], ":"), s
	}
	prefix = kind + ":"
	known := false
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		known = known || p == prefix
		quoted[i] = fmt.Sprintf("%q", p)
	}
	if !known {
		return "", "", fmt.Errorf("prefix %q is not %s", prefix, strings.Join(quoted, " or "))
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return "", "", fmt.Errorf("no id after %q", prefix)
	}
	return prefix, id, nil
}
