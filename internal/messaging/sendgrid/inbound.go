package sendgrid

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// InboundWebhook verifies and decodes SendGrid Inbound Parse posts
// ("parsed" mode, multipart/form-data) signed by the Parse webhook's
// signature security policy: the event webhook's ECDSA scheme over the
// timestamp and the raw body. It is the messaging.InboundEmailWebhook of
// SendGrid.
type InboundWebhook struct {
	key *ecdsa.PublicKey
}

var _ messaging.InboundEmailWebhook = (*InboundWebhook)(nil)

// NewInboundWebhook returns the Parse webhook whose security policy's
// public key is publicKey (base64, as the policy API returns it).
func NewInboundWebhook(publicKey string) (*InboundWebhook, error) {
	key, err := ParsePublicKey(publicKey)
	if err != nil {
		return nil, err
	}
	return &InboundWebhook{key: key}, nil
}

// maxFieldBytes bounds one non-file form field; the route bounds the
// whole body.
const maxFieldBytes = 1 << 20

// ParseInboundEmail verifies body against its signature and timestamp,
// then decodes Parse's form: the envelope (which routes the mail), the
// From header, the subject, the text (or the HTML reduced to text) and
// the raw headers, which say whether a program sent it. Attachments are
// read past and dropped.
func (w *InboundWebhook) ParseInboundEmail(h http.Header, body []byte, now time.Time) (messaging.InboundEmail, error) {
	if err := verifyEvents(w.key, body, h.Get(SignatureHeader), h.Get(TimestampHeader), now); err != nil {
		return messaging.InboundEmail{}, err
	}
	fields, err := readForm(h.Get("Content-Type"), body)
	if err != nil {
		return messaging.InboundEmail{}, err
	}
	var env struct {
		To   []string `json:"to"`
		From string   `json:"from"`
	}
	if err := json.Unmarshal([]byte(fields["envelope"]), &env); err != nil {
		return messaging.InboundEmail{}, fmt.Errorf("field envelope: not the JSON {\"to\": [...], \"from\": \"...\"} Parse sends: %v", err)
	}
	if len(env.To) == 0 {
		return messaging.InboundEmail{}, errors.New("field envelope: no recipient in \"to\"")
	}
	headers, err := readHeaders(fields["headers"])
	if err != nil {
		return messaging.InboundEmail{}, err
	}
	in := messaging.InboundEmail{
		Recipients: env.To,
		From:       senderAddress(fields["from"], env.From),
		Subject:    validUTF8(fields["subject"]),
		Text:       decodeText(fields["text"], fields["charsets"], "text"),
		MessageID:  strings.TrimSpace(headers.Get("Message-Id")),
		Automatic:  automatic(headers, fields["from"], fields["subject"]),
	}
	if in.Text == "" && fields["html"] != "" {
		in.Text = htmlToText(decodeText(fields["html"], fields["charsets"], "html"))
	}
	if in.MessageID == "" {
		sum := sha256.Sum256(body)
		in.MessageID = "sha256:" + hex.EncodeToString(sum[:])
	}
	return in, nil
}

// readForm reads the non-file fields of Parse's multipart/form-data body.
func readForm(contentType string, body []byte) (map[string]string, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("header Content-Type: %q is not multipart/form-data with a boundary (Parse's \"parsed\" mode; raw mode is not supported)", contentType)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	fields := map[string]string{}
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return fields, nil
		}
		if err != nil {
			return nil, fmt.Errorf("body: not a readable multipart form: %v", err)
		}
		name := part.FormName()
		if part.FileName() != "" || name == "" {
			_, _ = io.Copy(io.Discard, part) // attachments are not kept
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return nil, fmt.Errorf("field %s: %v", name, err)
		}
		if len(value) > maxFieldBytes {
			return nil, fmt.Errorf("field %s: longer than %d bytes", name, maxFieldBytes)
		}
		fields[name] = string(value)
	}
}

// readHeaders reads Parse's raw header block (folded lines included).
func readHeaders(block string) (textproto.MIMEHeader, error) {
	if strings.TrimSpace(block) == "" {
		return textproto.MIMEHeader{}, nil
	}
	block = strings.TrimRight(strings.ReplaceAll(block, "\r\n", "\n"), "\n") + "\n\n"
	h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(block))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, fmt.Errorf("field headers: not a header block: %v", err)
	}
	return h, nil
}

// senderAddress is the From header's address, else the envelope sender,
// with the domain lower-cased.
func senderAddress(fromHeader, envelopeFrom string) string {
	addr := strings.TrimSpace(envelopeFrom)
	if a, err := mail.ParseAddress(fromHeader); err == nil {
		addr = a.Address
	}
	if at := strings.LastIndexByte(addr, '@'); at > 0 {
		addr = addr[:at] + "@" + strings.ToLower(addr[at+1:])
	}
	return validUTF8(addr)
}

var autoSubjects = regexp.MustCompile(`(?i)^\s*(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|auto:|abwesenheitsnotiz|réponse automatique|respuesta automática|undeliverable|delivery status notification|mail delivery failed|returned mail)`)

// automatic names the sign that a program sent the mail (RFC 3834's
// Auto-Submitted above all; bounces; the common auto-responder headers
// and subjects); "" for a person's mail. X-Auto-Response-Suppress is not
// such a sign: it asks others not to answer automatically.
func automatic(h textproto.MIMEHeader, fromHeader, subject string) string {
	if v := strings.TrimSpace(h.Get("Auto-Submitted")); v != "" && !strings.EqualFold(v, "no") {
		return "Auto-Submitted: " + v
	}
	for _, name := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder"} {
		if v := h.Get(name); v != "" {
			return name + ": " + v
		}
	}
	switch p := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); p {
	case "bulk", "junk", "list", "auto_reply":
		return "Precedence: " + p
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "multipart/report" {
		return "Content-Type: multipart/report; report-type=" + params["report-type"]
	}
	if strings.TrimSpace(h.Get("Return-Path")) == "<>" {
		return "Return-Path: <> (a bounce)"
	}
	if a, err := mail.ParseAddress(fromHeader); err == nil {
		local := strings.ToLower(a.Address[:max(0, strings.IndexByte(a.Address, '@'))])
		if local == "mailer-daemon" || local == "postmaster" {
			return "From: " + a.Address
		}
	}
	if autoSubjects.MatchString(subject) {
		return "Subject: " + subject
	}
	return ""
}

// decodeText is a text field in UTF-8: Parse sends subject and addresses
// decoded, but the bodies in the charset charsets names for them
// (ISO-8859-1 and Windows-1252 are decoded; other bytes that are not
// UTF-8 become U+FFFD).
func decodeText(value, charsets, field string) string {
	var cs map[string]string
	_ = json.Unmarshal([]byte(charsets), &cs)
	switch strings.ToLower(cs[field]) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		if !utf8.ValidString(value) {
			runes := make([]rune, len(value))
			for i := 0; i < len(value); i++ {
				runes[i] = rune(value[i])
			}
			return string(runes)
		}
	}
	return validUTF8(value)
}

func validUTF8(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

var (
	htmlBreaks = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>`)
	htmlQuote  = regexp.MustCompile(`(?is)<blockquote\b.*?</blockquote>`)
	htmlDrop   = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)>`)
	htmlTags   = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns  = regexp.MustCompile(`\n{3,}`)
)

// htmlToText is an HTML-only mail's text, enough to read a reply: the
// quoted <blockquote> history dropped, breaks kept, tags removed,
// entities decoded.
func htmlToText(s string) string {
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlQuote.ReplaceAllString(s, "\n")
	s = htmlBreaks.ReplaceAllString(s, "\n")
	s = html.UnescapeString(htmlTags.ReplaceAllString(s, ""))
	return strings.TrimSpace(blankRuns.ReplaceAllString(s, "\n\n"))
}
