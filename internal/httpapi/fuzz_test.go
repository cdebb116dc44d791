package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// storable reports whether s can be stored and shown as it is: valid
// UTF-8, no NUL.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func FuzzParseShopMonkeyWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"v3","operation":"INSERT","table":"order","data":{"id":"ord_1","status":"Estimate","locationId":"loc","meta":{"version":3}},"diff":null}`,
		`{"operation":"UPDATE","table":"appointment","data":{"id":"a1","attributionSource":"WorkRequestForm","updatedDate":"2025-01-02T03:04:05Z"}}`,
		`{"operation":"DELETE","table":"customer","data":{"id":"c1","meta":{"version":"12"}},"diff":[{"op":"remove","path":"/x"}]}`,
		`{"operation":"insert","table":"order","data":{"id":"o","meta":{"version":""}}}`,
		`{"operation":"INSERT","table":"order","data":{"id":"o","meta":5}}`,
		`{"operation":"INSERT","table":"order","data":{"id":"\u0007"}}`,
		`{"operation":"INSERT","table":"order","data":null}`,
		`{}`, `[]`, `null`, ``, `{"data":{"id":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseShopMonkeyWebhook(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "shopmonkey webhook: ") {
				t.Fatalf("error does not say what failed: %v", err)
			}
			if e != (ShopMonkeyEvent{}) {
				t.Fatalf("error with a non-zero event: %+v", e)
			}
			return
		}
		if e.RecordID == "" || e.Table == "" {
			t.Fatalf("parsed without record id or table: %+v", e)
		}
		if !slices.Contains([]string{ShopMonkeyInsert, ShopMonkeyUpdate, ShopMonkeyDelete}, e.Operation) {
			t.Fatalf("operation %q accepted", e.Operation)
		}
		for _, s := range []string{e.RecordID, e.Table, e.Operation, e.LocationID, e.Status, e.AttributionSource, e.APIVersion} {
			if !storable(s) || strings.ContainsFunc(s, unicode.IsControl) {
				t.Fatalf("unstorable text accepted: %q", s)
			}
		}
		if x := e.ExternalID(); x != "" && x != e.Table+":"+e.RecordID {
			t.Fatalf("ExternalID %q of %+v", x, e)
		}
		if e.LeadCandidate() && e.ExternalID() == "" {
			t.Fatalf("lead candidate without an ExternalID: %+v", e)
		}
	})
}

func FuzzParseTekmetricWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"event":"Repair Order Created","data":{"id":123,"shopId":238,"customerId":9}}`,
		`{"event":"Appointment Created","data":{"id":5}}`,
		`{"event":"Customer Viewed Estimate","data":{"id":9}}`,
		`{"event":"Appointment Deleted","data":{"id":"5"}}`,
		`{"event":"Repair Order Updated","data":{"id":1e3}}`,
		`{"event":"Repair Order Updated","data":{"id":9223372036854775808}}`,
		`{"event":"","data":{}}`, `{"event":"x"}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseTekmetricWebhook(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tekmetric webhook: ") {
				t.Fatalf("error does not say what failed: %v", err)
			}
			return
		}
		if e.Event == "" || !storable(e.Event) {
			t.Fatalf("bad event name accepted: %q", e.Event)
		}
		switch e.Kind {
		case TekmetricRepairOrder, TekmetricAppointment:
			if e.ID <= 0 {
				t.Fatalf("%s without a positive id: %+v", e.Kind, e)
			}
			if e.ExternalID() != string(e.Kind)+":"+strconv.FormatInt(e.ID, 10) {
				t.Fatalf("ExternalID %q of %+v", e.ExternalID(), e)
			}
		case TekmetricOther:
			if e.ID < 0 || e.ExternalID() != "" {
				t.Fatalf("other event %+v", e)
			}
		default:
			t.Fatalf("unknown kind %q", e.Kind)
		}
	})
}

// twilioFuzzURL is the public URL the Twilio fuzz targets sign and verify.
const twilioFuzzURL = "https://hooks.example.com/webhooks/twilio/t1/sms?v=1"

func FuzzParseTwilioInbound(f *testing.F) {
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
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return // the handler answers 400 before parsing
		}
		m, err := ParseTwilioInbound(form)
		if err == nil {
			for _, s := range []string{m.MessageSid, m.AccountSid, m.From, m.To} {
				if s == "" {
					t.Fatalf("required field empty: %+v", m)
				}
			}
			for _, s := range []string{m.MessageSid, m.AccountSid, m.From, m.To, m.Body, m.OptOutType} {
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
			if m.MessageSid != form.Get("MessageSid") || m.From != form.Get("From") || m.To != form.Get("To") {
				t.Fatalf("parsed %+v is not the first values of %v", m, form)
			}
		} else if !strings.Contains(err.Error(), "field ") {
			t.Fatalf("error does not name a field: %v", err)
		}

		// What the sandbox signs, the worker verifies; any change to a
		// value does not verify. Repeated names are signed differently by
		// Twilio's libraries (all values vs the first), so only forms
		// without them are checked.
		for _, v := range form {
			if len(v) > 1 {
				return
			}
		}
		sig := faketwilio.Signature("fuzz-token", twilioFuzzURL, form)
		if !VerifyTwilioSignature("fuzz-token", twilioFuzzURL, form, sig) {
			t.Fatalf("sandbox signature of %q does not verify", raw)
		}
		if VerifyTwilioSignature("other-token", twilioFuzzURL, form, sig) {
			t.Fatalf("signature verifies with another token")
		}
		for k := range form {
			tampered := url.Values{}
			for k2, v := range form {
				tampered[k2] = v
			}
			tampered.Set(k, form.Get(k)+"x")
			if VerifyTwilioSignature("fuzz-token", twilioFuzzURL, tampered, sig) {
				t.Fatalf("signature verifies with %s tampered", k)
			}
			break
		}
	})
}

func FuzzParseTwilioStatus(f *testing.F) {
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
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s, err := ParseTwilioStatus(form)
		if err != nil {
			if !strings.Contains(err.Error(), "field ") {
				t.Fatalf("error does not name a field: %v", err)
			}
			return
		}
		if s.MessageSid == "" || !storable(s.MessageSid) || !storable(s.AccountSid) {
			t.Fatalf("bad sid accepted: %+v", s)
		}
		if !slices.Contains(twilioStatuses, s.MessageStatus) {
			t.Fatalf("status %q accepted", s.MessageStatus)
		}
		if s.ErrorCode < 0 {
			t.Fatalf("negative ErrorCode %d", s.ErrorCode)
		}
	})
}

func FuzzVerifyStandardWebhook(f *testing.F) {
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	good := fakeshopmonkey.SignWebhook(testWebhookSecret, "msg_1", now, []byte(`{"a":1}`))
	f.Add("msg_1", good.Get(WebhookTimestampHeader), good.Get(WebhookSignatureHeader), []byte(`{"a":1}`), int64(0))
	f.Add("msg_1", good.Get(WebhookTimestampHeader), "v1a,xx "+good.Get(WebhookSignatureHeader), []byte(`{"a":1}`), int64(299))
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`), int64(-1))
	f.Add("", "", "", []byte{}, int64(0))
	f.Add("id", "-9223372036854775808", "v1,", []byte("x"), int64(301))
	f.Add("id", "+1741100400", "v1,AAAA v1,====", []byte("x"), int64(-301))
	f.Fuzz(func(t *testing.T, id, timestamp, signature string, body []byte, offset int64) {
		h := http.Header{}
		h.Set(WebhookIDHeader, id)
		h.Set(WebhookTimestampHeader, timestamp)
		h.Set(WebhookSignatureHeader, signature)
		gotID, err := VerifyStandardWebhook(testWebhookSecret, h, body, now)
		if err == nil {
			// Accepted: the header must hold the real signature of a
			// fresh timestamp.
			secs, perr := strconv.ParseInt(timestamp, 10, 64)
			if perr != nil || gotID != id {
				t.Fatalf("accepted id %q timestamp %q", id, timestamp)
			}
			want := fakeshopmonkey.SignWebhook(testWebhookSecret, id, time.Unix(secs, 0), body).Get(WebhookSignatureHeader)
			if strconv.FormatInt(secs, 10) == timestamp && !slices.Contains(strings.Fields(signature), want) {
				t.Fatalf("accepted %q without its signature %q", signature, want)
			}
		} else if errors.Is(err, ErrWebhookSecret) {
			t.Fatalf("a request error blamed on the secret: %v", err)
		} else if strings.Contains(err.Error(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
			t.Fatalf("error holds the secret: %v", err)
		}

		// Round trip: what the sandbox signs within the skew verifies,
		// and a changed body does not.
		if id == "" {
			return
		}
		at := now.Add(time.Duration(offset%int64(MaxWebhookSkew/time.Second)) * time.Second)
		signed := fakeshopmonkey.SignWebhook(testWebhookSecret, id, at, body)
		gotID, err = VerifyStandardWebhook(testWebhookSecret, signed, body, now)
		if err != nil || gotID != id {
			t.Fatalf("sandbox-signed webhook rejected: id %q, %v", gotID, err)
		}
		_, err = VerifyStandardWebhook(testWebhookSecret, signed, append(slices.Clone(body), '!'), now)
		if !errors.Is(err, ErrWebhookSignature) {
			t.Fatalf("tampered body: %v", err)
		}
	})
}
