package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// These tests call the booking page's pure parts (views, CSRF, headers,
// the cross-site check) directly; the browser tests in cmd/worker drive
// the whole page against the real desk.

// testOffer is an offer of days x perDay one-hour slots from 8 AM in
// Chicago, starting on Monday, December 7 2026.
func testOffer(days, perDay int) lead.BookingOffer {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	o := lead.BookingOffer{
		Shop:      lead.Shop{Name: "Prairie Auto Care", TimeZone: "America/Chicago"},
		ShopPhone: "+15125550100", ShopEmail: "service@prairie.example",
		FirstName: "Dana", Summary: "Brakes squeal when stopping",
		Vehicle: lead.Vehicle{Year: 2019, Make: "Honda", Model: "Civic"},
	}
	day0 := time.Date(2026, 12, 7, 8, 0, 0, 0, loc)
	for d := range days {
		for s := range perDay {
			start := day0.AddDate(0, 0, d).Add(time.Duration(s) * time.Hour)
			o.Slots = append(o.Slots, lead.Slot{Start: start, End: start.Add(time.Hour), Free: 1})
		}
	}
	return o
}

// renderPage renders v through the page's render, as a response.
func renderPage(t *testing.T, v bookingView) *httptest.ResponseRecorder {
	t.Helper()
	p := &bookingPage{logger: slog.New(slog.DiscardHandler), redact: tokenRedactor(nil)}
	rec := httptest.NewRecorder()
	p.render(rec, httptest.NewRequest(http.MethodGet, "/book/tok", nil), http.StatusOK, v)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec
}

// TestBookingPageWeight: the offer a customer opens on a phone, 14 days of
// 9 slots each, fits in 14 KB, one round trip's worth of TCP's initial
// window on a slow link. Measured: 13,284 bytes (13.0 KB) uncompressed,
// before gzip; the test prints the figure.
func TestBookingPageWeight(t *testing.T) {
	t.Parallel()
	rec := renderPage(t, offerView(testOffer(14, 9), newRandomToken(), ""))
	size := rec.Body.Len()
	t.Logf("offer page of 14 days x 9 slots: %d bytes (%.1f KB)", size, float64(size)/1024)
	require.Less(t, size, 14*1024, "the offer page must stay under 14 KB")
	require.Equal(t, 126, strings.Count(rec.Body.String(), `type="radio"`), "every slot is one radio input")
	require.Equal(t, 14, strings.Count(rec.Body.String(), "<fieldset>"), "every day is one fieldset")
	require.Equal(t, 1, strings.Count(rec.Body.String(), " required>"), "one required radio makes the group required")
}

// TestBookingPageHeaders: every answer of the page forbids scripts,
// frames, foreign forms, referrers, caches and search engines.
func TestBookingPageHeaders(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]bookingView{
		"offer":   offerView(testOffer(2, 3), newRandomToken(), ""),
		"message": messageView("This booking link does not work", "Check the link."),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := renderPage(t, v).Header()
			csp := h.Get("Content-Security-Policy")
			for _, directive := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
				require.Contains(t, csp, directive)
			}
			require.NotContains(t, csp, "script-src", "the page runs no script")
			require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			require.Equal(t, "no-store", h.Get("Cache-Control"))
			require.Equal(t, "noindex", h.Get("X-Robots-Tag"))
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
		})
	}
	t.Run("NonceFreshPerResponse", func(t *testing.T) {
		t.Parallel()
		v := messageView("Booked", "See you.")
		a, b := renderPage(t, v), renderPage(t, v)
		_, rest, ok := strings.Cut(a.Header().Get("Content-Security-Policy"), "style-src 'nonce-")
		require.True(t, ok, "the one style is allowed by its nonce")
		nonce, _, _ := strings.Cut(rest, "'")
		require.True(t, wellFormedToken(nonce))
		require.Contains(t, a.Body.String(), `<style nonce="`+nonce+`">`, "the style carries the CSP's nonce")
		require.NotEqual(t, a.Header().Get("Content-Security-Policy"), b.Header().Get("Content-Security-Policy"))
	})
}

// TestBookingPageEscapes: what the CRM and the shop's settings say (a
// shop's name, a customer's request) is text, never markup.
func TestBookingPageEscapes(t *testing.T) {
	t.Parallel()
	o := testOffer(1, 2)
	o.Shop.Name = `Bob's <script>alert(1)</script> & Sons`
	o.Summary = `"><img src=x onerror=alert(2)>`
	o.FirstName = "<b>Dana</b>"
	o.ShopPhone = `+1"onmouseover="alert(3)`
	body := renderPage(t, offerView(o, newRandomToken(), "")).Body.String()
	for _, raw := range []string{"<script>", "<img", "<b>Dana", `"onmouseover="`} {
		require.NotContains(t, body, raw)
	}
	require.Contains(t, body, "Bob&#39;s &lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons")
	require.Contains(t, body, "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;")
	require.Contains(t, body, "&lt;b&gt;Dana&lt;/b&gt;")
}

// TestBookingViews: the views say what the customer needs, in the shop's
// zone, and offer the forms that state allows.
func TestBookingViews(t *testing.T) {
	t.Parallel()
	o := testOffer(2, 2)
	csrf := newRandomToken()
	t.Run("Offer", func(t *testing.T) {
		t.Parallel()
		v := offerView(o, csrf, "")
		require.Equal(t, "Book a time at Prairie Auto Care", v.Title)
		require.Len(t, v.Pick.Days, 2)
		require.Equal(t, "Monday, December 7", v.Pick.Days[0].Legend)
		require.Equal(t, slotView{Value: "2026-12-07T14:00:00Z", Label: "8:00 AM", Required: true}, v.Pick.Days[0].Slots[0])
		require.Equal(t, slotView{Value: "2026-12-07T15:00:00Z", Label: "9:00 AM"}, v.Pick.Days[0].Slots[1])
		require.Equal(t, "in the shop's time zone, America/Chicago (CST)", v.Pick.Zone)
		require.Equal(t, lead.BookingBook, v.Pick.Action)
		require.Equal(t, csrf, v.Pick.CSRF)
		require.True(t, wellFormedToken(v.Pick.Key))
		require.False(t, v.Contact, "slots are open: no need to call")
		body := renderPage(t, v).Body.String()
		require.Contains(t, body, "Hi Dana, about: Brakes squeal when stopping (2019 Honda Civic).")
		require.Contains(t, body, `<input type="hidden" name="csrf" value="`+csrf+`">`)
	})
	t.Run("NoSlots", func(t *testing.T) {
		t.Parallel()
		empty := o
		empty.Slots = nil
		v := offerView(empty, csrf, "")
		require.True(t, v.Contact)
		body := renderPage(t, v).Body.String()
		require.Contains(t, body, "No open times in the next days.")
		require.Contains(t, body, `<a href="tel:&#43;15125550100">&#43;15125550100</a> or email <a href="mailto:service@prairie.example">`)
		require.NotContains(t, body, "<button", "nothing to submit")
	})
	t.Run("Booking", func(t *testing.T) {
		t.Parallel()
		b := lead.Booking{ID: uuid.New(), Start: o.Slots[0].Start, State: lead.BookingInProgress}
		v := statusView(o, b, csrf)
		require.Equal(t, "Booking…", v.Heading)
		require.True(t, v.Refresh, "the page reloads itself until the job answers")
		require.Nil(t, v.Pick)
		require.Contains(t, renderPage(t, v).Body.String(), `<meta http-equiv="refresh" content="2">`)
	})
	t.Run("Booked", func(t *testing.T) {
		t.Parallel()
		b := lead.Booking{ID: uuid.New(), Start: o.Slots[0].Start, State: lead.BookingBooked, CRMAppointmentID: "appt_1"}
		v := statusView(o, b, csrf)
		require.Equal(t, "Booked", v.Heading)
		require.Equal(t, []string{"See you on Monday, December 7 at 8:00 AM at Prairie Auto Care."}, v.Lines)
		require.Equal(t, lead.BookingMove, v.Pick.Action)
		require.NotNil(t, v.Cancel)
		require.NotEqual(t, v.Pick.Key, v.Cancel.Key, "each form is its own request")
		require.False(t, v.Refresh)
	})
	t.Run("Moved", func(t *testing.T) {
		t.Parallel()
		b := lead.Booking{ID: uuid.New(), Start: o.Slots[0].Start, State: lead.BookingBooked,
			Change: lead.BookingMove, ChangeStart: o.Slots[3].Start, ChangeState: lead.ChangeDone}
		require.Equal(t, []string{"See you on Tuesday, December 8 at 9:00 AM at Prairie Auto Care."}, statusView(o, b, csrf).Lines)
		b.ChangeState = lead.ChangeAskedShop
		require.Equal(t, "We asked the shop to move it on Tuesday, December 8 at 9:00 AM; they will confirm it with you.",
			statusView(o, b, csrf).Notice)
	})
	t.Run("Taken", func(t *testing.T) {
		t.Parallel()
		b := lead.Booking{ID: uuid.New(), Start: o.Slots[0].Start, State: lead.BookingTaken}
		v := statusView(o, b, csrf)
		require.Equal(t, "That time was just taken", v.Heading)
		require.Equal(t, []string{"Please choose another time."}, v.Lines)
		require.Equal(t, lead.BookingBook, v.Pick.Action)
		require.Len(t, v.Pick.Days, 2)
	})
	t.Run("Failed", func(t *testing.T) {
		t.Parallel()
		b := lead.Booking{ID: uuid.New(), Start: o.Slots[0].Start, State: lead.BookingFailed, Reason: "The shop's calendar refused it."}
		v := statusView(o, b, csrf)
		require.Equal(t, []string{"The shop's calendar refused it."}, v.Lines)
		require.True(t, v.Contact)
		require.Nil(t, v.Pick)
	})
}

// TestBookingCSRFCookie: the page sets its double-submit cookie HttpOnly,
// SameSite=Strict, on /book/ only, Secure when the customer came over
// https, and keeps a well-formed cookie it already set.
func TestBookingCSRFCookie(t *testing.T) {
	t.Parallel()
	cookieOf := func(t *testing.T, r *http.Request) (*http.Cookie, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		v := bookingCSRF(rec, r)
		cookies := rec.Result().Cookies()
		if len(cookies) == 0 {
			return nil, v
		}
		require.Len(t, cookies, 1)
		return cookies[0], v
	}
	t.Run("Plain", func(t *testing.T) {
		t.Parallel()
		c, v := cookieOf(t, httptest.NewRequest(http.MethodGet, "http://shop.example/book/tok", nil))
		require.NotNil(t, c)
		require.Equal(t, bookingCSRFCookie, c.Name)
		require.Equal(t, v, c.Value)
		require.True(t, wellFormedToken(v))
		require.True(t, c.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, c.SameSite)
		require.Equal(t, "/book/", c.Path)
		require.False(t, c.Secure, "a cookie marked Secure would never come back over http (the tests' httptest server)")
	})
	t.Run("HTTPS", func(t *testing.T) {
		t.Parallel()
		c, _ := cookieOf(t, httptest.NewRequest(http.MethodGet, "https://shop.example/book/tok", nil))
		require.True(t, c.Secure)
	})
	t.Run("BehindTLSProxy", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet, "http://shop.example/book/tok", nil)
		r.Header.Set("X-Forwarded-Proto", "https")
		c, _ := cookieOf(t, r)
		require.True(t, c.Secure)
	})
	t.Run("Kept", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet, "/book/tok", nil)
		have := newRandomToken()
		r.AddCookie(&http.Cookie{Name: bookingCSRFCookie, Value: have})
		c, v := cookieOf(t, r)
		require.Nil(t, c, "a second tab keeps the first tab's cookie, so both forms stay valid")
		require.Equal(t, have, v)
	})
	t.Run("PlantedReplaced", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodGet, "/book/tok", nil)
		r.AddCookie(&http.Cookie{Name: bookingCSRFCookie, Value: "short"})
		c, v := cookieOf(t, r)
		require.NotNil(t, c)
		require.NotEqual(t, "short", v)
	})
}

// postForm is a same-origin POST of the booking form with csrf in its
// field and cookie in its cookie (either may be empty: absent).
func postForm(path, cookie, field string) *http.Request {
	form := url.Values{"action": {"book"}, "key": {newRandomToken()}, "start": {"2026-12-07T14:00:00Z"}}
	if field != "" {
		form.Set(bookingCSRFField, field)
	}
	r := httptest.NewRequest(http.MethodPost, "http://shop.example"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: bookingCSRFCookie, Value: cookie})
	}
	return r
}

// TestBookingCSRFCheck: a POST's form value must repeat its cookie.
func TestBookingCSRFCheck(t *testing.T) {
	t.Parallel()
	v := newRandomToken()
	for name, tc := range map[string]struct {
		cookie, field string
		ok            bool
	}{
		"Match":     {cookie: v, field: v, ok: true},
		"Mismatch":  {cookie: v, field: newRandomToken()},
		"NoCookie":  {field: v},
		"NoField":   {cookie: v},
		"Malformed": {cookie: "x", field: "x"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := postForm("/book/tok", tc.cookie, tc.field)
			require.NoError(t, r.ParseForm())
			require.Equal(t, tc.ok, checkBookingCSRF(r))
		})
	}
}

// TestBookingRefusesBeforeTheDesk: a cross-site POST, and a same-site one
// without its CSRF value, are answered 403 before the form is read or the
// desk is asked (the page here has no desk: reaching it would panic).
func TestBookingRefusesBeforeTheDesk(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	p := &bookingPage{logger: slog.New(slog.NewTextHandler(&logs, nil)), redact: tokenRedactor(nil),
		crossOrigin: http.NewCrossOriginProtection()}
	mux := http.NewServeMux()
	mux.Handle("POST /book/{token}", p.handleRequest())
	mux.Handle("POST /book/{token}/b/{id}", p.handleRequest())
	v := newRandomToken()
	const token = "secret-link-token-0123456789"

	crossSite := postForm("/book/"+token, v, v)
	crossSite.Header.Set("Sec-Fetch-Site", "cross-site")
	foreignOrigin := postForm("/book/"+token+"/b/"+uuid.NewString(), v, v)
	foreignOrigin.Header.Del("Sec-Fetch-Site")
	foreignOrigin.Header.Set("Origin", "https://evil.example")
	for name, tc := range map[string]struct {
		r    *http.Request
		want string
	}{
		"CrossSite":     {r: crossSite, want: "This form was sent from another site"},
		"ForeignOrigin": {r: foreignOrigin, want: "This form was sent from another site"},
		"NoCSRFField":   {r: postForm("/book/"+token, v, ""), want: "This form has expired"},
		"CSRFMismatch":  {r: postForm("/book/"+token, v, newRandomToken()), want: "This form has expired"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, tc.r)
		require.Equal(t, http.StatusForbidden, rec.Code, name)
		require.Contains(t, rec.Body.String(), tc.want, name)
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"), name)
	}
	require.Contains(t, logs.String(), "refused a cross-site booking request")
	require.Contains(t, logs.String(), "path=/book/****")
	require.NotContains(t, logs.String(), token, "the customer's link token is never logged")
}

// TestTokenRedactor: a log line names the route, never a customer's link
// token or a shop's webhook token.
func TestTokenRedactor(t *testing.T) {
	t.Parallel()
	redact := tokenRedactor(nil)
	id := uuid.NewString()
	require.Equal(t, "/book/****", redact("/book/Zm9vYmFyYmF6cXV4"))
	require.Equal(t, "/book/****/b/"+id, redact("/book/Zm9vYmFyYmF6cXV4/b/"+id))
	require.Equal(t, "/book/****", redact("/book/"))
	require.Equal(t, "/healthz", redact("/healthz"))
}

// TestSeeStatus: the answer to a POST points at the booking's status page
// relative to where the form was posted, so a path prefix survives.
func TestSeeStatus(t *testing.T) {
	t.Parallel()
	id := uuid.New()
	for path, want := range map[string]string{
		"/book/tok":                       "/book/tok/b/" + id.String(),
		"/book/tok/b/" + uuid.NewString(): "/book/tok/b/" + id.String(),
	} {
		mux := http.NewServeMux()
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seeStatus(w, r, r.PathValue("token"), id) })
		mux.Handle("POST /book/{token}", h)
		mux.Handle("POST /book/{token}/b/{id}", h)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://shop.example/prefix"+path, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, "the mux sees the path after the proxy strips /prefix")
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://shop.example"+path, nil))
		require.Equal(t, http.StatusSeeOther, rec.Code)
		base, err := url.Parse("https://shop.example/prefix" + path)
		require.NoError(t, err)
		ref, err := url.Parse(rec.Header().Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "/prefix"+want, base.ResolveReference(ref).Path, "resolved against the browser's URL, prefix kept")
	}
}
