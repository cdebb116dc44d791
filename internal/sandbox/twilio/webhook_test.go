package faketwilio_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

func TestTwilioSignature(t *testing.T) {
	t.Parallel()

	// Both vectors sign for the same URL and token.
	for name, v := range map[string]struct {
		form url.Values
		want string
	}{
		// Twilio's security documentation's example.
		"DocumentedVector": {url.Values{
			"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
			"From": {"+12349013030"}, "To": {"+18005551212"},
		}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		// The vector of twilio-go's request validator tests.
		"TwilioGoVector": {url.Values{
			"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"}, "Caller": {"+14158675309"},
			"From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
		}, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
	} {
		faketest.Run(t, name, func(t *testing.T) {
			require.Equal(t, v.want, faketwilio.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", v.form))
		})
	}

	faketest.Run(t, "URLAndTokenMatter", func(t *testing.T) {
		form := url.Values{"Body": {"hi"}}
		sig := faketwilio.Signature("token", "https://example.com/sms", form)
		require.NotEqual(t, sig, faketwilio.Signature("token", "http://example.com/sms", form))
		require.NotEqual(t, sig, faketwilio.Signature("other", "https://example.com/sms", form))
		require.NotEqual(t, sig, faketwilio.Signature("token", "https://example.com/sms", url.Values{"Body": {"hI"}}))
	})
}

func TestPostTwilioInbound(t *testing.T) {
	t.Parallel()

	for name, tt := range map[string]struct {
		body, optOut string
	}{
		"Reply":        {"Yes please, Tuesday works", ""},
		"Stop":         {"STOP", "STOP"},
		"StopAnyCase":  {" stop ", "STOP"},
		"Unsubscribe":  {"Unsubscribe", "STOP"},
		"Start":        {"START", "START"},
		"Help":         {"help", "HELP"},
		"StopInAReply": {"stop texting me at work", ""},
	} {
		faketest.Run(t, name, func(t *testing.T) {
			b := faketest.NewReceiver(t)
			u := b.URL + "/webhooks/twilio/t1/sms?x=1"
			sid, err := faketwilio.PostInbound(context.Background(), nil, u, "token", "+15555550100", "+15555550199", tt.body)
			require.NoError(t, err)
			require.Regexp(t, `^SM[0-9a-f]{32}$`, sid)

			got := b.Only(t)
			require.Equal(t, "application/x-www-form-urlencoded", got.Header.Get("Content-Type"))
			form, err := url.ParseQuery(string(got.Body))
			require.NoError(t, err)
			require.Equal(t, sid, form.Get("MessageSid"))
			require.Equal(t, faketwilio.DefaultAccountSID, form.Get("AccountSid"))
			require.Equal(t, "+15555550100", form.Get("From"))
			require.Equal(t, "+15555550199", form.Get("To"))
			require.Equal(t, tt.body, form.Get("Body"))
			require.Equal(t, "0", form.Get("NumMedia"))
			require.Equal(t, tt.optOut, form.Get("OptOutType"))
			require.Equal(t, faketwilio.Signature("token", u, form), got.Header.Get("X-Twilio-Signature"))
		})
	}
}

func TestPostTwilioStatus(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "Delivered", func(t *testing.T) {
		b := faketest.NewReceiver(t)
		u := b.URL + "/webhooks/twilio/t1/status"
		require.NoError(t, faketwilio.PostStatus(context.Background(), nil, u, "token", "SM0123", "delivered", 0))
		got := b.Only(t)
		form, err := url.ParseQuery(string(got.Body))
		require.NoError(t, err)
		require.Equal(t, "SM0123", form.Get("MessageSid"))
		require.Equal(t, "delivered", form.Get("MessageStatus"))
		require.NotContains(t, form, "ErrorCode")
		require.Equal(t, faketwilio.Signature("token", u, form), got.Header.Get("X-Twilio-Signature"))
	})

	faketest.Run(t, "Undelivered", func(t *testing.T) {
		b := faketest.NewReceiver(t)
		require.NoError(t, faketwilio.PostStatus(context.Background(), nil, b.URL, "token", "SM0123", "undelivered", 30003))
		form, err := url.ParseQuery(string(b.Only(t).Body))
		require.NoError(t, err)
		require.Equal(t, "30003", form.Get("ErrorCode"))
	})

	faketest.Run(t, "RefusedIsAnError", func(t *testing.T) {
		b := faketest.NewReceiver(t)
		b.Answer(http.StatusForbidden)
		require.ErrorContains(t, faketwilio.PostStatus(context.Background(), nil, b.URL, "token", "SM0123", "sent", 0), "403")
	})
}
