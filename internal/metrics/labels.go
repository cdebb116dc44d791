package metrics

// The bounded label values. Each list is a function so that no caller can
// change it; the pre-initialised series and the scrape test read them.

// Job run outcomes (leadorch_job_runs_total's outcome).
const (
	JobCompleted = "completed"
	// JobFailed is a run that returned an error: River retries the job, or
	// discards it when its attempts are spent.
	JobFailed    = "failed"
	JobCancelled = "cancelled"
	JobSnoozed   = "snoozed"
	JobPanicked  = "panicked"
)

// JobOutcomes lists every job run outcome.
func JobOutcomes() []string {
	return []string{JobCompleted, JobFailed, JobCancelled, JobSnoozed, JobPanicked}
}

// Providers and their operations.
const (
	ProviderTwilio   = "twilio"
	ProviderSendGrid = "sendgrid"
	OperationSend    = "send"
	OperationLookup  = "lookup"
)

type providerOperation struct{ provider, operation string }

// providerOperations are the provider calls the fleet makes: SendGrid has
// no lookup (an interrupted email is reconciled from its events).
func providerOperations() []providerOperation {
	return []providerOperation{
		{ProviderTwilio, OperationSend}, {ProviderTwilio, OperationLookup}, {ProviderSendGrid, OperationSend},
	}
}

// Provider request outcomes: ok, or the messaging error classes.
const (
	ProviderOK        = "ok"
	ProviderRetry     = "retry"
	ProviderPermanent = "permanent"
	ProviderOptedOut  = "opted_out"
	ProviderAmbiguous = "ambiguous"
)

// ProviderOutcomes lists every provider request outcome.
func ProviderOutcomes() []string {
	return []string{ProviderOK, ProviderRetry, ProviderPermanent, ProviderOptedOut, ProviderAmbiguous}
}

// CRM request outcomes.
const (
	CRMOK          = "ok"
	CRMRetry       = "retry"
	CRMPermanent   = "permanent"
	CRMRateLimited = "rate_limited"
)

// CRMOutcomes lists every CRM request outcome.
func CRMOutcomes() []string { return []string{CRMOK, CRMRetry, CRMPermanent, CRMRateLimited} }

// Webhook results and reasons.
const (
	WebhookAccepted = "accepted"
	WebhookRefused  = "refused"

	ReasonOK            = "ok"
	ReasonUnverified    = "unverified"
	ReasonStale         = "stale"
	ReasonMalformed     = "malformed"
	ReasonUnknownTenant = "unknown_tenant"
	ReasonDisabled      = "disabled"
	ReasonRateLimited   = "rate_limited"
	ReasonTooLarge      = "too_large"
	ReasonUnavailable   = "unavailable"
	// ReasonUnknownAddress: an email to no reply address of ours.
	ReasonUnknownAddress = "unknown_address"
)

// RefusalReasons lists every reason a webhook is refused for.
func RefusalReasons() []string {
	return []string{ReasonUnverified, ReasonStale, ReasonMalformed, ReasonUnknownTenant, ReasonDisabled,
		ReasonRateLimited, ReasonTooLarge, ReasonUnavailable, ReasonUnknownAddress}
}

// Webhook routes other than the CRMs' (those are CRMWebhookRoute(kind)).
const (
	RouteTwilioSMS      = "twilio_sms"
	RouteTwilioStatus   = "twilio_status"
	RouteTwilioVoice    = "twilio_voice"
	RouteTwilioDial     = "twilio_voice_dial"
	RouteSendGridEvents = "sendgrid_events"
	// RouteSendGridInbound is Inbound Parse's email replies.
	RouteSendGridInbound = "sendgrid_inbound"
)

// CRMWebhookRoute is the route label of a CRM kind's webhooks.
func CRMWebhookRoute(kind string) string { return "crm_" + kind }

func webhookRoutes(crms []string) []string {
	routes := make([]string, 0, len(crms)+5)
	for _, c := range crms {
		routes = append(routes, CRMWebhookRoute(c))
	}
	return append(routes, RouteTwilioSMS, RouteTwilioStatus, RouteTwilioVoice, RouteTwilioDial, RouteSendGridEvents, RouteSendGridInbound)
}

// LeadPaths are the ways a lead reaches us; Channels the ways we reach
// the customer.
func LeadPaths() []string { return []string{"webhook", "poll", "backfill", "operator"} }

// Channels are the outbox's channels.
func Channels() []string { return []string{"sms", "email"} }

// OutboxStatuses are the outbox statuses leadorch_outbox_messages counts:
// rows now pending, sending or ambiguous, and rows that failed in the last
// 24 hours.
func OutboxStatuses() []string { return []string{"pending", "sending", "ambiguous", "failed"} }

// QueueStates are the River job states leadorch_queue_jobs counts: the
// work still to do.
func QueueStates() []string { return []string{"available", "scheduled", "retryable"} }

// Reasons a tenant is flagged for an operator.
const (
	// AttentionCRMCredentials: the tenant's CRM rejected its credentials.
	AttentionCRMCredentials = "crm_credentials"
	// AttentionAmbiguousMessages: the tenant has messages no one can tell
	// were sent or not.
	AttentionAmbiguousMessages = "ambiguous_messages"
	// AttentionCarrierFiltering: carriers are filtering or refusing the
	// tenant's texts (spam filtering, an unregistered 10DLC or toll-free
	// sender).
	AttentionCarrierFiltering = "carrier_filtering"
)

// AttentionReasons lists every reason a tenant needs attention.
func AttentionReasons() []string {
	return []string{AttentionCRMCredentials, AttentionAmbiguousMessages, AttentionCarrierFiltering}
}

// oneOf is v when it is one of allowed, else "other": a label value that
// reaches a metric from outside the list can never grow a series.
func oneOf(v string, allowed []string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return "other"
}
