package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
)

// Headers of a Standard Webhooks request (ShopMonkey's webhooks). Go
// canonicalises header names, so http.Header.Get finds them whatever case
// the sender wrote.
const (
	WebhookIDHeader        = "webhook-id"
	WebhookTimestampHeader = "webhook-timestamp"
	WebhookSignatureHeader = "webhook-signature"
)

// TwilioSignatureHeader carries Twilio's signature of a webhook request.
const TwilioSignatureHeader = "X-Twilio-Signature"

// MaxWebhookSkew is how far a signed webhook timestamp may be from now, in
// either direction. The signature alone does not stop a captured request
// from being replayed later; the signed timestamp does. Future timestamps
// are refused as well, so that a sender's clock running ahead cannot mint
// requests that stay replayable for longer.
const MaxWebhookSkew = 5 * time.Minute

// standardWebhookSecretPrefix marks a Standard Webhooks secret whose key is
// the base64 text after it.
const standardWebhookSecretPrefix = "whsec_"

// Errors of VerifyStandardWebhook. The route answers every one of them
// with the same 401 (see rejectUnverified): they tell the log, not the
// sender, what failed.
var (
	// ErrWebhookHeader means a required header is missing or unreadable:
	// the request is not a webhook at all.
	ErrWebhookHeader = errors.New("webhook header missing or malformed")
	// ErrWebhookSignature means no signature in the request verifies.
	ErrWebhookSignature = errors.New("webhook signature does not verify")
	// ErrWebhookStale means the signed timestamp is more than
	// MaxWebhookSkew away from now.
	ErrWebhookStale = errors.New("webhook timestamp outside the accepted window")
	// ErrWebhookSecret means the configured secret is unusable (empty, or
	// "whsec_" without base64 after it): our fault, not the sender's, so
	// the route also logs it as an error. Config validation should catch
	// it at start-up.
	ErrWebhookSecret = errors.New("webhook secret is not configured correctly")
)

// VerifyStandardWebhook checks a Standard Webhooks request (ShopMonkey's
// webhooks): the HMAC-SHA256 with secret's key over webhook-id, "." ,
// webhook-timestamp, ".", and the raw body exactly as received. Any one
// "v1," entry of the space-separated webhook-signature header verifying is
// enough, which is how senders rotate secrets. It returns the webhook id,
// which stays the same across redeliveries of one event, for dedupe.
//
// secret is "whsec_" and the base64 key, as Standard Webhooks senders show
// it, or any other text, used as the key bytes as it is. Errors wrap one of
// the ErrWebhook sentinels and never hold the secret or an expected
// signature.
func VerifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) (webhookID string, err error) {
	key, err := standardWebhookKey(secret)
	if err != nil {
		return "", err
	}
	id := h.Get(WebhookIDHeader)
	timestamp := h.Get(WebhookTimestampHeader)
	signatures := h.Values(WebhookSignatureHeader)
	switch {
	case id == "":
		return "", fmt.Errorf("%w: %s is required", ErrWebhookHeader, WebhookIDHeader)
	case timestamp == "":
		return "", fmt.Errorf("%w: %s is required", ErrWebhookHeader, WebhookTimestampHeader)
	case len(signatures) == 0 || strings.TrimSpace(strings.Join(signatures, "")) == "":
		return "", fmt.Errorf("%w: %s is required", ErrWebhookHeader, WebhookSignatureHeader)
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not epoch seconds", ErrWebhookHeader, WebhookTimestampHeader)
	}
	// Compared in whole seconds as integers: time.Unix of an absurd value
	// wraps around instead of failing.
	skew := int64(MaxWebhookSkew / time.Second)
	if nowSecs := now.Unix(); secs < nowSecs-skew || secs > nowSecs+skew {
		return "", fmt.Errorf("%w: timestamp %d is more than %s from now", ErrWebhookStale, secs, MaxWebhookSkew)
	}

	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte("."))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	want := mac.Sum(nil)

	for _, header := range signatures {
		for _, entry := range strings.Fields(header) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" {
				continue // "v1a" (asymmetric) and future schemes are not ours to check
			}
			got, err := base64.StdEncoding.DecodeString(sig)
			if err != nil {
				continue
			}
			if hmac.Equal(got, want) {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("%w: no v1 signature in %s matches", ErrWebhookSignature, WebhookSignatureHeader)
}

// standardWebhookKey is the HMAC key of a Standard Webhooks secret. An
// empty key is refused: anyone can compute an HMAC with it.
func standardWebhookKey(secret string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(secret, standardWebhookSecretPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: the text after %q is not base64", ErrWebhookSecret, standardWebhookSecretPrefix)
		}
		if len(key) == 0 {
			return nil, fmt.Errorf("%w: the key after %q is empty", ErrWebhookSecret, standardWebhookSecretPrefix)
		}
		return key, nil
	}
	if secret == "" {
		return nil, fmt.Errorf("%w: it is empty", ErrWebhookSecret)
	}
	return []byte(secret), nil
}

// VerifyURLToken reports whether got is the tenant's webhook token want,
// for CRMs that sign nothing (Tekmetric): the token is a secret path
// segment of the webhook URL the shop configured. Both are hashed before
// the constant-time compare, so neither their content nor their length
// leaks through timing. An empty want never matches: a tenant without a
// token has no webhook.
func VerifyURLToken(want, got string) bool {
	if want == "" {
		return false
	}
	w := sha256.Sum256([]byte(want))
	g := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(w[:], g[:]) == 1
}

// VerifyTwilioSignature checks X-Twilio-Signature: the base64 HMAC-SHA1,
// keyed with the account's auth token, of publicURL followed by every POST
// parameter's name and value sorted by name. publicURL must be the exact
// URL Twilio called, scheme, host and query included, as configured, not
// as rebuilt from a request that came through a proxy; form must be the
// POST body's parameters only (r.PostForm or url.ParseQuery of the body,
// never r.Form, which mixes in the URL's query). twilio-go's validator
// reads the first value of a repeated parameter, as the parsers here do;
// it also accepts the signature of publicURL with its port added or
// removed, as Twilio's own libraries do. An empty token or signature never
// verifies.
func VerifyTwilioSignature(authToken, publicURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	validator := client.NewRequestValidator(authToken) // Validate has a pointer receiver
	return validator.Validate(publicURL, params, signature)
}
