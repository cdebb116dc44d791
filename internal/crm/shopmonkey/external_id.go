package shopmonkey

import (
	"fmt"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// The record kinds that can be leads, as ShopMonkey's API paths and
// webhook tables name them; they are the prefix of an ExternalID.
const (
	kindOrder       = "order"
	kindAppointment = "appointment"
)

// externalID is the one place a lead's ExternalID is built: FetchNewLeads,
// GetLead and the webhook all name a record by it, so that a webhook's
// ingest and a poll's ingest of one record share a job. id is the record's
// id in crm.EscapeID form.
func externalID(kind, id string) string { return kind + ":" + id }

// ParseExternalID reads a lead's external id as an operator typed it into
// the form FetchNewLeads writes and GetLead reads: "order:<id>" or
// "appointment:<id>". Operators copy ids from ShopMonkey's screens, where an
// estimate is an order shown with its bare id, so a bare id is an order.
func ParseExternalID(s string) (string, error) {
	prefix, id, err := crm.SplitExternalID(s, kindOrder+":", kindAppointment+":")
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(id, "/?# \t") {
		return "", fmt.Errorf("id %q after %q is not a ShopMonkey id (no '/', '?', '#' or spaces)", id, prefix)
	}
	return externalID(strings.TrimSuffix(prefix, ":"), id), nil
}
