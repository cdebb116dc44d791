package shopmonkey

import (
	"fmt"
	"strings"
)

// ParseExternalID reads a lead's external id as an operator typed it into
// the form FetchNewLeads writes and GetLead reads: "order:<id>" or
// "appointment:<id>". Operators copy ids from ShopMonkey's screens, where an
// estimate is an order shown with its bare id, so a bare id is an order.
func ParseExternalID(s string) (string, error) {
	s = strings.TrimSpace(s)
	kind, id, found := strings.Cut(s, ":")
	if !found {
		kind, id = "order", s
	}
	if kind != "order" && kind != "appointment" {
		return "", fmt.Errorf(`prefix %q is not "order:" or "appointment:"`, kind+":")
	}
	id = strings.TrimSpace(id)
	if id == "" {
		return "", fmt.Errorf("no id after %q", kind+":")
	}
	if strings.ContainsAny(id, "/?# \t") {
		return "", fmt.Errorf("id %q after %q is not a ShopMonkey id (no '/', '?', '#' or spaces)", id, kind+":")
	}
	return kind + ":" + id, nil
}
