package fake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxLoggedBody is the most of a request body a fake reads (and keeps in
// its request log); no provider call the adapters make comes near it.
const MaxLoggedBody = 1 << 20

// ReadBody reads r's body (up to MaxLoggedBody) for a fake's request log
// and gives r a body that replays it to the handler.
func ReadBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxLoggedBody))
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// JSONWriter answers JSON the way one provider does: its Content-Type
// spelling, whether it sends Content-Length, and what it answers when an
// answer cannot be encoded.
type JSONWriter struct {
	ContentType string
	// EncodeError is the provider-shaped 500 body for an answer that
	// cannot be encoded; empty answers net/http's plain-text error.
	EncodeError string
	// ContentLength sets Content-Length, as Twilio and SendGrid do.
	ContentLength bool
	// Verbatim sends the encoded bytes as they are. Without it the
	// InvalidUTF8 stand-ins go out as the raw bytes they stand for (see
	// WireText), as the CRM fakes need.
	Verbatim bool
}

// Write answers v with status.
func (jw JSONWriter) Write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	switch {
	case err != nil && jw.EncodeError == "":
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	case err != nil:
		status, b = http.StatusInternalServerError, []byte(jw.EncodeError)
	}
	if !jw.Verbatim {
		b = WireText(b)
	}
	w.Header().Set("Content-Type", jw.ContentType)
	if jw.ContentLength {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// SetRetryAfter sets Retry-After to d in whole seconds, rounded up, as
// ShopMonkey, Tekmetric and Twilio send it.
func SetRetryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}

// FormatUUID writes b as a random (version 4) UUID, the shape of
// ShopMonkey's ids and Tekmetric's tokens.
func FormatUUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// RandomHex returns n random bytes in hex, for webhook delivery ids.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// PostWebhook posts body with h to url, as a provider calls a worker, and
// wants a 2xx answer. Its errors name the host only: a Tekmetric webhook's
// path holds its secret token.
func PostWebhook(ctx context.Context, client *http.Client, url string, h http.Header, body []byte) error {
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
		return fmt.Errorf("webhook at %s: %w", req.URL.Host, withoutURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook at %s answered %s: %s", req.URL.Host, resp.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}

// withoutURL unwraps the *url.Error a client's Do returns, whose text
// repeats the whole URL (and so a URL's secret token).
func withoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
