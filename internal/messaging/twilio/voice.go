package twilio

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/webhookfield"
)

// Webhooks is also the messaging.VoiceWebhooks of Twilio: a shop's number
// has a Voice URL beside its Messaging one, signed the same way.
var _ messaging.VoiceWebhooks = (*Webhooks)(nil)

// callSidPattern is a Call SID: "CA" and 32 hex digits (Twilio's
// documented SID shape, Pattern ^CA[0-9a-fA-F]{32}$). It ends up in a
// lead's external id, so nothing else gets through.
var callSidPattern = regexp.MustCompile(`^CA[0-9a-fA-F]{32}$`)

// callStatuses and dialStatuses are Twilio's CallStatus and DialCallStatus
// values (twilio.com/docs/voice/api/call-resource#call-status-values,
// twilio.com/docs/voice/twiml/dial#dialcallstatus).
var (
	callStatuses = []string{"queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}
	dialStatuses = []string{"completed", "answered", "busy", "no-answer", "failed", "canceled"}
	directions   = []string{"inbound", "outbound-api", "outbound-dial"}
)

// withheldCallers are the From values Twilio puts on a call whose caller
// blocked their caller id: "Anonymous", and numbers that spell a word on a
// keypad (+266696687 ANONYMOUS, +7378742833 RESTRICTED, +2562533 BLOCKED,
// +8656696 UNKNOWN, +86282452253 UNAVAILABLE). The list is Twilio's help
// centre's as remembered, not confirmed by a source read here; the two
// that parse as international numbers are why it is a list rather than a
// parse check (texting +266696687 reaches Lesotho, not the caller).
var withheldCallers = []string{"anonymous", "Anonymous", "+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"}

// ParseCall verifies an incoming-call webhook (see verify) and reads its
// form. Errors name the field.
func (w *Webhooks) ParseCall(url string, h http.Header, body []byte) (messaging.VoiceCall, error) {
	form, err := w.verify(url, h, body)
	if err != nil {
		return messaging.VoiceCall{}, err
	}
	r := formReader{form: form}
	c := readCall(&r)
	if r.err != nil {
		return messaging.VoiceCall{}, fmt.Errorf("twilio incoming call: %w", r.err)
	}
	return c, nil
}

// ParseDial verifies a <Dial action> callback (see verify) and reads its
// form: the call's fields, and the forwarded leg's DialCallStatus,
// DialCallSid (absent when no leg was placed) and DialCallDuration
// (seconds, absent when it never connected). Errors name the field.
func (w *Webhooks) ParseDial(url string, h http.Header, body []byte) (messaging.DialOutcome, error) {
	form, err := w.verify(url, h, body)
	if err != nil {
		return messaging.DialOutcome{}, err
	}
	r := formReader{form: form}
	d := messaging.DialOutcome{
		VoiceCall:      readCall(&r),
		DialStatus:     r.text("DialCallStatus", true),
		DialProviderID: r.text("DialCallSid", false),
		DialDuration:   time.Duration(r.count("DialCallDuration")) * time.Second,
	}
	if r.err == nil && !slices.Contains(dialStatuses, d.DialStatus) {
		r.fail("DialCallStatus", "is not a Twilio dial status: "+webhookfield.Excerpt(d.DialStatus))
	}
	if r.err != nil {
		return messaging.DialOutcome{}, fmt.Errorf("twilio dial callback: %w", r.err)
	}
	return d, nil
}

// readCall reads the fields every voice webhook carries.
func readCall(r *formReader) messaging.VoiceCall {
	c := messaging.VoiceCall{
		ProviderID: r.text("CallSid", true),
		AccountID:  r.text("AccountSid", true),
		From:       r.text("From", true),
		To:         r.text("To", true),
		Status:     r.text("CallStatus", true),
		Direction:  r.text("Direction", true),
	}
	if r.err != nil {
		return c
	}
	switch {
	case !callSidPattern.MatchString(c.ProviderID):
		r.fail("CallSid", "is not a Twilio call SID (CA and 32 hex digits): "+webhookfield.Excerpt(c.ProviderID))
	case !slices.Contains(callStatuses, c.Status):
		r.fail("CallStatus", "is not a Twilio call status: "+webhookfield.Excerpt(c.Status))
	case !slices.Contains(directions, c.Direction):
		r.fail("Direction", "is not a Twilio call direction: "+webhookfield.Excerpt(c.Direction))
	}
	c.CallerWithheld = slices.Contains(withheldCallers, c.From)
	return c
}

// twimlContentType is how Twilio wants TwiML served.
const twimlContentType = "text/xml; charset=utf-8"

// ForwardCall is the TwiML that rings shopPhone for ringFor and then asks
// actionURL what to do, whatever the outcome (with action, the verbs after
// <Dial> are never reached). callerID shows the caller's number on the
// shop's phone; Twilio allows an incoming call's From as the callerId of
// its forward.
func (w *Webhooks) ForwardCall(shopPhone, callerID, actionURL string, ringFor time.Duration) (messaging.VoiceAnswer, error) {
	dial := twiml.VoiceDial{
		Action:        actionURL,
		Method:        http.MethodPost,
		Timeout:       strconv.Itoa(int(ringFor / time.Second)),
		CallerId:      callerID,
		InnerElements: []twiml.Element{twiml.VoiceNumber{PhoneNumber: shopPhone}},
	}
	return voiceAnswer(dial)
}

// SayAndHangUp is the TwiML that speaks message (nothing when it is
// empty) and ends the call.
func (w *Webhooks) SayAndHangUp(message string) (messaging.VoiceAnswer, error) {
	if message == "" {
		return voiceAnswer(twiml.VoiceHangup{})
	}
	return voiceAnswer(twiml.VoiceSay{Message: message}, twiml.VoiceHangup{})
}

func voiceAnswer(verbs ...twiml.Element) (messaging.VoiceAnswer, error) {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		return messaging.VoiceAnswer{}, fmt.Errorf("error writing TwiML: %w", err)
	}
	return messaging.VoiceAnswer{ContentType: twimlContentType, Body: []byte(doc)}, nil
}
