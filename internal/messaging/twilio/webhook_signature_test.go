package twilio_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

const testTwilioToken = "twilio-auth-token-0123456789abcdef"

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

// sdkVector is one signed request of a Twilio SDK's own tests.
type sdkVector struct {
	url       string
	form      url.Values
	signature string
}

// The SDKs' shared request: auth token "12345" and this URL.
const (
	sdkToken = "12345"
	sdkURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
)

// twilioGoParams are twilio-go v1.31.0's client/request_validator_test.go
// params.
var twilioGoParams = url.Values{
	"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
	"Caller": {"+14158675309"}, "From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
}

// twilioPythonParams are twilio-python's tests/unit/test_request_validator.py
// params.
var twilioPythonParams = url.Values{
	"CallSid": {"CA1234567890ABCDE"}, "Digits": {"1234"}, "From": {"+14158675309"},
	"To": {"+18005551212"}, "Caller": {"+14158675309"},
}

// sdkVectors are the genuine requests of twilio-go's and twilio-python's
// request validator tests. twilio-go's JSON-body (bodySHA256) cases are
// left out: Twilio's SMS webhooks are forms.
var sdkVectors = map[string]sdkVector{
	"Go/Validate":              {sdkURL, twilioGoParams, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
	"Go/HTTPSPortNotSigned":    {strings.Replace(sdkURL, ".com", ".com:1234", 1), twilioGoParams, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
	"Go/HTTPNoPort":            {strings.Replace(sdkURL, "https", "http", 1), twilioGoParams, "n2xBNyzSW7rfYStDtOFiFMv7qNo="},
	"Go/HTTPPortNotSigned":     {strings.Replace(strings.Replace(sdkURL, ".com", ".com:1234", 1), "https", "http", 1), twilioGoParams, "n2xBNyzSW7rfYStDtOFiFMv7qNo="},
	"Go/FormBody":              {sdkURL, url.Values{"property": {"value"}, "boolean": {"true"}}, "NBdBDr/T/lgjI+tlgpXjKZQZs/k="},
	"Python/Validate":          {sdkURL, twilioPythonParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
	"Python/RemovesPortHTTPS":  {strings.Replace(sdkURL, ".com", ".com:1234", 1), twilioPythonParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
	"Python/RemovesPortHTTP":   {strings.Replace(strings.Replace(sdkURL, ".com", ".com:1234", 1), "https", "http", 1), twilioPythonParams, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
	"Python/AddsPortHTTPS":     {sdkURL, twilioPythonParams, "kvajT1Ptam85bY51eRf/AJRuM3w="},
	"Python/AddsPortHTTP":      {strings.Replace(sdkURL, "https", "http", 1), twilioPythonParams, "0ZXoZLH/DfblKGATFgpif+LLRf4="},
	"Python/DuplicateParams":   {sdkURL, url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
	"Python/DuplicateReversed": {sdkURL, url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"1234", "5678"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
	"Docs/Validate": {sdkURL, url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
}

// cloneForm copies a form deeply, so a subtest can change its copy.
func cloneForm(form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func TestValidSignatureSDKVectors(t *testing.T) {
	t.Parallel()
	for name, v := range sdkVectors {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.True(t, twilio.ValidSignature(sdkToken, v.url, v.form, v.signature), "genuine")

			// One byte of any value changed does not verify.
			for k := range v.form {
				f := cloneForm(v.form)
				b := []byte(f[k][0])
				b[len(b)-1] ^= 0x01
				f[k][0] = string(b)
				require.False(t, twilio.ValidSignature(sdkToken, v.url, f, v.signature), "tampered %s", k)
			}
			// Nor one byte of the URL, or of the signature.
			require.False(t, twilio.ValidSignature(sdkToken, strings.Replace(v.url, "foo=1", "foo=2", 1), v.form, v.signature), "tampered URL")
			sig := []byte(v.signature)
			sig[0] ^= 0x01
			require.False(t, twilio.ValidSignature(sdkToken, v.url, v.form, string(sig)), "tampered signature")
		})
	}

	t.Run("Go/WrongSignature", func(t *testing.T) {
		t.Parallel()
		require.False(t, twilio.ValidSignature(sdkToken, sdkURL, twilioGoParams, "WRONG SIGNATURE"))
	})
	t.Run("Go/ParamsSortedIncorrectly", func(t *testing.T) {
		t.Parallel()
		// ReasonConferenceEnded signed before Reason.
		require.False(t, twilio.ValidSignature(sdkToken, sdkURL, twilioGoParams, "95+Bu0JVPi0r/SsESZCVf0dWAjw="))
	})
	t.Run("Python/DuplicateWithOneValueDropped", func(t *testing.T) {
		t.Parallel()
		require.False(t, twilio.ValidSignature(sdkToken, sdkURL, url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="))
	})
}

func TestValidSignature(t *testing.T) {
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
		require.True(t, twilio.ValidSignature(testTwilioToken, publicURL, form, byHand))
	})

	t.Run("SandboxSigned", func(t *testing.T) {
		t.Parallel()
		require.True(t, twilio.ValidSignature(testTwilioToken, publicURL, form, sig))
	})

	t.Run("SandboxSignedRepeatedParams", func(t *testing.T) {
		t.Parallel()
		f := cloneForm(form)
		f["MediaUrl0"] = []string{"https://b.example/2", "https://a.example/1"}
		require.True(t, twilio.ValidSignature(testTwilioToken, publicURL, f, faketwilio.Signature(testTwilioToken, publicURL, f)))
	})

	t.Run("PortAddedOrRemoved", func(t *testing.T) {
		t.Parallel()
		// twilio-go accepts the URL with the scheme's default port added
		// or any port removed, as Twilio's own libraries do.
		require.True(t, twilio.ValidSignature(testTwilioToken, "https://hooks.example.com:443/webhooks/twilio/t1/sms", form, sig))
	})

	rejected := map[string]struct {
		token, url string
		form       func(url.Values)
		sig        string
	}{
		"TamperedParam":  {form: func(f url.Values) { f.Set("Body", "STOP") }},
		"AddedParam":     {form: func(f url.Values) { f.Set("OptOutType", "STOP") }},
		"RemovedParam":   {form: func(f url.Values) { f.Del("NumMedia") }},
		"AddedValue":     {form: func(f url.Values) { f.Add("Body", "STOP") }},
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
			token, u, s, f := testTwilioToken, publicURL, sig, cloneForm(form)
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
			require.False(t, twilio.ValidSignature(token, u, f, s))
		})
	}

	t.Run("EmptyTokenNeverVerifies", func(t *testing.T) {
		t.Parallel()
		// An HMAC with an empty key is one anyone can compute.
		require.False(t, twilio.ValidSignature("", publicURL, form, faketwilio.Signature("", publicURL, form)))
	})
}
