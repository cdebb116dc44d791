package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The webhook senders below play ShopMonkey, Tekmetric and Twilio calling
// a worker. Their signing is written here from the providers' published
// algorithms, not shared with the worker's verification code, so that a
// mistake in one shows up as a failed verification instead of agreeing
// with itself.

// SignStandardWebhook returns the headers a Standard Webhooks sender
// (ShopMonkey) puts on a request: webhook-id, webhook-timestamp (epoch
// seconds) and webhook-signature, "v1," and the base64 HMAC-SHA256 of
// id + "." + timestamp + "." + body. secret is "whsec_" and the base64
// key, or any other text used as the key as it is; a "whsec_" secret whose
// rest is not base64 is used whole, as text, and so signs what no verifier
// configured with it accepts.
func SignStandardWebhook(secret, id string, ts time.Time, body []byte) http.Header {
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

// ShopMonkeyWebhookAPIVersion is the apiVersion the sandbox's ShopMonkey
// webhooks carry; webhook-version is the Standard Webhooks header version
// ShopMonkey sends.
const (
	ShopMonkeyWebhookAPIVersion = "v3"
	shopMonkeyWebhookVersion    = "3"
)

// PostShopMonkeyWebhook sends one ShopMonkey webhook to url, signed with
// secret at the current time: {"apiVersion","operation","table","data",
// "diff"} with record as data. operation is INSERT, UPDATE or DELETE and
// table the record kind ("order", "appointment"). A non-2xx answer is an
// error, as ShopMonkey would then redeliver.
func PostShopMonkeyWebhook(ctx context.Context, client *http.Client, url, secret string, operation, table string, record any) error {
	if _, err := standardWebhookKey(secret); err != nil {
		return fmt.Errorf("error signing shopmonkey webhook: %w", err)
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": ShopMonkeyWebhookAPIVersion,
		"operation":  operation,
		"table":      table,
		"data":       record,
		"diff":       nil,
	})
	if err != nil {
		return fmt.Errorf("error encoding shopmonkey webhook: %w", err)
	}
	id := "msg_" + randomHex(12)
	h := SignStandardWebhook(secret, id, time.Now(), body)
	h.Set("webhook-version", shopMonkeyWebhookVersion)
	h.Set("X-Attempt", "1")
	h.Set("X-Request-Id", randomHex(16))
	h.Set("Content-Type", "application/json")
	return postWebhook(ctx, client, url, h, body)
}

// PostTekmetricWebhook sends one Tekmetric webhook to url: {"event","data"}
// with nothing signed, since Tekmetric signs nothing. The per-tenant secret
// token is part of url, as the shop configured it. event is the name
// Tekmetric shows ("Repair Order Created", "Appointment Created").
func PostTekmetricWebhook(ctx context.Context, client *http.Client, url string, event string, data any) error {
	body, err := json.Marshal(map[string]any{"event": event, "data": data})
	if err != nil {
		return fmt.Errorf("error encoding tekmetric webhook: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return postWebhook(ctx, client, url, h, body)
}

// TwilioSignature computes X-Twilio-Signature as Twilio documents it: the
// base64 HMAC-SHA1, keyed with the auth token, of the full URL followed by
// each POST parameter's name and value, sorted by name (a repeated name
// once per value, values sorted, as Twilio's Node library does).
func TwilioSignature(authToken, url string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(url)
	for _, k := range keys {
		values := slices.Clone(form[k])
		slices.Sort(values)
		for _, v := range values {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Twilio's default opt-out keywords (Advanced Opt-Out), matched against
// the whole message in any case.
var (
	twilioStopWords  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	twilioStartWords = []string{"START", "UNSTOP", "YES"}
	twilioHelpWords  = []string{"HELP", "INFO"}
)

// twilioOptOutType is the OptOutType Twilio adds to an incoming message
// that is an opt-out, opt-in or help keyword, or "".
func twilioOptOutType(body string) string {
	word := strings.ToUpper(strings.TrimSpace(body))
	switch {
	case slices.Contains(twilioStopWords, word):
		return "STOP"
	case slices.Contains(twilioStartWords, word):
		return "START"
	case slices.Contains(twilioHelpWords, word):
		return "HELP"
	}
	return ""
}

// PostTwilioInbound sends url a signed incoming-message webhook, as Twilio
// does when a customer texts from to the shop's number to: a reply, or a
// STOP or START, which get OptOutType as with Advanced Opt-Out on. The
// account is DefaultTwilioAccountSID. It returns the new message's sid.
// The fake Twilio's own opt-out list is not touched: call Twilio.OptOut or
// OptIn too where the test needs Twilio to refuse or accept sends.
func PostTwilioInbound(ctx context.Context, client *http.Client, url, authToken string, from, to, body string) (messageSid string, err error) {
	sid := twilioSid("SM")
	form := urlValues(
		"ToCountry", "US", "SmsMessageSid", sid, "NumMedia", "0", "SmsSid", sid,
		"SmsStatus", "received", "Body", body, "To", to, "NumSegments", strconv.Itoa(twilioSegments(body)),
		"MessageSid", sid, "AccountSid", DefaultTwilioAccountSID, "From", from, "ApiVersion", "2010-04-01",
	)
	if t := twilioOptOutType(body); t != "" {
		form.Set("OptOutType", t)
	}
	if err := postTwilioForm(ctx, client, url, authToken, form); err != nil {
		return "", fmt.Errorf("error posting inbound message: %w", err)
	}
	return sid, nil
}

// PostTwilioStatus sends url a signed status callback for messageSid, as
// Twilio does while a message moves through queued, sent, delivered,
// undelivered or failed. errorCode 0 sends no ErrorCode, as Twilio does for
// a message without an error.
func PostTwilioStatus(ctx context.Context, client *http.Client, url, authToken, messageSid, status string, errorCode int) error {
	form := urlValues(
		"MessageSid", messageSid, "SmsSid", messageSid, "MessageStatus", status, "SmsStatus", status,
		"AccountSid", DefaultTwilioAccountSID, "ApiVersion", "2010-04-01",
	)
	if errorCode != 0 {
		form.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	if err := postTwilioForm(ctx, client, url, authToken, form); err != nil {
		return fmt.Errorf("error posting status callback for %s: %w", messageSid, err)
	}
	return nil
}

func postTwilioForm(ctx context.Context, client *http.Client, url, authToken string, form url.Values) error {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Twilio-Signature", TwilioSignature(authToken, url, form))
	h.Set("I-Twilio-Idempotency-Token", randomHex(16))
	return postWebhook(ctx, client, url, h, []byte(form.Encode()))
}

// postWebhook posts body with h to url and wants a 2xx answer.
func postWebhook(ctx context.Context, client *http.Client, url string, h http.Header, body []byte) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		// The host only, as below: the URL may hold a secret token.
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("webhook at %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		// The host only: a Tekmetric webhook's path holds its secret token.
		return fmt.Errorf("webhook at %s answered %s: %s", req.URL.Host, resp.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}

func urlValues(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
