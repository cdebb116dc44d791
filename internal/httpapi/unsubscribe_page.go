package httpapi

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// The unsubscribe page (/unsubscribe/{token}): the List-Unsubscribe URL
// of every email to a customer, and the link in its body.
//
// POST unsubscribes. It is RFC 8058's one-click: an inbox (Gmail, Yahoo)
// posts "List-Unsubscribe=One-Click" with no cookie, no login and no
// Origin of ours, so the route asks for none of them, no CSRF key and no
// cross-origin check either. That is safe because the token is the whole
// authority: it is an HMAC under our key naming one email and the address
// it went to, so whoever can post it is whoever holds that email (or a
// copy of it), and all it can do is stop email to that address from that
// shop, once, idempotently; a forged post unsubscribes no one (404). It
// answers 200 with the page, never a redirect (the RFC forbids one).
//
// GET only shows: mail scanners and link previews fetch every link in a
// message, and an unsubscribe on GET would unsubscribe customers who never
// asked. It shows the shop, the masked address and a button that posts
// the one-click form, or says the address is unsubscribed already.

//go:embed unsubscribe/*.html
var unsubscribeFiles embed.FS

// unsubscribeTemplates are parsed once; a template that does not parse
// fails every test, not a customer.
var unsubscribeTemplates = template.Must(template.ParseFS(unsubscribeFiles, "unsubscribe/*.html"))

// unsubscribeBodyLimit bounds what a one-click POST's body may be: the
// RFC's one field (multipart or urlencoded). The body is not read for its
// meaning: the POST is the request.
const unsubscribeBodyLimit = 4 << 10

// UnsubscribeDesk is what the unsubscribe page needs, implemented by
// internal/jobs. Every token that does not unsubscribe is
// lead.ErrUnsubscribeLinkUnknown.
type UnsubscribeDesk interface {
	// Look reads what the token's page shows, changing nothing.
	Look(ctx context.Context, token string) (lead.Unsubscription, error)
	// Unsubscribe suppresses the token's address for its shop (again:
	// nothing changes).
	Unsubscribe(ctx context.Context, token string) (lead.Unsubscription, error)
}

// unsubscribePage serves the unsubscribe routes.
type unsubscribePage struct {
	logger *slog.Logger
	desk   UnsubscribeDesk
	redact func(path string) string
}

// unsubscribeView is what page.html renders.
type unsubscribeView struct {
	Nonce   string
	Shop    string
	Heading string
	Lines   []string
	// Ask shows the button that posts the one-click form.
	Ask bool
}

// handleLook serves GET /unsubscribe/{token}.
func (p *unsubscribePage) handleLook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := p.desk.Look(r.Context(), r.PathValue("token"))
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		if u.Done {
			p.render(w, r, http.StatusOK, doneView(u))
			return
		}
		p.render(w, r, http.StatusOK, unsubscribeView{Shop: u.Shop, Heading: "Unsubscribe from " + u.Shop + "'s emails?", Ask: true,
			Lines: []string{u.Shop + " will send no more emails to " + u.Address + "."}})
	})
}

// handleUnsubscribe serves POST /unsubscribe/{token}: the one-click
// unsubscribe, and the page's button.
func (p *unsubscribePage) handleUnsubscribe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Drain what the client sent (bounded) so the connection is
		// reused; its content does not matter.
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, unsubscribeBodyLimit))
		u, err := p.desk.Unsubscribe(r.Context(), r.PathValue("token"))
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		p.logger.InfoContext(r.Context(), "unsubscribed by link", slog.String("path", p.redact(r.URL.Path)))
		p.render(w, r, http.StatusOK, doneView(u))
	})
}

// doneView is the page of an address unsubscribed.
func doneView(u lead.Unsubscription) unsubscribeView {
	return unsubscribeView{Shop: u.Shop, Heading: "You are unsubscribed",
		Lines: []string{u.Shop + " will send no more emails to " + u.Address + ".",
			"Texts are separate: reply STOP to a text to stop those."}}
}

// writeError answers an unknown link with 404 naming no shop, and any
// other failure with 503 (an inbox retries a one-click POST).
func (p *unsubscribePage) writeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, lead.ErrUnsubscribeLinkUnknown):
		p.render(w, r, http.StatusNotFound, unsubscribeView{Heading: "This link does not work",
			Lines: []string{"Check the link in the email you got, or reply to that email to ask the shop."}})
	case errors.Is(err, context.Canceled):
		// The client left; there is no one to answer.
	default:
		p.logger.ErrorContext(r.Context(), "unsubscribe page failed", slog.String("method", r.Method),
			slog.String("path", p.redact(r.URL.Path)), slog.Any("error", err))
		p.render(w, r, http.StatusServiceUnavailable, unsubscribeView{Heading: "Something went wrong on our side",
			Lines: []string{"Please try again in a minute."}})
	}
}

// render writes v with a token page's headers (writeTokenPage).
func (p *unsubscribePage) render(w http.ResponseWriter, r *http.Request, status int, v unsubscribeView) {
	v.Nonce = newRandomToken()
	var buf bytes.Buffer
	if err := unsubscribeTemplates.ExecuteTemplate(&buf, "page", v); err != nil {
		p.logger.ErrorContext(r.Context(), "unsubscribe page did not render", slog.String("path", p.redact(r.URL.Path)), slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeTokenPage(w, status, v.Nonce, buf.Bytes())
}
