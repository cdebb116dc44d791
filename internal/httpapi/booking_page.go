package httpapi

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// The booking page (/book/{token}): the customer's link from a text or an
// email. It is server-side HTML with its CSS inline and no script, so it
// loads in one round trip on a phone with a poor signal (the test holds an
// offer of 14 days under 14 KB) and works with any browser, keyboard or
// screen reader. Everything it shows comes from the BookingDesk, which
// resolves the token to one lead: the page itself knows no tenant.

//go:embed booking/*.html
var bookingFiles embed.FS

// bookingTemplates are parsed once; a template that does not parse fails
// every test, not a customer.
var bookingTemplates = template.Must(template.ParseFS(bookingFiles, "booking/*.html"))

// bookingBodyLimit bounds a booking form's body: four short fields.
const bookingBodyLimit = 4 << 10

// bookingPage serves the booking routes.
type bookingPage struct {
	logger *slog.Logger
	desk   BookingDesk
	redact func(path string) string
	// crossOrigin refuses a POST a browser marks as sent by another site
	// (Sec-Fetch-Site, else Origin against Host), before the CSRF cookie
	// is even looked at.
	crossOrigin *http.CrossOriginProtection
}

// bookingView is what page.html renders; empty fields render nothing.
type bookingView struct {
	Nonce     string
	Refresh   bool
	Title     string
	Shop      string
	Heading   string
	Notice    string
	Lines     []string
	FirstName string
	Summary   string
	Vehicle   string
	Pick      *pickView
	Cancel    *formKeys
	Contact   bool
	Phone     string
	Email     string
}

// formKeys are the hidden fields every form carries.
type formKeys struct {
	CSRF string
	Key  string
}

// pickView is a form choosing one of the open slots, grouped by day.
type pickView struct {
	formKeys
	Action  lead.BookingAction
	Heading string
	Zone    string
	Submit  string
	Days    []dayView
}

// dayView is one day's slots, a fieldset with the day as its legend.
type dayView struct {
	Legend string
	Slots  []slotView
}

// slotView is one radio input: the slot's start (RFC 3339, UTC) and its
// time of day in the shop's zone. Required is set on the form's first
// slot only: required on one radio makes its whole group required, and
// 125 more of them cost a page of 14 days 1.1 KB.
type slotView struct {
	Value    string
	Label    string
	Required bool
}

// handleOffer serves GET /book/{token}: the open slots, or the lead's
// live booking when it has one.
func (p *bookingPage) handleOffer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		offer, err := p.desk.Offer(r.Context(), token)
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		csrf := bookingCSRF(w, r)
		if b := offer.Current; b != nil && liveBooking(b.State) {
			p.render(w, r, http.StatusOK, statusView(offer, *b, csrf))
			return
		}
		p.render(w, r, http.StatusOK, offerView(offer, csrf, ""))
	})
}

// handleStatus serves GET /book/{token}/b/{id}: where one booking stands.
func (p *bookingPage) handleStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		id, err := uuid.Parse(r.PathValue("id"))
		if err != nil {
			p.writeError(w, r, lead.ErrBookingLinkUnknown)
			return
		}
		b, err := p.desk.Booking(r.Context(), token, id)
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		offer, err := p.desk.Offer(r.Context(), token)
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		p.render(w, r, http.StatusOK, statusView(offer, b, bookingCSRF(w, r)))
	})
}

// handleRequest serves POST /book/{token} and POST /book/{token}/b/{id}
// (the forms have no action, so a status page's move and cancel post to
// its own path; the form says what to do, the id in the path is not read):
// book, move or cancel, answered with 303 to the booking's status page so
// that a reload never posts again.
func (p *bookingPage) handleRequest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := p.crossOrigin.Check(r); err != nil {
			p.logger.WarnContext(r.Context(), "refused a cross-site booking request", slog.String("path", p.redact(r.URL.Path)),
				slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")), slog.String("origin", r.Header.Get("Origin")))
			p.render(w, r, http.StatusForbidden, messageView("This form was sent from another site",
				"Open the booking link from your text again to choose a time."))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, bookingBodyLimit)
		if err := r.ParseForm(); err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				p.render(w, r, http.StatusRequestEntityTooLarge, messageView("That form was too large", "Go back and choose a time again."))
				return
			}
			p.render(w, r, http.StatusBadRequest, messageView("That form could not be read", "Go back and choose a time again."))
			return
		}
		if !checkBookingCSRF(r) {
			p.render(w, r, http.StatusForbidden, messageView("This form has expired",
				"Open the booking link from your text again to choose a time."))
			return
		}
		req, err := parseBookingForm(r)
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		token := r.PathValue("token")
		b, err := p.desk.Request(r.Context(), token, req)
		if errors.Is(err, lead.ErrSlotTaken) {
			p.renderTaken(w, r, token)
			return
		}
		if err != nil {
			p.writeError(w, r, err)
			return
		}
		seeStatus(w, r, token, b.ID)
	})
}

// seeStatus answers a POST with 303 to booking id's status page. The
// Location is relative to the path the browser posted to (/book/{token} or
// a status page's /book/{token}/b/{id}), so that it holds behind a proxy
// that serves the page under a path prefix and strips it; "./" keeps a
// token from ever reading as a URL scheme.
func seeStatus(w http.ResponseWriter, r *http.Request, token string, id uuid.UUID) {
	loc := "./" + url.PathEscape(token) + "/b/" + id.String()
	if r.PathValue("id") != "" {
		loc = "./" + id.String()
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusSeeOther)
}

// renderTaken answers a slot taken between the page and the tap: the
// offer again (409) with the slots still open and a notice.
func (p *bookingPage) renderTaken(w http.ResponseWriter, r *http.Request, token string) {
	offer, err := p.desk.Offer(r.Context(), token)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	csrf := bookingCSRF(w, r)
	v := offerView(offer, csrf, "That time was just taken. Please choose another.")
	if b := offer.Current; b != nil && b.State == lead.BookingBooked {
		v = statusView(offer, *b, csrf)
		v.Notice = "That time was just taken. Your appointment is unchanged; choose another time to move it."
	}
	p.render(w, r, http.StatusConflict, v)
}

// parseBookingForm decodes and validates the form at the edge; an error is
// a *lead.ValidationError naming the field.
func parseBookingForm(r *http.Request) (lead.BookingRequest, error) {
	req := lead.BookingRequest{Action: lead.BookingAction(r.PostFormValue("action")), Key: r.PostFormValue("key")}
	switch req.Action {
	case lead.BookingBook, lead.BookingMove, lead.BookingCancel:
	default:
		return req, &lead.ValidationError{Field: "action", Reason: "must be book, move or cancel"}
	}
	if !wellFormedToken(req.Key) {
		return req, &lead.ValidationError{Field: "key", Reason: "must be the form's key"}
	}
	if req.Action == lead.BookingCancel {
		return req, nil
	}
	raw := r.PostFormValue("start")
	if raw == "" {
		return req, &lead.ValidationError{Field: "start", Reason: "choose a time"}
	}
	start, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return req, &lead.ValidationError{Field: "start", Reason: "must be an RFC 3339 time"}
	}
	req.Start = start
	return req, nil
}

// writeError answers what the desk or the form refused, and logs (once,
// here, the path redacted) what the customer cannot fix.
func (p *bookingPage) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var closed *lead.BookingLinkClosedError
	var invalid *lead.ValidationError
	switch {
	case errors.Is(err, lead.ErrBookingLinkUnknown):
		p.render(w, r, http.StatusNotFound, messageView("This booking link does not work",
			"Check the link in the text or email you got, or contact the shop that sent it."))
	case errors.As(err, &closed):
		v := messageView("This booking link has expired", "It no longer books online, but the shop will gladly book you.")
		v.Shop, v.Contact, v.Phone, v.Email = closed.Shop.Name, true, closed.ShopPhone, closed.ShopEmail
		p.logger.InfoContext(r.Context(), "booking link closed", slog.String("path", p.redact(r.URL.Path)), slog.String("reason", closed.Reason))
		p.render(w, r, http.StatusGone, v)
	case errors.As(err, &invalid):
		p.render(w, r, http.StatusBadRequest, messageView("Please check the form", invalid.Error()+". Go back and try again."))
	case errors.Is(err, context.Canceled):
		// The customer left; there is no one to answer.
	default:
		p.logger.ErrorContext(r.Context(), "booking page failed", slog.String("method", r.Method),
			slog.String("path", p.redact(r.URL.Path)), slog.Any("error", err))
		p.render(w, r, http.StatusInternalServerError, messageView("Something went wrong on our side",
			"Please try again in a minute."))
	}
}

// render writes v with a token page's headers (writeTokenPage).
func (p *bookingPage) render(w http.ResponseWriter, r *http.Request, status int, v bookingView) {
	v.Nonce = newRandomToken()
	var buf bytes.Buffer
	if err := bookingTemplates.ExecuteTemplate(&buf, "page", v); err != nil {
		p.logger.ErrorContext(r.Context(), "booking page did not render", slog.String("path", p.redact(r.URL.Path)), slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeTokenPage(w, status, v.Nonce, buf.Bytes())
}

// messageView is a page of a heading and one line, naming no shop.
func messageView(heading, line string) bookingView {
	return bookingView{Title: heading, Heading: heading, Lines: []string{line}}
}
