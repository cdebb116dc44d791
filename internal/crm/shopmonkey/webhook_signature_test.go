package shopmonkey_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// testWebhookSecret is the Standard Webhooks spec's example secret.
const testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

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

// specHeader is the Standard Webhooks spec's example request (also the
// Go library's TestWebhookSign vector): msg id, timestamp 1614265330,
// body {"test": 2432232314}, signed with testWebhookSecret.
func specHeader() http.Header {
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	return h
}

var (
	specBody = []byte(`{"test": 2432232314}`)
	specNow  = time.Unix(1614265330, 0)
)

func TestVerifyStandardWebhook(t *testing.T) {
	t.Parallel()

	t.Run("SandboxSigned", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		id, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, w.header, w.body, w.now)
		require.NoError(t, err)
		require.Equal(t, "msg_1", id)
	})

	t.Run("PublishedVector", func(t *testing.T) {
		t.Parallel()
		id, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, specHeader(), specBody, specNow)
		require.NoError(t, err)
		require.Equal(t, "msg_p5jXN8AQM9LWM0D4loKWxJek", id)
	})

	t.Run("PublishedVectorTamperedOneByte", func(t *testing.T) {
		t.Parallel()
		body := []byte(strings.Replace(string(specBody), "2432232314", "2432232315", 1))
		_, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, specHeader(), body, specNow)
		require.ErrorIs(t, err, shopmonkey.ErrWebhookSignature)
		require.ErrorIs(t, err, crm.ErrWebhookUnverified)
	})

	t.Run("RawSecret", func(t *testing.T) {
		t.Parallel()
		// A secret without "whsec_" that is not base64 is the key bytes as
		// they are, as this service has always read it.
		w := setupSignedWebhook(t)
		h := fakeshopmonkey.SignWebhook("raw-secret", "msg_2", w.now, w.body)
		_, err := shopmonkey.VerifyStandardWebhook("raw-secret", h, w.body, w.now)
		require.NoError(t, err)
	})

	t.Run("SecretWithoutPrefix", func(t *testing.T) {
		t.Parallel()
		// The Standard Webhooks libraries read a secret given without
		// "whsec_" as its base64 key (the library's TestWebhookPrefix); it
		// used to be refused here.
		_, err := shopmonkey.VerifyStandardWebhook(strings.TrimPrefix(testWebhookSecret, "whsec_"), specHeader(), specBody, specNow)
		require.NoError(t, err)
	})

	t.Run("RawSecretThatIsAlsoBase64", func(t *testing.T) {
		t.Parallel()
		// A tenant's raw text secret that happens to be base64 keeps
		// verifying with its text as the key.
		const secret = "abcdefghijklmnop"
		w := setupSignedWebhook(t)
		h := fakeshopmonkey.SignWebhook(secret, "msg_3", w.now, w.body)
		_, err := shopmonkey.VerifyStandardWebhook(secret, h, w.body, w.now)
		require.NoError(t, err)
	})

	t.Run("AnyOfSeveralSignatures", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		good := w.header.Get(shopmonkey.WebhookSignatureHeader)
		w.header.Set(shopmonkey.WebhookSignatureHeader, "v1a,c2lnbmF0dXJl v1,bm90IGl0  v1,!!! "+good+" v2,x")
		_, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, w.header, w.body, w.now)
		require.NoError(t, err)
	})

	t.Run("SignatureOnASecondHeaderLine", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		good := w.header.Get(shopmonkey.WebhookSignatureHeader)
		w.header.Set(shopmonkey.WebhookSignatureHeader, "v1,bm90IGl0")
		w.header.Add(shopmonkey.WebhookSignatureHeader, good)
		_, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, w.header, w.body, w.now)
		require.NoError(t, err)
	})

	t.Run("WithinSkew", func(t *testing.T) {
		t.Parallel()
		w := setupSignedWebhook(t)
		for _, now := range []time.Time{w.now.Add(shopmonkey.MaxWebhookSkew), w.now.Add(-shopmonkey.MaxWebhookSkew)} {
			_, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, w.header, w.body, now)
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
		}, shopmonkey.ErrWebhookSignature},
		"TamperedID": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookIDHeader, "msg_other")
			return testWebhookSecret
		}, shopmonkey.ErrWebhookSignature},
		"TamperedTimestamp": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookTimestampHeader, "1741100401")
			return testWebhookSecret
		}, shopmonkey.ErrWebhookSignature},
		"WrongSecret": {func(w *signedWebhook) string {
			return "whsec_" + base64.StdEncoding.EncodeToString([]byte("another key entirely"))
		}, shopmonkey.ErrWebhookSignature},
		"Stale": {func(w *signedWebhook) string {
			w.now = w.now.Add(shopmonkey.MaxWebhookSkew + time.Second)
			return testWebhookSecret
		}, shopmonkey.ErrWebhookStale},
		"Future": {func(w *signedWebhook) string {
			w.now = w.now.Add(-shopmonkey.MaxWebhookSkew - time.Second)
			return testWebhookSecret
		}, shopmonkey.ErrWebhookStale},
		"HugeTimestamp": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookTimestampHeader, "9223372036854775807")
			return testWebhookSecret
		}, shopmonkey.ErrWebhookStale},
		"UnknownVersionOnly": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookSignatureHeader, "v2,"+strings.TrimPrefix(w.header.Get(shopmonkey.WebhookSignatureHeader), "v1,"))
			return testWebhookSecret
		}, shopmonkey.ErrWebhookSignature},
		"PartialSignature": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookSignatureHeader, "v1,")
			return testWebhookSecret
		}, shopmonkey.ErrWebhookSignature},
		"MissingID": {func(w *signedWebhook) string {
			w.header.Del(shopmonkey.WebhookIDHeader)
			return testWebhookSecret
		}, shopmonkey.ErrWebhookHeader},
		"MissingTimestamp": {func(w *signedWebhook) string {
			w.header.Del(shopmonkey.WebhookTimestampHeader)
			return testWebhookSecret
		}, shopmonkey.ErrWebhookHeader},
		"MissingSignature": {func(w *signedWebhook) string {
			w.header.Del(shopmonkey.WebhookSignatureHeader)
			return testWebhookSecret
		}, shopmonkey.ErrWebhookHeader},
		"BlankSignature": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookSignatureHeader, "   ")
			return testWebhookSecret
		}, shopmonkey.ErrWebhookHeader},
		"TimestampNotSeconds": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookTimestampHeader, "2025-03-04T15:00:00Z")
			return testWebhookSecret
		}, shopmonkey.ErrWebhookHeader},
		"TimestampNotCanonical": {func(w *signedWebhook) string {
			w.header.Set(shopmonkey.WebhookTimestampHeader, "+"+w.header.Get(shopmonkey.WebhookTimestampHeader))
			return testWebhookSecret
		}, shopmonkey.ErrWebhookHeader},
		"EmptySecret":    {func(w *signedWebhook) string { return "" }, crm.ErrWebhookSecret},
		"EmptyWhsecKey":  {func(w *signedWebhook) string { return "whsec_" }, crm.ErrWebhookSecret},
		"WhsecNotBase64": {func(w *signedWebhook) string { return "whsec_not base64!" }, crm.ErrWebhookSecret},
	}
	for name, tt := range rejected {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := setupSignedWebhook(t)
			secret := tt.change(&w)
			expected := w.header.Get(shopmonkey.WebhookSignatureHeader)
			id, err := shopmonkey.VerifyStandardWebhook(secret, w.header, w.body, w.now)
			require.ErrorIs(t, err, tt.want)
			require.ErrorIs(t, err, crm.ErrWebhookUnverified)
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

// TestVerifyStandardWebhookLibraryVectors runs the cases of the Standard
// Webhooks Go library's own TestWebhook (libraries/go/webhook_test.go,
// v0.0.1): its secret without "whsec_", its message, signed now; with its
// fixed wrong signatures refused.
func TestVerifyStandardWebhookLibraryVectors(t *testing.T) {
	t.Parallel()
	const (
		secret  = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		msgID   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		wrongV1 = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
		wrongV2 = "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	)
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	signedAt := func(at time.Time) http.Header {
		return fakeshopmonkey.SignWebhook("whsec_"+secret, msgID, at, specBody)
	}
	for name, tt := range map[string]struct {
		header func() http.Header
		ok     bool
	}{
		"ValidSignatureIsValid": {header: func() http.Header { return signedAt(now) }, ok: true},
		"MissingID": {header: func() http.Header {
			h := signedAt(now)
			h.Del("webhook-id")
			return h
		}},
		"MissingTimestamp": {header: func() http.Header {
			h := signedAt(now)
			h.Del("webhook-timestamp")
			return h
		}},
		"MissingSignature": {header: func() http.Header {
			h := signedAt(now)
			h.Del("webhook-signature")
			return h
		}},
		"InvalidSignature": {header: func() http.Header {
			h := signedAt(now)
			h.Set("webhook-signature", wrongV1)
			return h
		}},
		"PartialSignature": {header: func() http.Header {
			h := signedAt(now)
			h.Set("webhook-signature", "v1,")
			return h
		}},
		"OldTimestamp": {header: func() http.Header { return signedAt(now.Add(-shopmonkey.MaxWebhookSkew - time.Second)) }},
		"NewTimestamp": {header: func() http.Header { return signedAt(now.Add(shopmonkey.MaxWebhookSkew + time.Second)) }},
		"ValidMultiSig": {header: func() http.Header {
			h := signedAt(now)
			h.Set("webhook-signature", strings.Join([]string{wrongV1, wrongV2, h.Get("webhook-signature"), wrongV1}, " "))
			return h
		}, ok: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, s := range []string{secret, "whsec_" + secret} { // TestWebhookPrefix: either form
				_, err := shopmonkey.VerifyStandardWebhook(s, tt.header(), specBody, now)
				if tt.ok {
					require.NoError(t, err, s)
				} else {
					require.ErrorIs(t, err, crm.ErrWebhookUnverified, s)
				}
			}
		})
	}

	t.Run("EveryByteTampered", func(t *testing.T) {
		t.Parallel()
		// The spec vector with any one byte of the body changed is refused.
		for i := range specBody {
			body := []byte(string(specBody))
			body[i] ^= 0x01
			_, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, specHeader(), body, specNow)
			require.ErrorIs(t, err, shopmonkey.ErrWebhookSignature, fmt.Sprintf("byte %d", i))
		}
	})
}
