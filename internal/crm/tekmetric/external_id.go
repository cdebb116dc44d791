package tekmetric

import (
	"fmt"
	"strconv"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// ParseExternalID reads a lead's external id as an operator typed it into
// the form FetchNewLeads writes and GetLead reads: "repair-order:<id>" or
// "appointment:<id>", the id a positive integer. An estimate is a repair
// order in Tekmetric, so a bare id is a repair order.
func ParseExternalID(s string) (string, error) {
	prefix, idText, err := crm.SplitExternalID(s, prefixRepairOrder, prefixAppointment)
	if err != nil {
		return "", err
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return "", fmt.Errorf("id %q after %q is not a Tekmetric id (a positive integer)", idText, prefix)
	}
	return externalID(prefix, id), nil
}

// externalID is the one place a lead's ExternalID is built: FetchNewLeads,
// GetLead and the webhook all name a record by it, so that a webhook's
// ingest and a poll's ingest of one record share a job. prefix is
// prefixRepairOrder or prefixAppointment.
func externalID(prefix string, id int64) string { return prefix + strconv.FormatInt(id, 10) }
