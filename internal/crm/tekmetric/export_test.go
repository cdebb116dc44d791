package tekmetric

import "time"

// Exported for the tests of package tekmetric_test only: the decoder on its
// own, so its cases need not be dressed up as whole webhook requests.
var DecodeWebhook = decodeWebhook

// WebhookRecord is webhookRecord, for the decoder's tests.
type WebhookRecord = webhookRecord

// The webhook record kinds, for the decoder's tests.
const (
	WebhookRepairOrder = webhookRepairOrder
	WebhookAppointment = webhookAppointment
	WebhookOther       = webhookOther
)

// ExternalID and Version are the record's rules, for the decoder's tests.
func (r webhookRecord) ExternalID() string                       { return r.externalID() }
func (r webhookRecord) Version(loc *time.Location) (int64, bool) { return r.version(loc) }
