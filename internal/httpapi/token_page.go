package httpapi

import "net/http"

// writeTokenPage writes a rendered page whose URL holds a customer's token
// (the booking and unsubscribe pages) with the headers both need: a CSP
// that allows nothing but the page's one inline style (by nonce, fresh per
// response) and forms posting back here; no-referrer and no-store because
// the URL is the customer's key; noindex because no search engine should
// list a lead.
func writeTokenPage(w http.ResponseWriter, status int, nonce string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
