package fakesendgrid

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The sandbox's Inbound Parse signing key: the key pair of a Parse
// webhook's signature security policy. Published on purpose, it is no
// secret. Workers pointed at the sandbox set sendgrid.inbound_public_key
// to InboundPublicKey.
const (
	inboundPrivateKey = "MHcCAQEEIHQWgIkIhBTfg3BxT5FYqzKv9cteT4N+cFlRSm8iRrLVoAoGCCqGSM49AwEHoUQDQgAESFaSblM+5Cjd/uCR+TlbITyJ4nw8/IQksQJMh40/yYvDqH8ApU7/skDGV00TrXUiG+PHoLGHYgpjlSWzObLefA=="
	// InboundPublicKey verifies the sandbox's Parse posts, as the
	// signature.public_key the security policy API returns.
	InboundPublicKey = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESFaSblM+5Cjd/uCR+TlbITyJ4nw8/IQksQJMh40/yYvDqH8ApU7/skDGV00TrXUiG+PHoLGHYgpjlSWzObLefA=="
)

// InboundMail is an email as it reaches Inbound Parse: who sent it to
// which address, and what it says.
type InboundMail struct {
	// To is the SMTP recipient (the reply address); From the sender's
	// address, FromName their name.
	To, From, FromName string
	Subject            string
	// Text is the text part; HTML, when set, an HTML part beside it (a
	// mail with only HTML leaves Text empty).
	Text, HTML string
	// MessageID is the Message-ID header without brackets; empty makes
	// one up. Headers are added to the raw header block as they are
	// (Auto-Submitted, Precedence, ...).
	MessageID string
	Headers   map[string]string
	// Attachments are file parts (name -> content), sent as Parse does:
	// attachment1..N with attachment-info.
	Attachments map[string]string
}

// BuildInbound is the multipart/form-data body Parse posts for m in its
// default ("parsed") mode, and its Content-Type.
func BuildInbound(m InboundMail) (body []byte, contentType string, err error) {
	if m.MessageID == "" {
		m.MessageID = newMessageID() + "@mail.example"
	}
	from := m.From
	if m.FromName != "" {
		from = fmt.Sprintf("%q <%s>", m.FromName, m.From)
	}
	var headers strings.Builder
	fmt.Fprintf(&headers, "Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn Thu, 03 Dec 2026 10:00:00 +0000 (UTC)\n")
	fmt.Fprintf(&headers, "From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\nMIME-Version: 1.0\n", from, m.To, m.Subject, m.MessageID)
	fmt.Fprintf(&headers, "Date: %s\n", time.Now().UTC().Format(time.RFC1123Z))
	for k, v := range m.Headers {
		fmt.Fprintf(&headers, "%s: %s\n", k, v)
	}
	envelope, _ := json.Marshal(map[string]any{"to": []string{m.To}, "from": m.From})
	charsets := `{"to":"UTF-8","from":"UTF-8","subject":"UTF-8","text":"utf-8"`
	if m.HTML != "" {
		charsets += `,"html":"utf-8"`
	}
	charsets += "}"
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := [][2]string{
		{"headers", headers.String()}, {"dkim", "{@mail.example : pass}"}, {"content-ids", "{}"},
		{"to", m.To}, {"from", from}, {"sender_ip", "203.0.113.7"}, {"envelope", string(envelope)},
		{"attachments", strconv.Itoa(len(m.Attachments))}, {"subject", m.Subject}, {"charsets", charsets}, {"SPF", "pass"},
	}
	if m.Text != "" {
		fields = append(fields, [2]string{"text", m.Text})
	}
	if m.HTML != "" {
		fields = append(fields, [2]string{"html", m.HTML})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	info := map[string]map[string]string{}
	i := 0
	for name, content := range m.Attachments {
		i++
		key := "attachment" + strconv.Itoa(i)
		info[key] = map[string]string{"filename": name, "name": name, "type": "application/octet-stream"}
		part, err := w.CreateFormFile(key, name)
		if err != nil {
			return nil, "", err
		}
		_, _ = part.Write([]byte(content))
	}
	if len(info) > 0 {
		b, _ := json.Marshal(info)
		if err := w.WriteField("attachment-info", string(b)); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// SignInbound signs a Parse body with the sandbox's policy key, as the
// event webhook is signed: tests use it to forge good and bad requests.
func SignInbound(body []byte, timestamp string) (string, error) {
	der, err := base64.StdEncoding.DecodeString(inboundPrivateKey)
	if err != nil {
		return "", err
	}
	key, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return "", err
	}
	return signWith(key, body, timestamp)
}

// PostInbound posts m to url as Inbound Parse does, signed, and returns
// the status the receiver answered.
func PostInbound(ctx context.Context, client *http.Client, url string, m InboundMail) (int, error) {
	body, contentType, err := BuildInbound(m)
	if err != nil {
		return 0, err
	}
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := SignInbound(body, timestamp)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Sendlib/1.0 mx.sendgrid.net")
	req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("error posting inbound email to %s: %w", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
