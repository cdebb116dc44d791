package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

const (
	testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testTwilioToken   = "twilio-auth-token-0123456789abcdef"
)

// signedWebhook is a Standard Webhooks request signed by the sandbox.
type signedWebhook struct {
	header http.Header
	body   []byte
	now    time.Time
}

func setupSignedWebhook(t *testing.T) signedWebhook {
	t.Helper()
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	body := []byte(`{"apiVersion":"v3","operation":"INSERT","table":"order","data":{"id":"ord_1","status":"Estimate"}}`)
	return signedWebhook{header: fakeshopmonkey.SignWebhook(testWebhookSecret, "msg_1", now, body), body: body, now: now}
}

func TestVerifyStandardWebhook(t *testing.T) {
	t.Parallel()

	t.Run("SandboxSigned", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		id, err := VerifyStandardWebhook(testWebhookSecret, w.header, w.body, w.now)
		require.NoError(t, err)
		require.Equal(t, "msg_1", id)
	})

	t.Run("PublishedVector", func(t *testing.T) {
		t.Parallel()
		h := http.Header{}
		h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
		h.Set("webhook-timestamp", "1614265330")
		h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
		id, err := VerifyStandardWebhook(testWebhookSecret, h, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0))
		require.NoError(t, err)
		require.Equal(t, "msg_p5jXN8AQM9LWM0D4loKWxJek", id)
	})

	t.Run("RawSecret", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		h := fakeshopmonkey.SignWebhook("raw-secret", "msg_2", w.now, w.body)
		_, err := VerifyStandardWebhook("raw-secret", h, w.body, w.now)
		require.NoError(t, err)
	})

	t.Run("AnyOfSeveralSignatures", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		good := w.header.Get(WebhookSignatureHeader)
		w.header.Set(WebhookSignatureHeader, "v1a,c2lnbmF0dXJl v1,bm90IGl0 v1,!!! "+good+" v2,x")
		_, err := VerifyStandardWebhook(testWebhookSecret, w.header, w.body, w.now)
		require.NoError(t, err)
	})

	t.Run("WithinSkew", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		for _, now := range []time.Time{w.now.Add(MaxWebhookSkew), w.now.Add(-MaxWebhookSkew)} {
			_, err := VerifyStandardWebhook(testWebhookSecret, w.header, w.body, now)
			require.NoError(t, err)
		}
	})

	rejected := map[string]struct {
		change func(w *signedWebhook) string // returns the secret to verify with
		want   error
	}{
		"TamperedBody": {func(w *signedWebhook) string {
			w.body = []byte(strings.Replace(string(w.body), "ord_1", "ord_2", 1))
			return testWebhookSecret
		}, ErrWebhookSignature},
		"TamperedID": {func(w *signedWebhook) string {
			w.header.Set(WebhookIDHeader, "msg_other")
			return testWebhookSecret
		}, ErrWebhookSignature},
		"TamperedTimestamp": {func(w *signedWebhook) string {
			w.header.Set(WebhookTimestampHeader, "1741100401")
			return testWebhookSecret
		}, ErrWebhookSignature},
		"WrongSecret": {func(w *signedWebhook) string {
			return "whsec_" + base64.StdEncoding.EncodeToString([]byte("another key entirely"))
		}, ErrWebhookSignature},
		"RawSecretForBase64One": {func(w *signedWebhook) string {
			return strings.TrimPrefix(testWebhookSecret, "whsec_")
		}, ErrWebhookSignature},
		"Stale": {func(w *signedWebhook) string {
			w.now = w.now.Add(MaxWebhookSkew + time.Second)
			return testWebhookSecret
		}, ErrWebhookStale},
		"Future": {func(w *signedWebhook) string {
			w.now = w.now.Add(-MaxWebhookSkew - time.Second)
			return testWebhookSecret
		}, ErrWebhookStale},
		"HugeTimestamp": {func(w *signedWebhook) string {
			w.header.Set(WebhookTimestampHeader, "9223372036854775807")
			return testWebhookSecret
		}, ErrWebhookStale},
		"UnknownVersionOnly": {func(w *signedWebhook) string {
			w.header.Set(WebhookSignatureHeader, "v2,"+strings.TrimPrefix(w.header.Get(WebhookSignatureHeader), "v1,"))
			return testWebhookSecret
		}, ErrWebhookSignature},
		"MissingID": {func(w *signedWebhook) string {
			w.header.Del(WebhookIDHeader)
			return testWebhookSecret
		}, ErrWebhookHeader},
		"MissingTimestamp": {func(w *signedWebhook) string {
			w.header.Del(WebhookTimestampHeader)
			return testWebhookSecret
		}, ErrWebhookHeader},
		"MissingSignature": {func(w *signedWebhook) string {
			w.header.Del(WebhookSignatureHeader)
			return testWebhookSecret
		}, ErrWebhookHeader},
		"BlankSignature": {func(w *signedWebhook) string {
			w.header.Set(WebhookSignatureHeader, "   ")
			return testWebhookSecret
		}, ErrWebhookHeader},
		"TimestampNotSeconds": {func(w *signedWebhook) string {
			w.header.Set(WebhookTimestampHeader, "2025-03-04T15:00:00Z")
			return testWebhookSecret
		}, ErrWebhookHeader},
		"EmptySecret":    {func(w *signedWebhook) string { return "" }, ErrWebhookSecret},
		"EmptyWhsecKey":  {func(w *signedWebhook) string { return "whsec_" }, ErrWebhookSecret},
		"WhsecNotBase64": {func(w *signedWebhook) string { return "whsec_not base64!" }, ErrWebhookSecret},
	}
	for name, tt := range rejected {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := setupSignedWebhook(t)
			secret := tt.change(&w)
			expected := w.header.Get(WebhookSignatureHeader)
			id, err := VerifyStandardWebhook(secret, w.header, w.body, w.now)
			require.ErrorIs(t, err, tt.want)
			require.Empty(t, id)
			msg := err.Error()
			require.NotContains(t, msg, strings.TrimPrefix(testWebhookSecret, "whsec_"))
			if len(secret) > len("whsec_") {
				require.NotContains(t, msg, secret)
			}
			if sig := strings.TrimPrefix(expected, "v1,"); sig != "" {
				require.NotContains(t, msg, sig)
			}
		})
	}
}

func TestVerifyURLToken(t *testing.T) {
	t.Parallel()
	require.True(t, VerifyURLToken("tok_abc", "tok_abc"))
	require.False(t, VerifyURLToken("tok_abc", "tok_abd"))
	require.False(t, VerifyURLToken("tok_abc", "tok_ab"))
	require.False(t, VerifyURLToken("tok_abc", ""))
	require.False(t, VerifyURLToken("", ""))
	require.False(t, VerifyURLToken("", "anything"))
}

// twilioSignatureByHand is Twilio's documented algorithm written out once
// more, without the SDK or the sandbox, for single-valued forms.
func twilioSignatureByHand(token, u string, pairs ...string) string {
	form := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		form.Set(pairs[i], pairs[i+1])
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	// Insertion sort keeps this free of the code under test's helpers.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	s := u
	for _, k := range keys {
		s += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestVerifyTwilioSignature(t *testing.T) {
	t.Parallel()
	const publicURL = "https://hooks.example.com/webhooks/twilio/t1/sms"
	form := url.Values{
		"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "AccountSid": {"AC0123"},
		"From": {"+15555550100"}, "To": {"+15555550199"}, "Body": {"Yes, Tuesday at 9"}, "NumMedia": {"0"},
	}
	sig := faketwilio.Signature(testTwilioToken, publicURL, form)

	t.Run("DocumentedAlgorithm", func(t *testing.T) {
		t.Parallel()
		byHand := twilioSignatureByHand(testTwilioToken, publicURL,
			"MessageSid", "SM0123456789abcdef0123456789abcdef", "AccountSid", "AC0123",
			"From", "+15555550100", "To", "+15555550199", "Body", "Yes, Tuesday at 9", "NumMedia", "0")
		require.Equal(t, byHand, sig)
		require.True(t, VerifyTwilioSignature(testTwilioToken, publicURL, form, byHand))

		doc := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}
		require.True(t, VerifyTwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", doc, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="))
	})

	t.Run("SandboxSigned", func(t *testing.T) {
		t.Parallel()
		require.True(t, VerifyTwilioSignature(testTwilioToken, publicURL, form, sig))
	})

	t.Run("PortAddedOrRemoved", func(t *testing.T) {
		t.Parallel()
		// twilio-go accepts the URL with the scheme's default port added
		// or any port removed, as Twilio's own libraries do.
		require.True(t, VerifyTwilioSignature(testTwilioToken, "https://hooks.example.com:443/webhooks/twilio/t1/sms", form, sig))
	})

	rejected := map[string]struct {
		token, url string
		form       func(url.Values)
		sig        string
	}{
		"TamperedParam":  {form: func(f url.Values) { f.Set("Body", "STOP") }},
		"AddedParam":     {form: func(f url.Values) { f.Set("OptOutType", "STOP") }},
		"RemovedParam":   {form: func(f url.Values) { f.Del("NumMedia") }},
		"HTTPNotHTTPS":   {url: "http://hooks.example.com/webhooks/twilio/t1/sms"},
		"OtherHost":      {url: "https://evil.example.com/webhooks/twilio/t1/sms"},
		"OtherPath":      {url: "https://hooks.example.com/webhooks/twilio/t2/sms"},
		"AddedQuery":     {url: publicURL + "?x=1"},
		"WrongToken":     {token: "another-auth-token"},
		"EmptyToken":     {token: "-"},
		"EmptySignature": {sig: "-"},
		"GarbageSig":     {sig: "not base64 at all"},
	}
	for name, tt := range rejected {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			token, u, s, f := testTwilioToken, publicURL, sig, url.Values{}
			for k, v := range form {
				f[k] = append([]string(nil), v...)
			}
			if tt.token != "" {
				token = strings.TrimPrefix(tt.token, "-")
			}
			if tt.url != "" {
				u = tt.url
			}
			if tt.sig != "" {
				s = strings.TrimPrefix(tt.sig, "-")
			}
			if tt.form != nil {
				tt.form(f)
			}
			require.False(t, VerifyTwilioSignature(token, u, f, s))
		})
	}

	t.Run("EmptyTokenNeverVerifies", func(t *testing.T) {
		t.Parallel()
		// An HMAC with an empty key is one anyone can compute.
		require.False(t, VerifyTwilioSignature("", publicURL, form, faketwilio.Signature("", publicURL, form)))
	})
}

// TestWebhooksEndToEnd runs the sandbox's senders against handlers built
// the way the routes will use the verifiers and parsers: over real HTTP,
// with the public URL taken from configuration plus the request URI.
func TestWebhooksEndToEnd(t *testing.T) {
	t.Parallel()
	got := make(chan any, 1)
	var publicBase string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/shopmonkey/{tenant}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, err := VerifyStandardWebhook(testWebhookSecret, r.Header, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		e, err := ParseShopMonkeyWebhook(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- e
	})
	mux.HandleFunc("POST /webhooks/tekmetric/{tenant}/{token}", func(w http.ResponseWriter, r *http.Request) {
		if !VerifyURLToken("tok_secret", r.PathValue("token")) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		e, err := ParseTekmetricWebhook(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- e
	})
	twilio := func(parse func(url.Values) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			form, err := url.ParseQuery(string(body))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if !VerifyTwilioSignature(testTwilioToken, publicBase+r.URL.RequestURI(), form, r.Header.Get(TwilioSignatureHeader)) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			v, err := parse(form)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			got <- v
		}
	}
	mux.Handle("POST /webhooks/twilio/{tenant}/sms", twilio(func(f url.Values) (any, error) { return ParseTwilioInbound(f) }))
	mux.Handle("POST /webhooks/twilio/{tenant}/status", twilio(func(f url.Values) (any, error) { return ParseTwilioStatus(f) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	publicBase = srv.URL
	ctx := context.Background()

	require.NoError(t, fakeshopmonkey.PostWebhook(ctx, srv.Client(), srv.URL+"/webhooks/shopmonkey/t1", testWebhookSecret, "INSERT", "order",
		map[string]any{"id": "ord_9", "status": "Estimate", "locationId": "loc-maple", "meta": map[string]any{"version": 4}}))
	require.Equal(t, ShopMonkeyEvent{APIVersion: "v3", Operation: "INSERT", Table: "order", RecordID: "ord_9", LocationID: "loc-maple", Status: "Estimate", Version: 4}, <-got)
	err := fakeshopmonkey.PostWebhook(ctx, srv.Client(), srv.URL+"/webhooks/shopmonkey/t1", "whsec_"+base64.StdEncoding.EncodeToString([]byte("other")), "INSERT", "order", map[string]any{"id": "x"})
	require.ErrorContains(t, err, "401")

	require.NoError(t, faketekmetric.PostWebhook(ctx, srv.Client(), srv.URL+"/webhooks/tekmetric/t1/tok_secret", "Appointment Created", map[string]any{"id": 77}))
	require.Equal(t, TekmetricEvent{Event: "Appointment Created", Kind: TekmetricAppointment, ID: 77}, <-got)
	require.ErrorContains(t, faketekmetric.PostWebhook(ctx, srv.Client(), srv.URL+"/webhooks/tekmetric/t1/tok_guess", "Appointment Created", map[string]any{"id": 77}), "401")

	sid, err := faketwilio.PostInbound(ctx, srv.Client(), srv.URL+"/webhooks/twilio/t1/sms?v=2", testTwilioToken, "+15555550100", "+15555550199", "Stop")
	require.NoError(t, err)
	require.Equal(t, InboundSMS{MessageSid: sid, AccountSid: faketwilio.DefaultAccountSID, From: "+15555550100", To: "+15555550199", Body: "Stop", OptOutType: "STOP"}, <-got)
	_, err = faketwilio.PostInbound(ctx, srv.Client(), srv.URL+"/webhooks/twilio/t1/sms", "wrong-token", "+15555550100", "+15555550199", "hi")
	require.ErrorContains(t, err, "401")

	require.NoError(t, faketwilio.PostStatus(ctx, srv.Client(), srv.URL+"/webhooks/twilio/t1/status", testTwilioToken, sid, "undelivered", 30007))
	require.Equal(t, StatusCallback{MessageSid: sid, AccountSid: faketwilio.DefaultAccountSID, MessageStatus: "undelivered", ErrorCode: 30007}, <-got)
}

func TestParseShopMonkeyWebhook(t *testing.T) {
	t.Parallel()

	t.Run("Order", func(t *testing.T) {
		t.Parallel()
		e, err := ParseShopMonkeyWebhook([]byte(`{"apiVersion":"v3","operation":"UPDATE","table":"order",
			"data":{"id":"ord_1","status":"Estimate","locationId":"loc","number":12,"updatedDate":"2025-03-04T15:00:00.5Z"},"diff":[{"op":"replace"}]}`))
		require.NoError(t, err)
		require.Equal(t, ShopMonkeyEvent{APIVersion: "v3", Operation: "UPDATE", Table: "order", RecordID: "ord_1", LocationID: "loc", Status: "Estimate",
			Version: time.Date(2025, 3, 4, 15, 0, 0, 500e6, time.UTC).UnixMilli()}, e)
		require.Equal(t, "order:ord_1", e.ExternalID())
		require.True(t, e.LeadCandidate())
	})

	t.Run("LenientExtras", func(t *testing.T) {
		t.Parallel()
		// apiVersion and meta decide nothing: odd shapes do not refuse a
		// signed webhook.
		e, err := ParseShopMonkeyWebhook([]byte(`{"apiVersion":3,"operation":"INSERT","table":"appointment","data":{"id":"a","meta":{"version":"7"}}}`))
		require.NoError(t, err)
		require.Equal(t, "3", e.APIVersion)
		require.Equal(t, int64(7), e.Version)
		e, err = ParseShopMonkeyWebhook([]byte(`{"apiVersion":{},"operation":"INSERT","table":"order","data":{"id":"o","meta":"x","updatedDate":"bad"}}`))
		require.NoError(t, err)
		require.Empty(t, e.APIVersion)
		require.Zero(t, e.Version)
	})

	t.Run("LeadCandidates", func(t *testing.T) {
		t.Parallel()
		for body, want := range map[string]bool{
			`{"operation":"INSERT","table":"order","data":{"id":"o","status":"Estimate"}}`:                         true,
			`{"operation":"INSERT","table":"order","data":{"id":"o"}}`:                                             true,
			`{"operation":"UPDATE","table":"order","data":{"id":"o","status":"RepairOrder"}}`:                      false,
			`{"operation":"DELETE","table":"order","data":{"id":"o","status":"Estimate"}}`:                         false,
			`{"operation":"INSERT","table":"appointment","data":{"id":"a","attributionSource":"WorkRequestForm"}}`: true,
			`{"operation":"INSERT","table":"appointment","data":{"id":"a","attributionSource":"Manual"}}`:          false,
			`{"operation":"INSERT","table":"customer","data":{"id":"c","status":5}}`:                               false,
			`{"apiVersion":3,"operation":"insert","table":"appointment","data":{"id":"a","meta":{"version":"7"}}}`: true,
		} {
			e, err := ParseShopMonkeyWebhook([]byte(body))
			require.NoError(t, err, body)
			require.Equal(t, want, e.LeadCandidate(), body)
		}
	})

	for body, field := range map[string]string{
		``:                  "body",
		`[]`:                "body",
		`{"operation":1}`:   "operation",
		`{"table":"order"}`: "operation",
		`{"operation":"UPSERT","table":"order","data":{"id":"o"}}`:                "operation",
		`{"operation":"INSERT","data":{"id":"o"}}`:                                "table",
		`{"operation":"INSERT","table":"order"}`:                                  "data",
		`{"operation":"INSERT","table":"order","data":[1]}`:                       "data",
		`{"operation":"INSERT","table":"order","data":{}}`:                        "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":7}}`:                  "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":""}}`:                 "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":"a\u0000b"}}`:         "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":"o","status":false}}`: "data.status",
		`{"operation":"INSERT","table":"order","data":{"id":"o","locationId":1}}`: "data.locationId",
	} {
		_, err := ParseShopMonkeyWebhook([]byte(body))
		require.Error(t, err, body)
		require.Contains(t, err.Error(), field, body)
	}
}

func TestParseTekmetricWebhook(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]TekmetricEvent{
		`{"event":"Repair Order Created","data":{"id":123,"shopId":238}}`: {Event: "Repair Order Created", Kind: TekmetricRepairOrder, ID: 123},
		`{"event":"appointment  updated","data":{"id":5}}`:                {Event: "appointment  updated", Kind: TekmetricAppointment, ID: 5},
		`{"event":"Customer Viewed Estimate","data":{"id":9}}`:            {Event: "Customer Viewed Estimate", Kind: TekmetricOther, ID: 9},
		`{"event":"Customer Created","data":{"id":"x"}}`:                  {Event: "Customer Created", Kind: TekmetricOther},
		`{"event":"Inventory Changed"}`:                                   {Event: "Inventory Changed", Kind: TekmetricOther},
	} {
		e, err := ParseTekmetricWebhook([]byte(body))
		require.NoError(t, err, body)
		require.Equal(t, want, e, body)
	}
	e, _ := ParseTekmetricWebhook([]byte(`{"event":"Repair Order Created","data":{"id":123}}`))
	require.Equal(t, "repair-order:123", e.ExternalID())
	e, _ = ParseTekmetricWebhook([]byte(`{"event":"Customer Viewed Estimate","data":{"id":9}}`))
	require.Empty(t, e.ExternalID())

	for body, field := range map[string]string{
		`nope`:                             "body",
		`{"data":{"id":1}}`:                "event",
		`{"event":["x"],"data":{}}`:        "event",
		`{"event":"Repair Order Created"}`: "data",
		`{"event":"Repair Order Created","data":"x"}`:                        "data",
		`{"event":"Repair Order Created","data":{}}`:                         "data.id",
		`{"event":"Appointment Created","data":{"id":"5"}}`:                  "data.id",
		`{"event":"Appointment Created","data":{"id":0}}`:                    "data.id",
		`{"event":"Appointment Created","data":{"id":-4}}`:                   "data.id",
		`{"event":"Appointment Created","data":{"id":1.5}}`:                  "data.id",
		`{"event":"Appointment Created","data":{"id":99999999999999999999}}`: "data.id",
	} {
		_, err := ParseTekmetricWebhook([]byte(body))
		require.Error(t, err, body)
		if field != "body" {
			field = "field " + field
		}
		require.Contains(t, err.Error(), field, body)
	}
}

func TestParseTwilioInbound(t *testing.T) {
	t.Parallel()
	form, err := url.ParseQuery("MessageSid=SM1&AccountSid=AC1&From=%2B15555550100&To=%2B15555550199&Body=Yes%0Aplease&NumMedia=2&OptOutType=START&SmsStatus=received")
	require.NoError(t, err)
	m, err := ParseTwilioInbound(form)
	require.NoError(t, err)
	require.Equal(t, InboundSMS{MessageSid: "SM1", AccountSid: "AC1", From: "+15555550100", To: "+15555550199", Body: "Yes\nplease", NumMedia: 2, OptOutType: "START"}, m)

	for change, field := range map[string]string{
		"MessageSid=":       "MessageSid",
		"AccountSid=":       "AccountSid",
		"From=":             "From",
		"To=":               "To",
		"NumMedia=two":      "NumMedia",
		"NumMedia=-1":       "NumMedia",
		"OptOutType=%C3%28": "OptOutType",
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		k, v, _ := strings.Cut(change, "=")
		v, err := url.QueryUnescape(v)
		require.NoError(t, err)
		f.Set(k, v)
		_, err = ParseTwilioInbound(f)
		require.ErrorContains(t, err, "field "+field, change)
	}
}

func TestParseTwilioInbound_UnstorableBody(t *testing.T) {
	t.Parallel()
	// A reply is never refused for its text: it cancels the sequence.
	m, err := ParseTwilioInbound(url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {"+1555"}, "To": {"+1666"}, "Body": {"ok\x00\xff"}})
	require.NoError(t, err)
	require.Equal(t, "ok\uFFFD\uFFFD", m.Body)
	_, err = ParseTwilioInbound(url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {"+1555"}, "To": {"+1666"}, "Body": {strings.Repeat("x", 9000)}})
	require.ErrorContains(t, err, "field Body")
}

func TestParseTwilioStatus(t *testing.T) {
	t.Parallel()
	s, err := ParseTwilioStatus(url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "MessageStatus": {"failed"}, "ErrorCode": {"30034"}})
	require.NoError(t, err)
	require.Equal(t, StatusCallback{MessageSid: "SM1", AccountSid: "AC1", MessageStatus: "failed", ErrorCode: 30034}, s)
	s, err = ParseTwilioStatus(url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "ErrorCode": {""}})
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
		_, err := ParseTwilioStatus(tt.form)
		require.ErrorContains(t, err, "field "+tt.field, tt.form)
	}
}

// TestTekmetricWebhookVersion: the version a webhook derives from the
// record's updatedDate is the adapter's (Unix milliseconds; a zone-less
// time is the shop's wall clock), so a webhook and a poll share an ingest.
func TestTekmetricWebhookVersion(t *testing.T) {
	t.Parallel()
	denver, err := time.LoadLocation("America/Denver")
	require.NoError(t, err)
	for body, want := range map[string]int64{
		`{"event":"Repair Order Updated","data":{"id":7,"updatedDate":"2026-11-25T10:30:00Z"}}`:    time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC).UnixMilli(),
		`{"event":"Appointment Created","data":{"id":8,"updatedDate":"2026-11-25T10:30:00.250"}}`:  time.Date(2026, 11, 25, 10, 30, 0, 250e6, denver).UnixMilli(),
		`{"event":"Appointment Created","data":{"id":9,"updatedDate":"2026-11-25T10:30:00-0700"}}`: time.Date(2026, 11, 25, 17, 30, 0, 0, time.UTC).UnixMilli(),
	} {
		e, err := ParseTekmetricWebhook([]byte(body))
		require.NoError(t, err)
		got, ok := e.Version(denver)
		require.True(t, ok, body)
		require.Equal(t, want, got, body)
	}
	e, err := ParseTekmetricWebhook([]byte(`{"event":"Repair Order Created","data":{"id":7}}`))
	require.NoError(t, err)
	_, ok := e.Version(denver)
	require.False(t, ok, "no updatedDate: no version")
}
