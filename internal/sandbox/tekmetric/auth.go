package faketekmetric

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// application is a partner application: its secret, the shops granted to it
// and its live token ("" when it has none).
type application struct {
	secret string
	shops  map[int64]bool
	token  string
}

// SetRateLimit sets the requests a minute each application may make before
// it gets 429s; zero or less turns the limit off.
func (s *API) SetRateLimit(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = max(perMinute, 0)
}

// RateLimit returns the requests a minute each application may make (0:
// no limit).
func (s *API) RateLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimit
}

// AddShop creates shopID with its time zone (an IANA name; empty means
// UTC) unless it exists, and grants it to the partner application clientID,
// creating the application with clientSecret unless it exists. Calling it
// again for another shop widens the application's scope ("1 2"); a token
// already issued covers the new shop at once, as Tekmetric's do.
func (s *API) AddShop(shopID int64, timeZone, clientID, clientSecret string) error {
	if shopID <= 0 {
		return fmt.Errorf("shop id must be positive, got %d", shopID)
	}
	if clientID == "" || clientSecret == "" || strings.Contains(clientID, ":") {
		return errors.New("client id and secret are required, and the id cannot hold a colon")
	}
	loc, err := time.LoadLocation(timeZone)
	if err != nil {
		return fmt.Errorf("time zone %q: %w", timeZone, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.shops[shopID]; ok && old.String() != loc.String() {
		return fmt.Errorf("shop %d already exists in time zone %s", shopID, old)
	}
	c, ok := s.clients[clientID]
	if ok && c.secret != clientSecret {
		return fmt.Errorf("client %s already exists with another secret (see RotateSecret)", clientID)
	}
	if !ok {
		c = &application{secret: clientSecret, shops: map[int64]bool{}}
		s.clients[clientID] = c
	}
	s.shops[shopID] = loc
	c.shops[shopID] = true
	return nil
}

// RotateSecret gives clientID a new secret. Its token stays valid, as
// tokens do until revoked; the old secret no longer gets one.
func (s *API) RotateSecret(clientID, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok || secret == "" {
		return fmt.Errorf("no client %s, or an empty secret", clientID)
	}
	c.secret = secret
	return nil
}

// RevokeTokens revokes the live token of clientID, so that its next API
// call is a 401 and the application must ask for a new token. It returns
// how many tokens it revoked.
func (s *API) RevokeTokens(clientID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok || c.token == "" {
		return 0
	}
	delete(s.tokens, c.token)
	c.token = ""
	return 1
}

// handleToken is the OAuth2 token endpoint: client credentials in HTTP
// Basic auth, grant_type=client_credentials in a form body.
func (s *API) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "cannot read the form body"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, known := s.clients[id]
	if !ok || !known || c.secret != secret {
		w.Header().Set("WWW-Authenticate", `Basic realm="oauth2/client"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "Bad client credentials"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "OAuth 2.0 Parameter: grant_type"})
		return
	}
	if c.token == "" {
		c.token = s.newToken()
		s.tokens[c.token] = id
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": c.token, "token_type": "bearer", "scope": scopeOf(c.shops)})
}

// newToken makes a random UUID-like access token, as Tekmetric's look.
// It does not draw from the fake's seeded generator, so that asking for a
// token does not change the names and vehicles seeded after it.
func (s *API) newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fake.FormatUUID(b)
}

// authed resolves the bearer token to its application: 401 with an empty
// body for a missing, unknown or revoked token, then 429 with an empty body
// beyond the application's rate limit.
func (s *API) authed(h func(w http.ResponseWriter, r *http.Request, c *application)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		id, known := s.tokens[strings.TrimSpace(token)]
		limited := known && ok && !s.allow(id)
		var c *application
		if known {
			// A copy of the scope, since h reads it unlocked.
			c = &application{shops: maps.Clone(s.clients[id].shops)}
		}
		s.mu.Unlock()
		switch {
		case !ok || !known:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case limited:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			h(w, r, c)
		}
	}
}

// allow counts one request of client id against the rate limit and reports
// whether it is within it. Refused requests are not counted. s.mu must be
// held.
func (s *API) allow(id string) bool {
	if s.rateLimit <= 0 {
		return true
	}
	now := s.Now()
	recent := slices.DeleteFunc(s.hits[id], func(t time.Time) bool { return now.Sub(t) >= time.Minute })
	if len(recent) >= s.rateLimit {
		s.hits[id] = recent
		return false
	}
	s.hits[id] = append(recent, now)
	return true
}

// scopeError answers a request for a shop the token may not read.
func scopeError(w http.ResponseWriter, c *application) {
	writeJSON(w, http.StatusForbidden, map[string]any{
		"error": "insufficient_scope", "error_description": "Insufficient scope for this resource", "scope": scopeOf(c.shops),
	})
}

// scopeOf writes shop ids as a token's scope: "1 2".
func scopeOf(shops map[int64]bool) string {
	ids := make([]int64, 0, len(shops))
	for id := range shops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " ")
}
