package twilio_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// storable reports whether s can be stored and shown as it is: valid
// UTF-8, no NUL.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// twilioFuzzURL is the public URL the Twilio fuzz targets sign and verify.
const twilioFuzzURL = "https://hooks.example.com/webhooks/twilio/t1/sms?v=1"

// signedBody signs raw, a form body, as the sandbox's Twilio does; ok is
// false when raw is not a form.
func signedBody(token, raw string) (h http.Header, form url.Values, ok bool) {
	form, err := url.ParseQuery(raw)
	if err != nil {
		return nil, nil, false
	}
	h = http.Header{}
	h.Set(twilio.SignatureHeader, faketwilio.Signature(token, twilioFuzzURL, form))
	return h, form, true
}

func FuzzParseInbound(f *testing.F) {
	for _, seed := range []string{
		"ToCountry=US&SmsMessageSid=SM1&NumMedia=0&SmsSid=SM1&SmsStatus=received&Body=Yes+please&To=%2B15555550199&NumSegments=1&MessageSid=SM1&AccountSid=AC1&From=%2B15555550100&ApiVersion=2010-04-01",
		"MessageSid=SM1&AccountSid=AC1&From=%2B1555&To=%2B1666&Body=STOP&OptOutType=STOP",
		"MessageSid=SM1&AccountSid=AC1&From=a&To=b&NumMedia=3&MediaUrl0=https%3A%2F%2Fx",
		"MessageSid=SM1&MessageSid=SM2&AccountSid=AC1&From=a&To=b",
		"MessageSid=SM1&AccountSid=AC1&From=a&To=b&NumMedia=-1",
		"MessageSid=SM1&AccountSid=AC1&From=a&To=b&Body=%FF",
		"Body=%zz", "a;b=c", "", "=",
	} {
		f.Add(seed)
	}
	w := twilio.NewWebhooks("fuzz-token")
	f.Fuzz(func(t *testing.T, raw string) {
		h, form, ok := signedBody("fuzz-token", raw)
		if !ok {
			_, err := w.ParseInbound(twilioFuzzURL, http.Header{twilio.SignatureHeader: {"x"}}, []byte(raw))
			if !errors.Is(err, messaging.ErrWebhookUnverified) {
				t.Fatalf("a body that is not a form is not unverified: %v", err)
			}
			return
		}
		m, err := w.ParseInbound(twilioFuzzURL, h, []byte(raw))
		switch {
		case errors.Is(err, messaging.ErrWebhookUnverified):
			// What the sandbox signs, every value of a repeated name
			// included, the worker verifies.
			t.Fatalf("sandbox signature of %q does not verify: %v", raw, err)
		case err == nil:
			for _, s := range []string{m.ProviderID, m.AccountID, m.From, m.To} {
				if s == "" {
					t.Fatalf("required field empty: %+v", m)
				}
			}
			for _, s := range []string{m.ProviderID, m.AccountID, m.From, m.To, m.Body, m.OptOutType} {
				if !storable(s) {
					t.Fatalf("unstorable text accepted: %q", s)
				}
			}
			if m.NumMedia < 0 {
				t.Fatalf("negative NumMedia %d", m.NumMedia)
			}
			if storable(form.Get("Body")) && m.Body != form.Get("Body") {
				t.Fatalf("storable body %q changed to %q", form.Get("Body"), m.Body)
			}
			if m.ProviderID != form.Get("MessageSid") || m.From != form.Get("From") || m.To != form.Get("To") {
				t.Fatalf("parsed %+v is not the first values of %v", m, form)
			}
		case !strings.Contains(err.Error(), "field "):
			t.Fatalf("error does not name a field: %v", err)
		}

		// Any change to a value, or another token, does not verify.
		other := http.Header{}
		other.Set(twilio.SignatureHeader, faketwilio.Signature("other-token", twilioFuzzURL, form))
		if _, err := w.ParseInbound(twilioFuzzURL, other, []byte(raw)); !errors.Is(err, messaging.ErrWebhookUnverified) {
			t.Fatalf("signature verifies with another token")
		}
		for k := range form {
			tampered := url.Values{}
			for k2, v := range form {
				tampered[k2] = slices.Clone(v)
			}
			tampered[k][0] += "x"
			if _, err := w.ParseInbound(twilioFuzzURL, h, []byte(tampered.Encode())); !errors.Is(err, messaging.ErrWebhookUnverified) {
				t.Fatalf("signature verifies with %s tampered", k)
			}
			break
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	for _, seed := range []string{
		"SmsSid=SM1&SmsStatus=delivered&MessageStatus=delivered&To=%2B15555550199&MessageSid=SM1&AccountSid=AC1&From=%2B15555550100&ApiVersion=2010-04-01",
		"MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003",
		"MessageSid=SM1&MessageStatus=failed&ErrorCode=30034&AccountSid=AC1",
		"MessageSid=SM1&MessageStatus=sent&ErrorCode=",
		"MessageSid=SM1&MessageStatus=sent&ErrorCode=99999999999999999999",
		"MessageSid=SM1&MessageStatus=bogus", "MessageStatus=sent", "", "%",
	} {
		f.Add(seed)
	}
	w := twilio.NewWebhooks("fuzz-token")
	known := []string{
		"accepted", "scheduled", "canceled", "queued", "sending", "sent", "failed",
		"delivered", "undelivered", "receiving", "received", "read", "partially_delivered",
	}
	f.Fuzz(func(t *testing.T, raw string) {
		h, _, ok := signedBody("fuzz-token", raw)
		if !ok {
			return
		}
		s, err := w.ParseStatus(twilioFuzzURL, h, []byte(raw))
		if err != nil {
			if errors.Is(err, messaging.ErrWebhookUnverified) || !strings.Contains(err.Error(), "field ") {
				t.Fatalf("error does not name a field: %v", err)
			}
			return
		}
		if s.ProviderID == "" || !storable(s.ProviderID) || !storable(s.AccountID) {
			t.Fatalf("bad sid accepted: %+v", s)
		}
		if !slices.Contains(known, s.Status) {
			t.Fatalf("status %q accepted", s.Status)
		}
		if s.ErrorCode < 0 {
			t.Fatalf("negative ErrorCode %d", s.ErrorCode)
		}
	})
}
