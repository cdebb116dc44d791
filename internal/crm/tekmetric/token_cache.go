package tekmetric

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// TokenCache holds Tekmetric access tokens for the whole process. A token
// lasts until revoked and serves every shop of its partner application, and
// the orchestrator builds an adapter per job, so without a shared cache
// every job would ask for a token. Concurrent callers needing the same token
// share one request. It is safe for concurrent use; the zero value is not
// usable, call NewTokenCache.
type TokenCache struct {
	mu      sync.Mutex
	entries map[string]*tokenEntry
}

// NewTokenCache returns an empty cache.
func NewTokenCache() *TokenCache {
	return &TokenCache{entries: map[string]*tokenEntry{}}
}

// tokenEntry is one cached token, or the request fetching it: done is
// closed once token or err is set.
type tokenEntry struct {
	done  chan struct{}
	token accessToken
	err   error
}

// tokenKey names the token of one application at one host. It holds a hash
// of the secret, never the secret, so that a rotated secret gets a token of
// its own while the cache cannot leak the old one.
func tokenKey(baseURL, clientID, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return baseURL + "\x00" + clientID + "\x00" + hex.EncodeToString(sum[:])
}

// get returns the token cached under key, fetching it when there is none.
// The fetch runs apart from the caller's context (fetch must bound itself),
// so that a caller giving up does not fail the others waiting on the same
// token; each caller waits only as long as its own context allows. A failed
// fetch is not cached.
func (tc *TokenCache) get(ctx context.Context, key string, fetch func(context.Context) (accessToken, error)) (accessToken, error) {
	tc.mu.Lock()
	e, ok := tc.entries[key]
	if !ok {
		e = &tokenEntry{done: make(chan struct{})}
		tc.entries[key] = e
		go tc.fill(context.WithoutCancel(ctx), key, e, fetch)
	}
	tc.mu.Unlock()
	select {
	case <-e.done:
		return e.token, e.err
	case <-ctx.Done():
		return accessToken{}, ctx.Err()
	}
}

func (tc *TokenCache) fill(ctx context.Context, key string, e *tokenEntry, fetch func(context.Context) (accessToken, error)) {
	tok, err := fetch(ctx)
	tc.mu.Lock()
	e.token, e.err = tok, err
	if err != nil && tc.entries[key] == e {
		delete(tc.entries, key)
	}
	tc.mu.Unlock()
	close(e.done)
}

// drop forgets the token cached under key if it is still access, the one
// the API refused. A newer token another caller already fetched stays.
func (tc *TokenCache) drop(key, access string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e, ok := tc.entries[key]
	if !ok {
		return
	}
	select {
	case <-e.done:
		if e.err == nil && e.token.access == access {
			delete(tc.entries, key)
		}
	default: // a fetch is under way: it brings the new token
	}
}
