package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
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

// refuseCrossOrigin refuses unsafe (non GET, HEAD, OPTIONS) requests that a
// browser marks as coming from another site, before anything else runs.
// Basic auth alone does not stop them: a browser attaches cached basic
// credentials to a cross-site fetch, and River UI's API reads a JSON body
// whatever its Content-Type, so a page an operator visited could cancel or
// delete any job with a no-cors text/plain POST (without this check,
// TestWorkerRiverUIRefusesCrossOriginRequests got 200 and the job
// cancelled). It comes before the password check, so a foreign page learns
// nothing about the credentials either.
//
// Go's check (Sec-Fetch-Site, else Origin against Host) lets through a
// request with neither header: curl, scripts, and provider webhooks are not
// browsers and carry no ambient credentials. Webhook routes are not wrapped
// at all; their signatures are their defence.
func refuseCrossOrigin(logger *slog.Logger, redact func(path string) string) func(http.Handler) http.Handler {
	protection := http.NewCrossOriginProtection()
	protection.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.WarnContext(r.Context(), "refused a cross-origin request",
			slog.String("method", r.Method), slog.String("path", redact(r.URL.Path)),
			slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")), slog.String("origin", r.Header.Get("Origin")))
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
	}))
	return protection.Handler
}

// denyFraming forbids every browser from showing any of our pages inside
// another site's frame, where a click on River UI's cancel or delete could
// be stolen (clickjacking). X-Frame-Options is for browsers that predate
// CSP's frame-ancestors.
func denyFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// limitBody caps what a handler can read of a request body at limit bytes;
// a handler reading more gets an *http.MaxBytesError. River UI's API reads
// whole bodies with io.ReadAll and answers 413 to that error, but sets no
// cap of its own.
func limitBody(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// recoverPanics turns a handler panic into a 500 and a log line (its path
// redacted), instead of a dropped connection.
func recoverPanics(logger *slog.Logger, redact func(path string) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logger.ErrorContext(r.Context(), "http handler panicked", slog.String("path", redact(r.URL.Path)), slog.Any("panic", p))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// tokenRedactor returns what makes a request path safe to log: the
// webhook path of a CRM that authenticates by URL token (Tekmetric's) ends
// in the shop's secret token, which becomes "****", and a booking page's
// path holds a customer's link token ("/book/****/b/<booking id>").
func tokenRedactor(tokenKinds []string) func(path string) string {
	prefixes := make([]string, 0, len(tokenKinds))
	for _, kind := range tokenKinds {
		// The route of kind with an empty tenant is "/webhooks/<kind>/".
		prefixes = append(prefixes, webhookurl.CRM(kind, "", "").Path())
	}
	return func(path string) string {
		if rest, ok := strings.CutPrefix(path, "/book/"); ok {
			_, after, found := strings.Cut(rest, "/")
			if found {
				return "/book/****/" + after
			}
			return "/book/****"
		}
		if strings.HasPrefix(path, "/unsubscribe/") {
			return "/unsubscribe/****"
		}
		for _, prefix := range prefixes {
			if rest, ok := strings.CutPrefix(path, prefix); ok {
				tenant, _, _ := strings.Cut(rest, "/")
				return prefix + tenant + "/****"
			}
		}
		return path
	}
}
