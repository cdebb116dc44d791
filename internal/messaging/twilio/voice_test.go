package twilio_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

const testCallSid = "CA0123456789abcdef0123456789abcdef"

// incomingCall is the form Twilio posts when a customer calls the shop's
// number (the fields of a captured request).
func incomingCall() url.Values {
	return url.Values{
		"CallSid": {testCallSid}, "AccountSid": {"AC" + strings.Repeat("1", 32)}, "From": {"+15125550100"},
		"To": {"+15125550199"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"},
		"Caller": {"+15125550100"}, "Called": {"+15125550199"}, "FromCity": {"AUSTIN"},
	}
}

func TestParseCall(t *testing.T) {
	t.Parallel()
	w := twilio.NewWebhooks(testTwilioToken)
	h, body := signedForm(incomingCall())
	c, err := w.ParseCall(testPublicURL, h, body)
	require.NoError(t, err)
	require.Equal(t, messaging.VoiceCall{ProviderID: testCallSid, AccountID: "AC" + strings.Repeat("1", 32),
		From: "+15125550100", To: "+15125550199", Status: "ringing", Direction: "inbound"}, c)

	for change, field := range map[string]string{
		"CallSid=":             "CallSid",
		"CallSid=SM0123":       "CallSid",
		"AccountSid=":          "AccountSid",
		"From=":                "From",
		"To=":                  "To",
		"CallStatus=":          "CallStatus",
		"CallStatus=picked-up": "CallStatus",
		"Direction=":           "Direction",
		"Direction=sideways":   "Direction",
		"From=%2B1512%00":      "From",
		"To=%C3%28":            "To",
	} {
		f := cloneForm(incomingCall())
		k, v, _ := strings.Cut(change, "=")
		v, err := url.QueryUnescape(v)
		require.NoError(t, err)
		f.Set(k, v)
		h, body := signedForm(f)
		_, err = w.ParseCall(testPublicURL, h, body)
		require.ErrorContains(t, err, "field "+field, change)
		require.NotErrorIs(t, err, messaging.ErrWebhookUnverified, change)
	}

	// A caller who withheld their number arrives as a placeholder.
	f := incomingCall()
	f.Set("From", "+266696687")
	h, body = signedForm(f)
	c, err = w.ParseCall(testPublicURL, h, body)
	require.NoError(t, err)
	require.True(t, c.CallerWithheld)
}

func TestParseCallUnverified(t *testing.T) {
	t.Parallel()
	w := twilio.NewWebhooks(testTwilioToken)
	form := incomingCall()
	_, err := w.ParseCall(testPublicURL, http.Header{}, []byte(form.Encode()))
	require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
	h := http.Header{}
	h.Set(twilio.SignatureHeader, faketwilio.Signature("another-token", testPublicURL, form))
	_, err = w.ParseCall(testPublicURL, h, []byte(form.Encode()))
	require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
	// Signed for another URL (the dial callback's): refused.
	h.Set(twilio.SignatureHeader, faketwilio.Signature(testTwilioToken, testPublicURL+"/dial", form))
	_, err = w.ParseDial(testPublicURL, h, []byte(form.Encode()))
	require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
}

func TestParseDial(t *testing.T) {
	t.Parallel()
	w := twilio.NewWebhooks(testTwilioToken)
	form := incomingCall()
	form.Set("CallStatus", "in-progress")
	form.Set("DialCallStatus", "no-answer")
	form.Set("DialCallSid", "CA"+strings.Repeat("f", 32))
	form.Set("DialCallDuration", "0")
	h, body := signedForm(form)
	d, err := w.ParseDial(testPublicURL, h, body)
	require.NoError(t, err)
	require.Equal(t, "no-answer", d.DialStatus)
	require.Equal(t, testCallSid, d.ProviderID)
	require.True(t, d.Missed())

	for status, missed := range map[string]bool{"completed": false, "answered": false, "busy": true, "no-answer": true, "failed": true, "canceled": true} {
		require.Equal(t, missed, messaging.DialOutcome{DialStatus: status}.Missed(), status)
	}
	for change, field := range map[string]string{
		"DialCallStatus=":          "DialCallStatus",
		"DialCallStatus=voicemail": "DialCallStatus",
		"DialCallDuration=ten":     "DialCallDuration",
		"CallSid=":                 "CallSid",
	} {
		f := cloneForm(form)
		k, v, _ := strings.Cut(change, "=")
		f.Set(k, v)
		h, body := signedForm(f)
		_, err = w.ParseDial(testPublicURL, h, body)
		require.ErrorContains(t, err, "field "+field, change)
	}
	// Twilio leaves DialCallSid and DialCallDuration out when no leg was
	// placed.
	form.Del("DialCallSid")
	form.Del("DialCallDuration")
	form.Set("DialCallStatus", "failed")
	h, body = signedForm(form)
	d, err = w.ParseDial(testPublicURL, h, body)
	require.NoError(t, err)
	require.Empty(t, d.DialProviderID)
	require.Zero(t, d.DialDuration)
}

// TestVoiceAnswers: the TwiML twilio-go writes, as Twilio reads it.
func TestVoiceAnswers(t *testing.T) {
	t.Parallel()
	w := twilio.NewWebhooks(testTwilioToken)
	a, err := w.ForwardCall("+15125550111", "+15125550100", "https://hooks.example.com/webhooks/twilio/t1/voice/dial?a=1&b=2", 20*time.Second)
	require.NoError(t, err)
	require.Equal(t, "text/xml; charset=utf-8", a.ContentType)
	doc := string(a.Body)
	require.True(t, strings.HasPrefix(doc, `<?xml version="1.0" encoding="UTF-8"?>`), doc)
	for _, want := range []string{`<Response><Dial `, `action="https://hooks.example.com/webhooks/twilio/t1/voice/dial?a=1&amp;b=2"`,
		`timeout="20"`, `callerId="+15125550100"`, `method="POST"`, `<Number>+15125550111</Number></Dial></Response>`} {
		require.Contains(t, doc, want)
	}
	a, err = w.SayAndHangUp("Sorry, we can't take your call <now> & here.")
	require.NoError(t, err)
	require.Contains(t, string(a.Body), `<Response><Say>Sorry, we can&apos;t take your call &lt;now&gt; &amp; here.</Say><Hangup/></Response>`)
}
