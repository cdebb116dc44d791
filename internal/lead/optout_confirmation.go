package lead

import "strings"

// OptOutConfirmationStepPrefix starts the step name of the one text that
// confirms an opt-out the carrier did not confirm itself (an opt-out in
// the customer's own words: see ClassifyInbound); no sequence step may
// use it.
const OptOutConfirmationStepPrefix = "opt-out-"

// OptOutConfirmationStep names the confirmation of the opt-out the
// customer sent in the provider's message messageID: one per message, so
// a retry or a redelivery cannot confirm twice.
func OptOutConfirmationStep(messageID string) string {
	return OptOutConfirmationStepPrefix + messageID
}

// IsOptOutConfirmation reports whether the step confirms an opt-out (see
// OptOutConfirmationStep) rather than belonging to a sequence.
func (s Step) IsOptOutConfirmation() bool {
	return strings.HasPrefix(s.Name, OptOutConfirmationStepPrefix)
}

// OptOutConfirmationText is the confirmation. The FCC's 2024 revocation
// rules allow one text confirming an opt-out, with no marketing in it, so
// it is fixed rather than the shop's to word: it says who, that nothing
// more will come, and how to come back.
const OptOutConfirmationText = "{{.Shop.Name}}: you are unsubscribed and will get no more texts from us. Reply START to resubscribe."

// ConfirmsOptOut reports whether the shop owes the customer a
// confirmation for the opt-out body: not when the carrier confirmed it
// itself (ProviderOptOutKeyword: Twilio answers its keywords and blocks
// the number), nor when the number was suppressed already
// (wasSuppressed), so a second "stop texting me" gets no second
// confirmation, however soon it comes.
func ConfirmsOptOut(body string, wasSuppressed bool) bool {
	return !wasSuppressed && !ProviderOptOutKeyword(body)
}
