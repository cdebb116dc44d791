// Package faketest holds the helpers the fakes' own tests share: a
// request helper that decodes a fake's JSON answer, and a Receiver that
// plays a worker for the webhooks the fakes post. Only tests import it.
package faketest

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// Do sends req and returns the answer with its JSON object body decoded
// (nil for an empty body); a body that is not a JSON object fails t.
func Do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if len(raw) == 0 {
		return resp, nil
	}
	var body map[string]any
	require.NoError(t, json.Unmarshal(raw, &body), "body: %s", raw)
	return resp, body
}

// RequireBare asserts a fake answered resp with status, no body and no
// header: body is the answer as the test decoded it, its zero value when
// there was none (SendGrid's sandbox mode and a fault's empty body answer
// so).
func RequireBare[B any](t *testing.T, resp *http.Response, body B, status int, header string) {
	t.Helper()
	require.Equal(t, status, resp.StatusCode)
	require.Zero(t, body)
	require.Empty(t, resp.Header.Get(header))
}

// Receiver is a server that records the webhooks posted to it and answers
// each with its status (200 until Answer changes it) and the body
// "answer".
type Receiver struct {
	// URL is the receiver's base URL; any path under it is recorded.
	URL string

	mu       sync.Mutex
	status   int
	requests []Webhook
}

// Webhook is one request a Receiver recorded.
type Webhook struct {
	Path   string
	Header http.Header
	Body   []byte
}

// NewReceiver starts a Receiver that stops when t ends.
func NewReceiver(t *testing.T) *Receiver {
	t.Helper()
	b := &Receiver{status: http.StatusOK}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.requests = append(b.requests, Webhook{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		w.WriteHeader(b.status)
		_, _ = w.Write([]byte("answer"))
	}))
	t.Cleanup(server.Close)
	b.URL = server.URL
	return b
}

// Answer makes the receiver answer status from now on.
func (b *Receiver) Answer(status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = status
}

// Only returns the one request received, failing t if there was not
// exactly one.
func (b *Receiver) Only(t *testing.T) Webhook {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(t, b.requests, 1)
	return b.requests[0]
}

// SendGridMail is a mail send body SendGrid accepts: one recipient, both
// content types, custom args at both levels and a category.
const SendGridMail = `{
  "personalizations": [{"to": [{"email": "ana@example.com", "name": "Ana"}], "custom_args": {"lead_id": "L1"}}],
  "from": {"email": "shop@example.com", "name": "Joe's Garage"},
  "subject": "Your quote",
  "content": [{"type": "text/plain", "value": "Hi Ana"}, {"type": "text/html", "value": "<p>Hi Ana</p>"}],
  "custom_args": {"tenant_id": "T1", "lead_id": "overridden"},
  "categories": ["lead"]
}`

// Objects returns the list of JSON objects under field of a decoded
// answer (ShopMonkey's "data", a Spring page's "content"), failing t when
// it is not one.
func Objects(t *testing.T, body map[string]any, field string) []map[string]any {
	t.Helper()
	list, ok := body[field].([]any)
	require.True(t, ok, "%s is not a list: %v", field, body)
	out := make([]map[string]any, 0, len(list))
	for _, r := range list {
		out = append(out, r.(map[string]any))
	}
	return out
}

// Run runs fn as the parallel subtest name of t: every subtest of the
// fakes' tests is parallel, and each had written the t.Run and
// t.Parallel pair out.
func Run(t *testing.T, name string, fn func(t *testing.T)) bool {
	t.Helper()
	return t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(t)
	})
}

// IDs lists the "id" of each row as text makes it, failing t where text
// reports the id is not of the fake's kind (ShopMonkey's are strings,
// Tekmetric's JSON integers).
func IDs(t *testing.T, rows []map[string]any, text func(id any) (string, bool)) []string {
	t.Helper()
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		id, ok := text(r["id"])
		require.True(t, ok, "id %v is not of the fake's kind", r["id"])
		ids = append(ids, id)
	}
	return ids
}

// Concurrently runs fn workers×rounds times, workers at once, and fails t
// with every error fn returns, so that -race sees a fake's methods and
// handlers meet.
func Concurrently(t *testing.T, workers, rounds int, fn func() error) {
	t.Helper()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				if err := fn(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// SeedConcurrently seeds workers×rounds leads through add, workers at
// once, handing each new lead to use (the fake's reads and writes of it),
// so that -race sees a fake's seeding, handlers and request log meet. It
// returns how many leads it seeded.
func SeedConcurrently(t *testing.T, workers, rounds int, add func() (fake.LeadRef, error), use func(ref fake.LeadRef)) int {
	t.Helper()
	Concurrently(t, workers, rounds, func() error {
		ref, err := add()
		if err != nil {
			return err
		}
		use(ref)
		return nil
	})
	return workers * rounds
}

// JSONWith encodes base with change applied: a key set to nil is left
// out, any other value replaces base's. Tests build a valid request body
// once and vary one field per case this way.
func JSONWith(base, change map[string]any) string {
	m := maps.Clone(base)
	for k, v := range change {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	raw, _ := json.Marshal(m)
	return string(raw)
}

// BearerRequest builds a request to u with query and body, carrying token
// as a Bearer credential (none when token is empty), as the CRM adapters
// send them.
func BearerRequest(t *testing.T, method, u string, query url.Values, body, token string) *http.Request {
	t.Helper()
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}
