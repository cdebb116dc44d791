package tekmetric

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
)

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
	if a.Status == http.StatusUnauthorized {
		c.tokens.drop(c.tokenKey, tok.access)
		if tok, err = c.token(ctx); err != nil {
			return nil, err
		}
		if a, err = c.send(ctx, tok, method, path, query, payload); err != nil {
			return nil, err
		}
	}
	if !a.OK() {
		return nil, c.statusError(a, tok.access)
	}
	return a.Body, nil
}

// send makes one HTTP request with tok.
func (c *Client) send(ctx context.Context, tok accessToken, method, path string, query url.Values, payload []byte) (crmhttp.Answer, error) {
	return crmhttp.Send(ctx, crmhttp.Request{
		Client: c.ep.Client, Timeout: c.ep.Timeout, Method: method, URL: c.ep.BaseURL + path, Query: query,
		Bearer: tok.access, Payload: payload,
	})
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

// statusError maps a non-2xx answer to the crm error a job acts on. A 401
// reaching it came after a token was fetched afresh (see do).
func (c *Client) statusError(a crmhttp.Answer, token string) error {
	var eb errorBody
	isJSON := json.Unmarshal(a.Body, &eb) == nil
	redact := func(s string) string { return c.redact(s, token) }
	return crmhttp.Refusal{
		CRM: Kind, Status: a.Status, Header: a.Header, Code: eb.Error,
		Message: crmhttp.Message(a.Status, a.Body, isJSON, cmp.Or(eb.ErrorDescription, eb.Message), redact),
		// Tekmetric sends no Retry-After, so the usual wait is 0:
		// "unknown, back off exponentially".
		UnauthorizedNote: " to a freshly fetched token",
	}.Err()
}

// excerpt is the start of a body that is not JSON (a gateway page), enough
// to tell what answered.
func (c *Client) excerpt(raw []byte, token string) string {
	return c.redact(crmhttp.Excerpt(raw), token)
}

// redact removes the client secret and the access token from text the
// server wrote, in case it echoes a header back.
func (c *Client) redact(s, token string) string { return crmhttp.Redact(s, c.secret, token) }
