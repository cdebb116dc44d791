package twilio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

const testPublicURL = "https://hooks.example.com/webhooks/twilio/t1/sms?v=2"

// signedForm is a webhook request of form, signed by the sandbox for
// testPublicURL.
func signedForm(form url.Values) (http.Header, []byte) {
	h := http.Header{}
	h.Set(twilio.SignatureHeader, faketwilio.Signature(testTwilioToken, testPublicURL, form))
	return h, []byte(form.Encode())
}

func parseInbound(form url.Values) (messaging.InboundText, error) {
	h, body := signedForm(form)
	return twilio.NewWebhooks(testTwilioToken).ParseInbound(testPublicURL, h, body)
}

func parseStatus(form url.Values) (messaging.SMSStatus, error) {
	h, body := signedForm(form)
	return twilio.NewWebhooks(testTwilioToken).ParseStatus(testPublicURL, h, body)
}

func TestParseInbound(t *testing.T) {
	t.Parallel()
	form, err := url.ParseQuery("MessageSid=SM1&AccountSid=AC1&From=%2B15555550100&To=%2B15555550199&Body=Yes%0Aplease&NumMedia=2&OptOutType=START&SmsStatus=received")
	require.NoError(t, err)
	m, err := parseInbound(form)
	require.NoError(t, err)
	require.Equal(t, messaging.InboundText{ProviderID: "SM1", AccountID: "AC1", From: "+15555550100", To: "+15555550199", Body: "Yes\nplease", NumMedia: 2, OptOutType: "START"}, m)

	for change, field := range map[string]string{
		"MessageSid=":       "MessageSid",
		"AccountSid=":       "AccountSid",
		"From=":             "From",
		"To=":               "To",
		"NumMedia=two":      "NumMedia",
		"NumMedia=-1":       "NumMedia",
		"OptOutType=%C3%28": "OptOutType",
	} {
		f := cloneForm(form)
		k, v, _ := strings.Cut(change, "=")
		v, err := url.QueryUnescape(v)
		require.NoError(t, err)
		f.Set(k, v)
		_, err = parseInbound(f)
		require.ErrorContains(t, err, "field "+field, change)
		require.NotErrorIs(t, err, messaging.ErrWebhookUnverified, change)
	}
}

func TestParseInbound_FirstValue(t *testing.T) {
	t.Parallel()
	// A repeated parameter, every value of it signed, reads as its first.
	m, err := parseInbound(url.Values{"MessageSid": {"SM1", "SM2"}, "AccountSid": {"AC1"}, "From": {"+1555"}, "To": {"+1666"}})
	require.NoError(t, err)
	require.Equal(t, "SM1", m.ProviderID)
}

func TestParseInbound_UnstorableBody(t *testing.T) {
	t.Parallel()
	// A reply is never refused for its text: it cancels the sequence.
	m, err := parseInbound(url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {"+1555"}, "To": {"+1666"}, "Body": {"ok\x00\xff"}})
	require.NoError(t, err)
	require.Equal(t, "ok\uFFFD\uFFFD", m.Body)
	_, err = parseInbound(url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {"+1555"}, "To": {"+1666"}, "Body": {strings.Repeat("x", 9000)}})
	require.ErrorContains(t, err, "field Body")
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	s, err := parseStatus(url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "MessageStatus": {"failed"}, "ErrorCode": {"30034"}})
	require.NoError(t, err)
	require.Equal(t, messaging.SMSStatus{ProviderID: "SM1", AccountID: "AC1", Status: "failed", ErrorCode: 30034,
		Verdict: messaging.VerdictUnregistered}, s)
	s, err = parseStatus(url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "ErrorCode": {""}})
	require.NoError(t, err)
	require.Zero(t, s.ErrorCode)

	for _, tt := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"MessageStatus": {"sent"}}, "MessageSid"},
		{url.Values{"MessageSid": {"SM1"}}, "MessageStatus"},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"Delivered!"}}, "MessageStatus"},
		{url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"sent"}, "ErrorCode": {"x"}}, "ErrorCode"},
	} {
		_, err := parseStatus(tt.form)
		require.ErrorContains(t, err, "field "+tt.field, tt.form)
	}
}

// TestParseUnverified: a request that does not prove it is Twilio's is
// refused as unverified (401) before any field is read.
func TestParseUnverified(t *testing.T) {
	t.Parallel()
	form := url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {"+1555"}, "To": {"+1666"}, "MessageStatus": {"sent"}}
	h, body := signedForm(form)
	w := twilio.NewWebhooks(testTwilioToken)
	for name, tt := range map[string]struct {
		url    string
		header http.Header
		body   []byte
		reason string
	}{
		"NotAForm":         {testPublicURL, h, []byte("Body=%zz"), "not a form"},
		"SignatureMissing": {testPublicURL, http.Header{}, body, "is missing"},
		"OtherURL":         {"https://hooks.example.com/webhooks/twilio/t2/sms?v=2", h, body, "does not verify"},
		"TamperedByte":     {testPublicURL, h, []byte(strings.Replace(string(body), "SM1", "SM2", 1)), "does not verify"},
		"QueryIsNotBody":   {testPublicURL + "&Body=STOP", h, body, "does not verify"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := w.ParseInbound(tt.url, tt.header, tt.body)
			require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
			require.ErrorContains(t, err, tt.reason)
			_, err = w.ParseStatus(tt.url, tt.header, tt.body)
			require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
			require.NotContains(t, err.Error(), testTwilioToken)
		})
	}

	t.Run("EmptyToken", func(t *testing.T) {
		t.Parallel()
		h := http.Header{}
		h.Set(twilio.SignatureHeader, faketwilio.Signature("", testPublicURL, form))
		_, err := twilio.NewWebhooks("").ParseStatus(testPublicURL, h, []byte(form.Encode()))
		require.ErrorIs(t, err, messaging.ErrWebhookUnverified)
	})
}

// TestWebhooksEndToEnd runs the sandbox's Twilio senders against the
// parsers over real HTTP, with the public URL taken from configuration
// plus the request URI, as the route builds it.
func TestWebhooksEndToEnd(t *testing.T) {
	t.Parallel()
	got := make(chan any, 1)
	var publicBase string
	w := twilio.NewWebhooks(testTwilioToken)
	handle := func(parse func(u string, h http.Header, body []byte) (any, error)) http.HandlerFunc {
		return func(rw http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			v, err := parse(publicBase+r.URL.RequestURI(), r.Header, body)
			if err != nil {
				http.Error(rw, err.Error(), http.StatusUnauthorized)
				return
			}
			got <- v
		}
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/twilio/{tenant}/sms", handle(func(u string, h http.Header, b []byte) (any, error) { return w.ParseInbound(u, h, b) }))
	mux.Handle("POST /webhooks/twilio/{tenant}/status", handle(func(u string, h http.Header, b []byte) (any, error) { return w.ParseStatus(u, h, b) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	publicBase = srv.URL
	ctx := context.Background()

	sid, err := faketwilio.PostInbound(ctx, srv.Client(), srv.URL+"/webhooks/twilio/t1/sms?v=2", testTwilioToken, "+15555550100", "+15555550199", "Stop")
	require.NoError(t, err)
	require.Equal(t, messaging.InboundText{ProviderID: sid, AccountID: faketwilio.DefaultAccountSID, From: "+15555550100", To: "+15555550199", Body: "Stop", OptOutType: "STOP"}, <-got)
	_, err = faketwilio.PostInbound(ctx, srv.Client(), srv.URL+"/webhooks/twilio/t1/sms", "wrong-token", "+15555550100", "+15555550199", "hi")
	require.ErrorContains(t, err, "401")

	require.NoError(t, faketwilio.PostStatus(ctx, srv.Client(), srv.URL+"/webhooks/twilio/t1/status", testTwilioToken, sid, "undelivered", 30007))
	require.Equal(t, messaging.SMSStatus{ProviderID: sid, AccountID: faketwilio.DefaultAccountSID, Status: "undelivered", ErrorCode: 30007,
		Verdict: messaging.VerdictFiltered}, <-got)
}
