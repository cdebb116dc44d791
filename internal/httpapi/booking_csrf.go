package httpapi

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// bookingCSRFCookie holds the booking page's double-submit CSRF value. The
// page's forms carry the same value in a hidden field; a POST whose field
// does not match its cookie is refused. A foreign site can make a browser
// send the cookie (or, with SameSite=Strict, not even that) but cannot read
// it to put it in the form.
const bookingCSRFCookie = "book_csrf"

// bookingCSRFField is the form field that must repeat the cookie.
const bookingCSRFField = "csrf"

// newRandomToken returns 32 random bytes, base64url: a CSRF value or a
// form's one-time key.
func newRandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead.
	return base64.RawURLEncoding.EncodeToString(b)
}

// bookingCSRF gives the page a CSRF value: the request's own cookie when it
// has a well-formed one (so two tabs share it and both forms stay valid),
// else a new value set as the cookie. The cookie is HttpOnly (no script
// reads it), SameSite=Strict (no other site's form sends it) and Secure
// when the customer came over https, directly or through a proxy that
// says so; its path is /book/, the only routes that read it.
func bookingCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(bookingCSRFCookie); err == nil && wellFormedToken(c.Value) {
		return c.Value
	}
	v := newRandomToken()
	http.SetCookie(w, &http.Cookie{
		Name:     bookingCSRFCookie,
		Value:    v,
		Path:     "/book/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   requestIsHTTPS(r),
	})
	return v
}

// checkBookingCSRF reports whether a parsed POST carries its cookie's CSRF
// value, compared in constant time.
func checkBookingCSRF(r *http.Request) bool {
	c, err := r.Cookie(bookingCSRFCookie)
	if err != nil || !wellFormedToken(c.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(bookingCSRFField))) == 1
}

// wellFormedToken reports whether v looks like newRandomToken's output, so
// a cookie planted with odd characters is replaced, not echoed into pages.
func wellFormedToken(v string) bool {
	if len(v) != 43 {
		return false
	}
	return strings.IndexFunc(v, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')
	}) < 0
}

// requestIsHTTPS reports whether the customer's browser used https: TLS
// here, or a TLS-terminating proxy's X-Forwarded-Proto. Trusting that
// header only ever makes the cookie stricter.
func requestIsHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
