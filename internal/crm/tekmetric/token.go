package tekmetric

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmhttp"
)

// tokenPath is Tekmetric's OAuth2 token endpoint.
const tokenPath = "/api/v1/oauth/token"

// accessToken is a bearer token and the shops it may read.
type accessToken struct {
	access string
	// shops are the shop ids of the token's scope, as Tekmetric wrote them.
	shops []string
}

// covers reports whether the token may read shop.
func (t accessToken) covers(shop int64) bool {
	return slices.Contains(t.shops, strconv.FormatInt(shop, 10))
}

// token returns a bearer token whose scope includes the tenant's shop. A
// cached token is checked against the shop and, when it does not cover it,
// fetched again once: Tekmetric keeps a token valid while shops are granted
// or removed, so only a fresh token's scope tells whether access was granted
// since.
func (c *Client) token(ctx context.Context) (accessToken, error) {
	tok, err := c.tokens.get(ctx, c.tokenKey, c.fetchToken)
	if err != nil {
		return accessToken{}, err
	}
	if tok.covers(c.shopID) {
		return tok, nil
	}
	c.tokens.drop(c.tokenKey, tok.access)
	if tok, err = c.tokens.get(ctx, c.tokenKey, c.fetchToken); err != nil {
		return accessToken{}, err
	}
	if !tok.covers(c.shopID) {
		return accessToken{}, fmt.Errorf("the token's scope (shops %s) does not include shop %d: grant this application access to the shop in Tekmetric: %w",
			cmp.Or(strings.Join(tok.shops, " "), "none"), c.shopID, crm.ErrUnauthorized)
	}
	return tok, nil
}

// fetchToken asks for a token with the client credentials.
func (c *Client) fetchToken(ctx context.Context) (accessToken, error) {
	ctx, cancel := context.WithTimeout(ctx, c.ep.Timeout)
	defer cancel()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ep.BaseURL+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return accessToken{}, fmt.Errorf("error building the token request: %w", err)
	}
	req.SetBasicAuth(c.clientID, c.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")

	resp, err := c.ep.Client.Do(req)
	if err != nil {
		return accessToken{}, fmt.Errorf("error fetching an access token: %w", err) // a *url.Error: no credentials in it
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, crmhttp.MaxResponseBytes))
	if err != nil {
		return accessToken{}, fmt.Errorf("error reading the token answer (HTTP %d): %w", resp.StatusCode, err)
	}
	var body struct {
		AccessToken      string `json:"access_token"`
		TokenType        string `json:"token_type"`
		Scope            string `json:"scope"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	decodeErr := json.Unmarshal(raw, &body)

	switch {
	case resp.StatusCode == http.StatusUnauthorized || body.Error == "invalid_client":
		return accessToken{}, fmt.Errorf("tekmetric refused the client credentials of application %s (HTTP %d %s): check the client id and secret: %w",
			c.clientID, resp.StatusCode, cmp.Or(body.Error, "unauthorized"), crm.ErrUnauthorized)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return accessToken{}, fmt.Errorf("error fetching an access token: %w", c.statusError(crmhttp.Answer{Status: resp.StatusCode, Header: resp.Header, Body: raw}, ""))
	case decodeErr != nil || body.AccessToken == "":
		return accessToken{}, fmt.Errorf("error fetching an access token: %w",
			&crm.StatusError{StatusCode: resp.StatusCode, Message: "answer holds no access_token: " + c.excerpt(raw, "")})
	case !strings.EqualFold(body.TokenType, "bearer"):
		return accessToken{}, fmt.Errorf("error fetching an access token: %w",
			&crm.StatusError{StatusCode: resp.StatusCode, Message: fmt.Sprintf("token_type is %q, want bearer", body.TokenType)})
	}
	return accessToken{access: body.AccessToken, shops: strings.Fields(body.Scope)}, nil
}
