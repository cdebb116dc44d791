package fakeshopmonkey_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

func TestSignStandardWebhook(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "PublishedVector", func(t *testing.T) {
		// The example of the Standard Webhooks specification.
		h := fakeshopmonkey.SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
			time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
		require.Equal(t, "msg_p5jXN8AQM9LWM0D4loKWxJek", h.Get("webhook-id"))
		require.Equal(t, "1614265330", h.Get("webhook-timestamp"))
		require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", h.Get("webhook-signature"))
	})

	faketest.Run(t, "RawSecretIsTheKey", func(t *testing.T) {
		body := []byte(`{"operation":"INSERT"}`)
		mac := hmac.New(sha256.New, []byte("plain-shared-secret"))
		mac.Write([]byte("msg_1.1700000000." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		h := fakeshopmonkey.SignWebhook("plain-shared-secret", "msg_1", time.Unix(1700000000, 0), body)
		require.Equal(t, want, h.Get("webhook-signature"))
	})
}

func TestPostShopMonkeyWebhook(t *testing.T) {
	t.Parallel()
	b := faketest.NewReceiver(t)
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	record := map[string]any{"id": "ord_1", "status": "Estimate", "locationId": "loc-maple"}

	before := time.Now().Add(-time.Second)
	require.NoError(t, fakeshopmonkey.PostWebhook(context.Background(), nil, b.URL+"/webhooks/shopmonkey/t1", secret, "INSERT", "order", record))
	got := b.Only(t)
	require.Equal(t, "/webhooks/shopmonkey/t1", got.Path)
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))
	require.Equal(t, "3", got.Header.Get("webhook-version"))

	var body map[string]any
	require.NoError(t, json.Unmarshal(got.Body, &body))
	require.Equal(t, "INSERT", body["operation"])
	require.Equal(t, "order", body["table"])
	require.Equal(t, "v3", body["apiVersion"])
	require.Equal(t, map[string]any{"id": "ord_1", "status": "Estimate", "locationId": "loc-maple"}, body["data"])

	secs, err := strconv.ParseInt(got.Header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	require.False(t, time.Unix(secs, 0).Before(before.Truncate(time.Second)))
	resigned := fakeshopmonkey.SignWebhook(secret, got.Header.Get("webhook-id"), time.Unix(secs, 0), got.Body)
	require.Equal(t, resigned.Get("webhook-signature"), got.Header.Get("webhook-signature"))

	faketest.Run(t, "BadSecret", func(t *testing.T) {
		err := fakeshopmonkey.PostWebhook(context.Background(), nil, b.URL, "whsec_!!!", "INSERT", "order", record)
		require.ErrorContains(t, err, "not base64")
	})
}
