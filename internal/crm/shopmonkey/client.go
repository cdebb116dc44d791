package shopmonkey

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
)

// defaultRetryAfter is how long to wait after a 429 without Retry-After.
// ShopMonkey's limit is per key per minute (unverified), so a minute is
// always enough.
const defaultRetryAfter = time.Minute

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
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return envelope{}, fmt.Errorf("error encoding request: %w", err)
		}
	}
	ans, err := crmhttp.Send(ctx, crmhttp.Request{
		Client: a.ep.Client, Timeout: a.ep.Timeout, Method: method, URL: a.ep.BaseURL + path, Query: query,
		Bearer: a.apiKey, Payload: payload,
	})
	if err != nil {
		return envelope{}, err
	}

	var env envelope
	decodeErr := json.Unmarshal(ans.Body, &env)
	if !ans.OK() {
		return envelope{}, a.statusError(ans, env, decodeErr == nil)
	}
	if decodeErr != nil {
		return envelope{}, &crm.StatusError{StatusCode: ans.Status, Message: "answer is not a ShopMonkey envelope: " + a.excerpt(ans.Body)}
	}
	if !env.Success {
		return envelope{}, &crm.StatusError{StatusCode: ans.Status, Code: env.Code, Message: a.redact(env.Message)}
	}
	return env, nil
}

// statusError maps a non-2xx answer to the crm error a job acts on.
func (a *Adapter) statusError(ans crmhttp.Answer, env envelope, isEnvelope bool) error {
	return crmhttp.Refusal{
		CRM: Kind, Status: ans.Status, Header: ans.Header, Code: env.Code,
		Message:           crmhttp.Message(ans.Status, ans.Body, isEnvelope, env.Message, a.redact),
		DefaultRetryAfter: defaultRetryAfter,
	}.Err()
}

// excerpt is the start of a body that is not an envelope (a gateway page),
// enough to tell what answered.
func (a *Adapter) excerpt(raw []byte) string { return a.redact(crmhttp.Excerpt(raw)) }

// redact removes the API key from text the server wrote, in case it echoes
// the Authorization header back.
func (a *Adapter) redact(s string) string { return crmhttp.Redact(s, a.apiKey) }

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
