package fakeshopmonkey

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// The webhook sender below plays ShopMonkey calling a worker. Its signing
// is written here from the published Standard Webhooks algorithm, not
// shared with the worker's verification code, so that a mistake in one
// shows up as a failed verification instead of agreeing with itself.

// SignWebhook returns the headers a Standard Webhooks sender
// (ShopMonkey) puts on a request: webhook-id, webhook-timestamp (epoch
// seconds) and webhook-signature, "v1," and the base64 HMAC-SHA256 of
// id + "." + timestamp + "." + body. secret is "whsec_" and the base64
// key, or any other text used as the key as it is; a "whsec_" secret whose
// rest is not base64 is used whole, as text, and so signs what no verifier
// configured with it accepts.
func SignWebhook(secret, id string, ts time.Time, body []byte) http.Header {
	key, err := standardWebhookKey(secret)
	if err != nil {
		key = []byte(secret)
	}
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", timestamp)
	h.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return h
}

// standardWebhookKey decodes a "whsec_" secret, or takes any other as the
// key bytes.
func standardWebhookKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("the secret after whsec_ is not base64: %w", err)
	}
	return key, nil
}

// WebhookAPIVersion is the apiVersion the sandbox's ShopMonkey
// webhooks carry; webhook-version is the Standard Webhooks header version
// ShopMonkey sends.
const (
	WebhookAPIVersion = "v3"
	webhookVersion    = "3"
)

// CheckWebhookSecret reports why secret cannot sign ShopMonkey webhooks:
// a "whsec_" secret whose rest is not base64.
func CheckWebhookSecret(secret string) error {
	_, err := standardWebhookKey(secret)
	return err
}

// PostWebhook sends one ShopMonkey webhook to url, signed with
// secret at the current time: {"apiVersion","operation","table","data",
// "diff"} with record as data. operation is INSERT, UPDATE or DELETE and
// table the record kind ("order", "appointment"). A non-2xx answer is an
// error, as ShopMonkey would then redeliver.
func PostWebhook(ctx context.Context, client *http.Client, url, secret string, operation, table string, record any) error {
	if _, err := standardWebhookKey(secret); err != nil {
		return fmt.Errorf("error signing shopmonkey webhook: %w", err)
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": WebhookAPIVersion,
		"operation":  operation,
		"table":      table,
		"data":       record,
		"diff":       nil,
	})
	if err != nil {
		return fmt.Errorf("error encoding shopmonkey webhook: %w", err)
	}
	id := "msg_" + fake.RandomHex(12)
	h := SignWebhook(secret, id, time.Now(), body)
	h.Set("webhook-version", webhookVersion)
	h.Set("X-Attempt", "1")
	h.Set("X-Request-Id", fake.RandomHex(16))
	h.Set("Content-Type", "application/json")
	return fake.PostWebhook(ctx, client, url, h, body)
}
