package faketwilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// The webhook senders below play Twilio calling a worker. Their signing
// is written here from Twilio's published algorithm, not shared with the
// worker's verification code, so that a mistake in one shows up as a
// failed verification instead of agreeing with itself.

// Signature computes X-Twilio-Signature as Twilio documents it: the
// base64 HMAC-SHA1, keyed with the auth token, of the full URL followed by
// each POST parameter's name and value, sorted by name (a repeated name
// once per value, values sorted, as Twilio's Node library does).
func Signature(authToken, url string, form url.Values) string {
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
	stopWords  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	startWords = []string{"START", "UNSTOP", "YES"}
	helpWords  = []string{"HELP", "INFO"}
)

// OptOutType is the OptOutType Twilio adds to an incoming message
// that is an opt-out, opt-in or help keyword, or "".
func OptOutType(body string) string {
	word := strings.ToUpper(strings.TrimSpace(body))
	switch {
	case slices.Contains(stopWords, word):
		return "STOP"
	case slices.Contains(startWords, word):
		return "START"
	case slices.Contains(helpWords, word):
		return "HELP"
	}
	return ""
}

// PostInbound sends url a signed incoming-message webhook, as Twilio
// does when a customer texts from to the shop's number to: a reply, or a
// STOP or START, which get OptOutType as with Advanced Opt-Out on. The
// account is DefaultAccountSID. It returns the new message's sid.
// The fake Twilio's own opt-out list is not touched: call Twilio.OptOut or
// OptIn too where the test needs Twilio to refuse or accept sends.
func PostInbound(ctx context.Context, client *http.Client, url, authToken string, from, to, body string) (messageSid string, err error) {
	sid := newSid("SM")
	form := urlValues(
		"ToCountry", "US", "SmsMessageSid", sid, "NumMedia", "0", "SmsSid", sid,
		"SmsStatus", "received", "Body", body, "To", to, "NumSegments", strconv.Itoa(segments(body)),
		"MessageSid", sid, "AccountSid", DefaultAccountSID, "From", from, "ApiVersion", "2010-04-01",
	)
	if t := OptOutType(body); t != "" {
		form.Set("OptOutType", t)
	}
	if err := postForm(ctx, client, url, authToken, form); err != nil {
		return "", fmt.Errorf("error posting inbound message: %w", err)
	}
	return sid, nil
}

// PostStatus sends url a signed status callback for messageSid, as
// Twilio does while a message moves through queued, sent, delivered,
// undelivered or failed. errorCode 0 sends no ErrorCode, as Twilio does for
// a message without an error.
func PostStatus(ctx context.Context, client *http.Client, url, authToken, messageSid, status string, errorCode int) error {
	form := urlValues(
		"MessageSid", messageSid, "SmsSid", messageSid, "MessageStatus", status, "SmsStatus", status,
		"AccountSid", DefaultAccountSID, "ApiVersion", "2010-04-01",
	)
	if errorCode != 0 {
		form.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	if err := postForm(ctx, client, url, authToken, form); err != nil {
		return fmt.Errorf("error posting status callback for %s: %w", messageSid, err)
	}
	return nil
}

func postForm(ctx context.Context, client *http.Client, url, authToken string, form url.Values) error {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Twilio-Signature", Signature(authToken, url, form))
	h.Set("I-Twilio-Idempotency-Token", fake.RandomHex(16))
	return fake.PostWebhook(ctx, client, url, h, []byte(form.Encode()))
}

func urlValues(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}
