package sandbox

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// A scripted customer on the booking page, for the demo and the fault
// harness: it does what a person with a browser does (load the page, pick
// the first open time, press the button, watch the answer) through plain
// HTTP, reading the page's own form, so it exercises the page as served:
// its CSRF cookie and field, its one-time key, its redirects.

// BookingVisit is one customer's visit to a booking page.
type BookingVisit struct {
	client *http.Client
	page   *url.URL
	// Page is the last page the customer saw: its status code, its heading
	// and its text without tags.
	Status  int
	Heading string
	Text    string
	body    string
}

// VisitBookingPage loads the booking page at pageURL as a new visitor
// (its own cookies).
func VisitBookingPage(ctx context.Context, pageURL string) (*BookingVisit, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return nil, fmt.Errorf("booking link %q: %w", pageURL, err)
	}
	jar, _ := cookiejar.New(nil) // cookiejar.New never fails without options
	v := &BookingVisit{client: &http.Client{Jar: jar, Timeout: 15 * time.Second}, page: u}
	return v, v.get(ctx, u)
}

// BookingForm is one form of the page as a browser would submit it.
type BookingForm struct {
	Action *url.URL
	Values url.Values
	// Slot is the label of the time chosen (empty: the form has none).
	Slot string
}

// FirstSlotForm is the page's booking form with its first open time
// chosen; ok is false when the page offers none.
func (v *BookingVisit) FirstSlotForm() (BookingForm, bool) { return v.SlotForm(0) }

// SlotForm is the page's booking form with its n-th open time (from 0)
// chosen, or its last when it offers fewer; ok is false when it offers
// none.
func (v *BookingVisit) SlotForm(n int) (BookingForm, bool) {
	for _, f := range formsIn(v.body) {
		if !strings.EqualFold(attr(f.open, "method"), "post") {
			continue
		}
		form := BookingForm{Action: v.page, Values: url.Values{}}
		if a := attr(f.open, "action"); a != "" {
			if u, err := v.page.Parse(a); err == nil {
				form.Action = u
			}
		}
		chose, radios := false, 0
		for _, in := range inputTag.FindAllString(f.inner, -1) {
			name, value := attr(in, "name"), attr(in, "value")
			if name == "" || strings.Contains(in, "disabled") {
				continue
			}
			switch strings.ToLower(attr(in, "type")) {
			case "radio":
				if radios <= n {
					form.Values.Set(name, value)
					form.Slot = labelFor(f.inner, attr(in, "id"), value)
					chose = true
				}
				radios++
			case "hidden", "text", "":
				form.Values.Set(name, value)
			}
		}
		if !chose {
			continue
		}
		if m := submitButton.FindString(f.inner); m != "" && attr(m, "name") != "" {
			form.Values.Set(attr(m, "name"), attr(m, "value"))
		}
		return form, true
	}
	return BookingForm{}, false
}

// Submit posts form as a browser does (same-origin Origin, the page's
// cookies) and follows its redirect to the answer.
func (v *BookingVisit) Submit(ctx context.Context, form BookingForm) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, form.Action.String(), strings.NewReader(form.Values.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", v.page.Scheme+"://"+v.page.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return v.do(req)
}

// Settle follows the page's own refresh (a "booking..." page reloads
// itself) until it stops refreshing or ctx ends, calling seen with each
// new heading.
func (v *BookingVisit) Settle(ctx context.Context, seen func(heading string)) error {
	last := ""
	for {
		if v.Heading != last && seen != nil {
			seen(v.Heading)
		}
		last = v.Heading
		wait, ok := refreshAfter(v.body)
		if !ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the booking page still says %q: %w", v.Heading, ctx.Err())
		case <-time.After(wait):
		}
		if err := v.get(ctx, v.page); err != nil {
			return err
		}
	}
}

func (v *BookingVisit) get(ctx context.Context, u *url.URL) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	return v.do(req)
}

func (v *BookingVisit) do(req *http.Request) error {
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	v.page = resp.Request.URL // where the redirects led
	v.Status, v.body = resp.StatusCode, string(b)
	v.Heading = textOf(firstMatch(heading, v.body))
	v.Text = textOf(v.body)
	if resp.StatusCode >= 500 {
		return fmt.Errorf("booking page answered %d: %s", resp.StatusCode, v.Heading)
	}
	return nil
}

// The page's HTML as html/template writes it: attributes quoted, one tag
// per element. These are enough for a form; they are no HTML parser.
var (
	formBlock    = regexp.MustCompile(`(?is)(<form\b[^>]*>)(.*?)</form>`)
	inputTag     = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	submitButton = regexp.MustCompile(`(?is)<button\b[^>]*type="submit"[^>]*>`)
	heading      = regexp.MustCompile(`(?is)<h1\b[^>]*>(.*?)</h1>`)
	anyTag       = regexp.MustCompile(`(?s)<[^>]*>`)
	metaRefresh  = regexp.MustCompile(`(?is)<meta\b[^>]*http-equiv="refresh"[^>]*>`)
	// attribute and labelTag are compiled once: the chaos harness reads
	// pages by the thousand.
	attribute = regexp.MustCompile(`(?is)\s([a-z][a-z0-9-]*)\s*=\s*"([^"]*)"`)
	labelTag  = regexp.MustCompile(`(?is)<label\b([^>]*)>(.*?)</label>`)
)

type formHTML struct{ open, inner string }

func formsIn(body string) []formHTML {
	var out []formHTML
	for _, m := range formBlock.FindAllStringSubmatch(body, -1) {
		out = append(out, formHTML{open: m[1], inner: m[2]})
	}
	return out
}

// attr is the value of attribute name in tag ("" when absent).
func attr(tag, name string) string {
	for _, m := range attribute.FindAllStringSubmatch(tag, -1) {
		if strings.EqualFold(m[1], name) {
			return html.UnescapeString(m[2])
		}
	}
	return ""
}

// labelFor is the text of form's label for the input id, or fallback.
func labelFor(form, id, fallback string) string {
	if id == "" {
		return fallback
	}
	for _, m := range labelTag.FindAllStringSubmatch(form, -1) {
		if attr(m[1], "for") == id {
			return textOf(m[2])
		}
	}
	return fallback
}

func firstMatch(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// textOf is s without tags, its entities decoded and its spaces folded.
func textOf(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(anyTag.ReplaceAllString(s, " "))), " ")
}

// refreshAfter is the delay of the page's meta refresh, if it has one.
func refreshAfter(body string) (time.Duration, bool) {
	m := metaRefresh.FindString(body)
	if m == "" {
		return 0, false
	}
	var secs int
	if _, err := fmt.Sscanf(attr(m, "content"), "%d", &secs); err != nil || secs < 0 {
		return 0, false
	}
	return time.Duration(max(secs, 1)) * time.Second, true
}

// ErrNoOpenSlot is a booking page that offers no time.
var ErrNoOpenSlot = errors.New("the booking page offers no open time")

// BookFirstSlot plays a customer who opens pageURL, books its first open
// time and waits for the answer; seen hears each heading the customer
// sees ("Booking...", "Booked"). It returns the visit as it ended and the
// slot chosen.
func BookFirstSlot(ctx context.Context, pageURL string, seen func(heading string)) (*BookingVisit, string, error) {
	v, err := VisitBookingPage(ctx, pageURL)
	if err != nil {
		return nil, "", err
	}
	form, ok := v.FirstSlotForm()
	if !ok {
		return v, "", fmt.Errorf("%w (it says %q)", ErrNoOpenSlot, v.Heading)
	}
	if seen != nil {
		seen(v.Heading)
	}
	if err := v.Submit(ctx, form); err != nil {
		return v, form.Slot, err
	}
	return v, form.Slot, v.Settle(ctx, seen)
}
