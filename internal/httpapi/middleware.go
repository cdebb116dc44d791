package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// basicAuth guards a handler with HTTP basic auth. It refuses to build
// without a password so that a misconfigured replica fails at start-up
// instead of serving an open admin UI. Credentials are compared as hashes
// in constant time, so neither their content nor their length leaks
// through timing.
func basicAuth(username, password, realm string) (func(http.Handler) http.Handler, error) {
	if username == "" || password == "" {
		return nil, errors.New("riverui.username and riverui.password must be set: River UI is never served without authentication")
	}
	wantUser := sha256.Sum256([]byte(username))
	wantPass := sha256.Sum256([]byte(password))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			gotUser := sha256.Sum256([]byte(u))
			gotPass := sha256.Sum256([]byte(p))
			userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:]) == 1
			passOK := subtle.ConstantTimeCompare(gotPass[:], wantPass[:]) == 1
			if !ok || !userOK || !passOK {
				w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// recoverPanics turns a handler panic into a 500 and a log line, instead
// of a dropped connection.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(r.Context(), "http handler panicked", slog.String("path", redactedPath(r.URL.Path)), slog.Any("panic", p))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// redactedPath is a request path safe to log: a Tekmetric webhook path
// ends in the shop's secret token.
func redactedPath(path string) string {
	const tekmetric = "/webhooks/tekmetric/"
	if rest, ok := strings.CutPrefix(path, tekmetric); ok {
		tenant, _, _ := strings.Cut(rest, "/")
		return tekmetric + tenant + "/****"
	}
	return path
}
