package tekmetric

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// maxResponseBytes bounds what one answer may make us read.
const maxResponseBytes = 16 << 20

// answer is one HTTP answer, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do makes one API call and returns the body of a 2xx answer, or the error
// the crm package defines for the others. A 401 means the token was revoked
// (tokens do not expire): the cached token is dropped and the call is made
// once more with a new one. Retrying is safe even for a POST, since a
// request refused at authentication was not processed.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("error encoding request: %w", err)
		}
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	a, err := c.send(ctx, tok, method, path, query, payload)
	if err != nil {
		return nil, err
	}
	if a.status == http.StatusUnauthorized {
		c.tokens.drop(c.tokenKey, tok.access)
		if tok, err = c.token(ctx); err != nil {
			return nil, err
		}
		if a, err = c.send(ctx, tok, method, path, query, payload); err != nil {
			return nil, err
		}
	}
	if a.status < 200 || a.status > 299 {
		return nil, c.statusError(a, tok.access)
	}
	return a.body, nil
}

// send makes one HTTP request with tok.
func (c *Client) send(ctx context.Context, tok accessToken, method, path string, query url.Values, payload []byte) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var reqBody io.Reader
	if payload != nil {
		reqBody = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, reqBody)
	if err != nil {
		return answer{}, fmt.Errorf("error building request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.access)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return answer{}, err // a *url.Error: method and URL, never the token (it is a header)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return answer{}, fmt.Errorf("error reading HTTP %d answer: %w", resp.StatusCode, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

// errorBody is every error shape Tekmetric uses: OAuth errors
// ({"error":"insufficient_scope","error_description":...}) and API errors
// ({"type":"ERROR","message":...}). A 401 or 429 has no body at all.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Type             string `json:"type"`
	Message          string `json:"message"`
}

// statusError maps a non-2xx answer to the crm error a job acts on.
func (c *Client) statusError(a answer, token string) error {
	var eb errorBody
	isJSON := json.Unmarshal(a.body, &eb) == nil
	msg := http.StatusText(a.status)
	switch {
	case isJSON && cmp.Or(eb.ErrorDescription, eb.Message) != "":
		msg = c.redact(cmp.Or(eb.ErrorDescription, eb.Message), token)
	case !isJSON && len(bytes.TrimSpace(a.body)) > 0:
		msg = c.excerpt(a.body, token)
	}
	desc := fmt.Sprintf("tekmetric answered HTTP %d", a.status)
	if eb.Error != "" {
		desc += " (" + eb.Error + ")"
	}
	switch a.status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%s to a freshly fetched token: %s: %w", desc, msg, crm.ErrUnauthorized)
	case http.StatusForbidden:
		return fmt.Errorf("%s: %s: %w", desc, msg, crm.ErrUnauthorized)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %s: %w", desc, msg, crm.ErrNotFound)
	case http.StatusTooManyRequests:
		return &crm.RateLimitedError{RetryAfter: retryAfter(a.header.Get("Retry-After"))}
	}
	return &crm.StatusError{StatusCode: a.status, Code: eb.Error, Message: msg}
}

// retryAfter reads Retry-After as seconds or as an HTTP date. Tekmetric
// sends none, so the usual answer is 0: "unknown, back off exponentially".
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t).Round(time.Second), time.Second)
	}
	return 0
}

// excerpt is the start of a body that is not JSON (a gateway page), enough
// to tell what answered.
func (c *Client) excerpt(raw []byte, token string) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return c.redact(s, token)
}

// redact removes the client secret and the access token from text the
// server wrote, in case it echoes a header back.
func (c *Client) redact(s, token string) string {
	s = strings.ReplaceAll(s, c.secret, "[redacted]")
	if token != "" {
		s = strings.ReplaceAll(s, token, "[redacted]")
	}
	return s
}
