package shopmonkey

import (
	"bytes"
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

// defaultRetryAfter is how long to wait after a 429 without Retry-After.
// ShopMonkey's limit is per key per minute (unverified), so a minute is
// always enough.
const defaultRetryAfter = time.Minute

// maxResponseBytes bounds what one answer may make us read.
const maxResponseBytes = 16 << 20

// envelope is every ShopMonkey answer: success with data (and meta on
// lists), or failure with a code and message.
type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Meta    listMeta        `json:"meta"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
}

// listMeta is the meta of a list answer. Total is nil when absent.
type listMeta struct {
	HasMore bool `json:"hasMore"`
	Total   *int `json:"total"`
}

// do makes one call and returns the envelope of a 2xx answer, or the error
// the crm package defines for the others.
func (a *Adapter) do(ctx context.Context, method, path string, query url.Values, body any) (envelope, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()

	u := a.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var reqBody io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return envelope{}, fmt.Errorf("error encoding request: %w", err)
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, reqBody)
	if err != nil {
		return envelope{}, fmt.Errorf("error building request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := a.client.Do(req)
	if err != nil {
		return envelope{}, err // a *url.Error: method and URL, never the key (it is a header)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return envelope{}, fmt.Errorf("error reading HTTP %d answer: %w", resp.StatusCode, err)
	}

	var env envelope
	decodeErr := json.Unmarshal(raw, &env)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return envelope{}, a.statusError(resp, raw, env, decodeErr == nil)
	}
	if decodeErr != nil {
		return envelope{}, &crm.StatusError{StatusCode: resp.StatusCode, Message: "answer is not a ShopMonkey envelope: " + a.excerpt(raw)}
	}
	if !env.Success {
		return envelope{}, &crm.StatusError{StatusCode: resp.StatusCode, Code: env.Code, Message: a.redact(env.Message)}
	}
	return env, nil
}

// statusError maps a non-2xx answer to the crm error a job acts on.
func (a *Adapter) statusError(resp *http.Response, raw []byte, env envelope, isEnvelope bool) error {
	msg := http.StatusText(resp.StatusCode)
	switch {
	case isEnvelope && env.Message != "":
		msg = a.redact(env.Message)
	case !isEnvelope && len(bytes.TrimSpace(raw)) > 0:
		msg = a.excerpt(raw)
	}
	desc := fmt.Sprintf("shopmonkey answered HTTP %d", resp.StatusCode)
	if env.Code != "" {
		desc += " (" + env.Code + ")"
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%s: %s: %w", desc, msg, crm.ErrUnauthorized)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %s: %w", desc, msg, crm.ErrNotFound)
	case http.StatusTooManyRequests:
		return &crm.RateLimitedError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	}
	return &crm.StatusError{StatusCode: resp.StatusCode, Code: env.Code, Message: msg}
}

// retryAfter reads Retry-After as seconds or as an HTTP date.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultRetryAfter
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t).Round(time.Second), time.Second)
	}
	return defaultRetryAfter
}

// excerpt is the start of a body that is not an envelope (a gateway page),
// enough to tell what answered.
func (a *Adapter) excerpt(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return a.redact(s)
}

// redact removes the API key from text the server wrote, in case it echoes
// the Authorization header back.
func (a *Adapter) redact(s string) string {
	return strings.ReplaceAll(s, a.apiKey, "[redacted]")
}

// list makes one list call. orderBy is always id: the live API ignores it on
// the date fields, and id at least makes a page stable for the same rows.
func (a *Adapter) list(ctx context.Context, path string, where map[string]any, skip int) ([]json.RawMessage, listMeta, error) {
	q := url.Values{}
	if len(where) > 0 {
		b, err := json.Marshal(where)
		if err != nil {
			return nil, listMeta{}, fmt.Errorf("error encoding where: %w", err)
		}
		q.Set("where", string(b))
	}
	q.Set("orderBy", "id")
	q.Set("limit", strconv.Itoa(pageLimit))
	if skip > 0 {
		q.Set("skip", strconv.Itoa(skip))
	}
	env, err := a.do(ctx, http.MethodGet, path, q, nil)
	if err != nil {
		return nil, listMeta{}, err
	}
	var rows []json.RawMessage
	if len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, &rows); err != nil {
			return nil, listMeta{}, &crm.StatusError{StatusCode: http.StatusOK, Message: "list data is not an array"}
		}
	}
	return rows, env.Meta, nil
}
