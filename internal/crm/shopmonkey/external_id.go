package shopmonkey

import (
	"fmt"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// ParseExternalID reads a lead's external id as an operator typed it into
// the form FetchNewLeads writes and GetLead reads: "order:<id>" or
// "appointment:<id>". Operators copy ids from ShopMonkey's screens, where an
// estimate is an order shown with its bare id, so a bare id is an order.
func ParseExternalID(s string) (string, error) {
	prefix, id, err := crm.SplitExternalID(s, "order:", "appointment:")
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(id, "/?# \t") {
		return "", fmt.Errorf("id %q after %q is not a ShopMonkey id (no '/', '?', '#' or spaces)", id, prefix)
	}
	return prefix + id, nil
}
