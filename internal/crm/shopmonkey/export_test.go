package shopmonkey

// Exported for the tests of package shopmonkey_test only: the verifier and
// the decoder on their own, so their cases need not be dressed up as whole
// webhook requests.
var (
	VerifyStandardWebhook = verifyStandardWebhook
	DecodeWebhook         = decodeWebhook
)

// WebhookRecord is webhookRecord, for the decoder's tests.
type WebhookRecord = webhookRecord

// ExternalID, LeadCandidate and Relevant are the record's rules, for the
// decoder's tests.
func (r webhookRecord) ExternalID() string  { return r.externalID() }
func (r webhookRecord) LeadCandidate() bool { return r.leadCandidate() }
func (r webhookRecord) Relevant() bool      { return r.relevant() }
