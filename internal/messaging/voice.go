package messaging

import (
	"net/http"
	"time"
)

// VoiceCall is a call to a shop's number, as the voice provider's verified
// incoming-call webhook carried it.
type VoiceCall struct {
	// ProviderID is the provider's id of the call (Twilio's CallSid): a
	// redelivery, and the forward's outcome, carry the same one.
	ProviderID string
	AccountID  string
	// From is the caller as the provider sent it: E.164, or a stand-in
	// when the caller withheld their number (see CallerWithheld).
	From string
	// To is the shop's number that was called.
	To string
	// Status is the call's status when the webhook was sent (ringing).
	Status    string
	Direction string
	// CallerWithheld is true when From is not a number that can be texted
	// back: the caller blocked their caller id and the provider put a
	// placeholder there.
	CallerWithheld bool
}

// DialOutcome is how forwarding a call to the shop's phone ended: the
// call, and the provider's status of the forwarded leg.
type DialOutcome struct {
	VoiceCall
	// DialStatus is completed, answered, busy, no-answer, failed or
	// canceled.
	DialStatus string
	// DialProviderID is the forwarded leg's id (Twilio's DialCallSid),
	// empty when no leg was placed.
	DialProviderID string
	// DialDuration is how long the forwarded leg was connected.
	DialDuration time.Duration
}

// Missed reports whether nobody answered the forward: the shop was busy,
// did not pick up, could not be reached, or the caller hung up while it
// rang. A voicemail that picked up at the shop's phone is an answer to the
// provider (completed), so it is not missed.
func (d DialOutcome) Missed() bool {
	return d.DialStatus != "completed" && d.DialStatus != "answered"
}

// VoiceWebhooks verifies and decodes a voice provider's webhooks for a
// shop's number, and writes the provider's answers (for Twilio, TwiML).
// url is the exact public URL the provider called (signatures cover it);
// body is the raw request body.
type VoiceWebhooks interface {
	ParseCall(url string, header http.Header, body []byte) (VoiceCall, error)
	ParseDial(url string, header http.Header, body []byte) (DialOutcome, error)
	// ForwardCall answers an incoming call by ringing shopPhone for at most
	// ringFor, showing callerID (empty: the provider's default), and asking
	// the provider to report the outcome to actionURL.
	ForwardCall(shopPhone, callerID, actionURL string, ringFor time.Duration) (VoiceAnswer, error)
	// SayAndHangUp answers with message spoken (nothing when empty), then
	// ends the call.
	SayAndHangUp(message string) (VoiceAnswer, error)
}

// VoiceAnswer is what a voice webhook's route answers the provider with.
type VoiceAnswer struct {
	ContentType string
	Body        []byte
}
