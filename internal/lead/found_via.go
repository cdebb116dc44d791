package lead

// FoundVia is how the orchestrator first saw a lead: the path its
// speed-to-lead is measured by. A webhook lead texted in seconds and a
// polled one texted a poll interval later are both healthy; telling them
// apart is what shows a shop whose webhooks quietly stopped.
type FoundVia string

const (
	// FoundViaWebhook: a CRM webhook named the record.
	FoundViaWebhook FoundVia = "webhook"
	// FoundViaPoll: a live poll of the CRM listed it.
	FoundViaPoll FoundVia = "poll"
	// FoundViaBackfill: an operator's backfill of a historic range found it.
	FoundViaBackfill FoundVia = "backfill"
	// FoundViaOperator: an operator ingested the record by hand (`enqueue
	// ingest`).
	FoundViaOperator FoundVia = "operator"
	// FoundViaUnknown: the lead was stored before the path was recorded.
	FoundViaUnknown FoundVia = "unknown"
)

// OrUnknown is f, or FoundViaUnknown when f is empty or not a path we
// know: the database accepts only these values, and a lead must never fail
// to be stored for want of a label.
func (f FoundVia) OrUnknown() FoundVia {
	switch f {
	case FoundViaWebhook, FoundViaPoll, FoundViaBackfill, FoundViaOperator:
		return f
	}
	return FoundViaUnknown
}
