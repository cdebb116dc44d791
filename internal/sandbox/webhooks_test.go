package sandbox_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// webhookBundle is a receiver that records what the senders post and
// answers with status.
type webhookBundle struct {
	server *httptest.Server

	mu       sync.Mutex
	status   int
	requests []receivedWebhook
}

type receivedWebhook struct {
	path   string
	header http.Header
	body   []byte
}

func setupWebhooks(t *testing.T) *webhookBundle {
	t.Helper()
	b := &webhookBundle{status: http.StatusOK}
	b.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.requests = append(b.requests, receivedWebhook{path: r.URL.Path, header: r.Header.Clone(), body: body})
		w.WriteHeader(b.status)
		_, _ = w.Write([]byte("answer"))
	}))
	t.Cleanup(b.server.Close)
	return b
}

func (b *webhookBundle) answer(status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = status
}

// only returns the one request received.
func (b *webhookBundle) only(t *testing.T) receivedWebhook {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(t, b.requests, 1)
	return b.requests[0]
}

func TestSignStandardWebhook(t *testing.T) {
	t.Parallel()

	t.Run("PublishedVector", func(t *testing.T) {
		t.Parallel()
		// The example of the Standard Webhooks specification.
		h := sandbox.SignStandardWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
			time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
		require.Equal(t, "msg_p5jXN8AQM9LWM0D4loKWxJek", h.Get("webhook-id"))
		require.Equal(t, "1614265330", h.Get("webhook-timestamp"))
		require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", h.Get("webhook-signature"))
	})

	t.Run("RawSecretIsTheKey", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"operation":"INSERT"}`)
		mac := hmac.New(sha256.New, []byte("plain-shared-secret"))
		mac.Write([]byte("msg_1.1700000000." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		h := sandbox.SignStandardWebhook("plain-shared-secret", "msg_1", time.Unix(1700000000, 0), body)
		require.Equal(t, want, h.Get("webhook-signature"))
	})
}

func TestTwilioSignature(t *testing.T) {
	t.Parallel()

	t.Run("DocumentedVector", func(t *testing.T) {
		t.Parallel()
		// Twilio's security documentation's example.
		form := url.Values{
			"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
			"From": {"+12349013030"}, "To": {"+18005551212"},
		}
		require.Equal(t, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", sandbox.TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form))
	})

	t.Run("TwilioGoVector", func(t *testing.T) {
		t.Parallel()
		// The vector of twilio-go's request validator tests.
		form := url.Values{
			"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"}, "Caller": {"+14158675309"},
			"From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
		}
		require.Equal(t, "vOEb5UThFn24KEfnOFLQY2AE5FY=", sandbox.TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form))
	})

	t.Run("URLAndTokenMatter", func(t *testing.T) {
		t.Parallel()
		form := url.Values{"Body": {"hi"}}
		sig := sandbox.TwilioSignature("token", "https://example.com/sms", form)
		require.NotEqual(t, sig, sandbox.TwilioSignature("token", "http://example.com/sms", form))
		require.NotEqual(t, sig, sandbox.TwilioSignature("other", "https://example.com/sms", form))
		require.NotEqual(t, sig, sandbox.TwilioSignature("token", "https://example.com/sms", url.Values{"Body": {"hI"}}))
	})
}

func TestPostShopMonkeyWebhook(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	record := map[string]any{"id": "ord_1", "status": "Estimate", "locationId": "loc-maple"}

	before := time.Now().Add(-time.Second)
	require.NoError(t, sandbox.PostShopMonkeyWebhook(context.Background(), nil, b.server.URL+"/webhooks/shopmonkey/t1", secret, "INSERT", "order", record))
	got := b.only(t)
	require.Equal(t, "/webhooks/shopmonkey/t1", got.path)
	require.Equal(t, "application/json", got.header.Get("Content-Type"))
	require.Equal(t, "3", got.header.Get("webhook-version"))

	var body map[string]any
	require.NoError(t, json.Unmarshal(got.body, &body))
	require.Equal(t, "INSERT", body["operation"])
	require.Equal(t, "order", body["table"])
	require.Equal(t, "v3", body["apiVersion"])
	require.Equal(t, map[string]any{"id": "ord_1", "status": "Estimate", "locationId": "loc-maple"}, body["data"])

	secs, err := strconv.ParseInt(got.header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	require.False(t, time.Unix(secs, 0).Before(before.Truncate(time.Second)))
	resigned := sandbox.SignStandardWebhook(secret, got.header.Get("webhook-id"), time.Unix(secs, 0), got.body)
	require.Equal(t, resigned.Get("webhook-signature"), got.header.Get("webhook-signature"))

	t.Run("BadSecret", func(t *testing.T) {
		t.Parallel()
		err := sandbox.PostShopMonkeyWebhook(context.Background(), nil, b.server.URL, "whsec_!!!", "INSERT", "order", record)
		require.ErrorContains(t, err, "not base64")
	})
}

func TestPostTekmetricWebhook(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	require.NoError(t, sandbox.PostTekmetricWebhook(context.Background(), nil, b.server.URL+"/webhooks/tekmetric/t1/tok", "Repair Order Created", map[string]any{"id": 42, "shopId": 238}))
	got := b.only(t)
	require.Equal(t, "/webhooks/tekmetric/t1/tok", got.path)
	require.JSONEq(t, `{"event":"Repair Order Created","data":{"id":42,"shopId":238}}`, string(got.body))

	t.Run("Non2xxIsAnErrorWithoutThePath", func(t *testing.T) {
		t.Parallel()
		b := setupWebhooks(t)
		b.answer(http.StatusUnauthorized)
		err := sandbox.PostTekmetricWebhook(context.Background(), nil, b.server.URL+"/webhooks/tekmetric/t1/secret-token", "Appointment Created", map[string]any{"id": 1})
		require.ErrorContains(t, err, "401")
		require.NotContains(t, err.Error(), "secret-token")
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
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupWebhooks(t)
			u := b.server.URL + "/webhooks/twilio/t1/sms?x=1"
			sid, err := sandbox.PostTwilioInbound(context.Background(), nil, u, "token", "+15555550100", "+15555550199", tt.body)
			require.NoError(t, err)
			require.Regexp(t, `^SM[0-9a-f]{32}$`, sid)

			got := b.only(t)
			require.Equal(t, "application/x-www-form-urlencoded", got.header.Get("Content-Type"))
			form, err := url.ParseQuery(string(got.body))
			require.NoError(t, err)
			require.Equal(t, sid, form.Get("MessageSid"))
			require.Equal(t, sandbox.DefaultTwilioAccountSID, form.Get("AccountSid"))
			require.Equal(t, "+15555550100", form.Get("From"))
			require.Equal(t, "+15555550199", form.Get("To"))
			require.Equal(t, tt.body, form.Get("Body"))
			require.Equal(t, "0", form.Get("NumMedia"))
			require.Equal(t, tt.optOut, form.Get("OptOutType"))
			require.Equal(t, sandbox.TwilioSignature("token", u, form), got.header.Get("X-Twilio-Signature"))
		})
	}
}

func TestPostTwilioStatus(t *testing.T) {
	t.Parallel()

	t.Run("Delivered", func(t *testing.T) {
		t.Parallel()
		b := setupWebhooks(t)
		u := b.server.URL + "/webhooks/twilio/t1/status"
		require.NoError(t, sandbox.PostTwilioStatus(context.Background(), nil, u, "token", "SM0123", "delivered", 0))
		got := b.only(t)
		form, err := url.ParseQuery(string(got.body))
		require.NoError(t, err)
		require.Equal(t, "SM0123", form.Get("MessageSid"))
		require.Equal(t, "delivered", form.Get("MessageStatus"))
		require.NotContains(t, form, "ErrorCode")
		require.Equal(t, sandbox.TwilioSignature("token", u, form), got.header.Get("X-Twilio-Signature"))
	})

	t.Run("Undelivered", func(t *testing.T) {
		t.Parallel()
		b := setupWebhooks(t)
		require.NoError(t, sandbox.PostTwilioStatus(context.Background(), nil, b.server.URL, "token", "SM0123", "undelivered", 30003))
		form, err := url.ParseQuery(string(b.only(t).body))
		require.NoError(t, err)
		require.Equal(t, "30003", form.Get("ErrorCode"))
	})

	t.Run("RefusedIsAnError", func(t *testing.T) {
		t.Parallel()
		b := setupWebhooks(t)
		b.answer(http.StatusForbidden)
		require.ErrorContains(t, sandbox.PostTwilioStatus(context.Background(), nil, b.server.URL, "token", "SM0123", "sent", 0), "403")
	})
}
