package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/browsertest"
	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// The booking page in a real browser: headless Chromium (Debian's
// chromium package) drives the page a real `worker run` serves, against
// the test's own Postgres and the sandbox fakes through the real adapters.
// Each customer gets their link the way a real one does, in the default
// first text the worker sends to Twilio's fake. The screenshots of the main states go
// to docs/screenshots, and the README shows one.

// bookingCustomers are the world's customers, one per scenario, each
// with a phone of their own so that their text is found by its number.
var bookingCustomers = []string{"Dana", "Eli", "Fay", "Gus", "Hal"}

// bookingWorld is one worker serving the booking page of one shop, whose
// customers each hold a link from their first text.
type bookingWorld struct {
	*testBundle
	worker  *worker
	sandbox *sandbox.Server
	shop    lead.Tenant
	// links are each customer's booking link, by first name.
	links map[string]string
	// customerIDs are each customer's id at the CRM, by first name.
	customerIDs map[string]string
	// ivyCustomerID is Ivy's, the customer of a Tekmetric shop.
	ivyCustomerID string
	browser       context.Context
}

// linkPattern finds a booking link in a text.
var linkPattern = regexp.MustCompile(`https?://\S+/book/[A-Za-z0-9_-]+`)

// setupBookingWorld starts the sandbox, a shop with booking on and its
// customers' leads at the CRM fake, a worker with a public URL (so its
// texts carry booking links), and a browser; it returns once every
// customer has their link.
func setupBookingWorld(t *testing.T) *bookingWorld {
	t.Helper()
	b := setup(t)
	sb := sandbox.NewServer(sandbox.ServerOpts{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	for _, kv := range sandbox.URLs(srv.URL).WorkerEnv() {
		k, v, _ := strings.Cut(kv, "=")
		b.env[k] = v
	}
	b.env["LEADORCH_HTTP_PUBLIC_URL"] = "http://" + b.env["LEADORCH_HTTP_ADDR"]
	b.env["LEADORCH_RIVER_SCHEDULE_INTERVAL"] = "1s"
	b.env["LEADORCH_RIVER_FETCH_POLL_INTERVAL"] = "50ms"
	b.env["LEADORCH_LOG_LEVEL"] = "info"

	keys, err := credentials.ParseKeyring(b.env["LEADORCH_CREDENTIALS_KEYS"])
	require.NoError(t, err)
	const shopName, apiKey = "Prairie Auto Care", "sm_key_prairie"
	location := "loc-" + shopName // ShopMonkeyTenant's
	sb.ShopMonkey.AddLocation(apiKey, location)
	shop := fixture.Create(t, store.New(b.db.App), keys, fixture.ShopMonkeyTenant(shopName,
		fixture.PollEvery(5*time.Second), fixture.Senders("+15005550006", "service@prairie.example.com"),
		fixture.Unlimited, fixture.SendAnyTime, fixture.BookingOn), apiKey)

	w := &bookingWorld{testBundle: b, sandbox: sb, shop: shop, links: map[string]string{}, customerIDs: map[string]string{}}
	phones := map[string]string{}
	for i, name := range bookingCustomers {
		ref, err := sb.ShopMonkey.AddLead(location, fakeshopmonkey.LeadSpec{
			FirstName: name, LastName: "Rivera", Phone: fmt.Sprintf("(312) 201-00%02d", i+10),
			Complaint: "Brakes squeal when stopping", Year: 2019, Make: "Honda", Model: "Civic",
		})
		require.NoError(t, err)
		phones[fmt.Sprintf("+1312201%04d", i+10)] = name
		w.customerIDs[name] = ref.CustomerID
	}
	w.ivyCustomerID = addTekmetricCustomer(t, b, sb, keys)
	phones[ivyPhone] = "Ivy"
	w.worker = startWorker(t, b)
	require.Eventually(t, func() bool {
		for _, m := range sb.Twilio.Messages() {
			if name, ok := phones[m.To]; ok {
				if link := linkPattern.FindString(m.Body); link != "" {
					w.links[name] = link
				}
			}
		}
		return len(w.links) == len(bookingCustomers)+1
	}, 60*time.Second, 50*time.Millisecond, "every customer's first text with a booking link; texts: %v; output:\n%s",
		sb.Twilio.Messages(), w.worker.out)
	w.browser = browsertest.NewBrowser(t)
	return w
}

// tekmetricShopID is the world's Tekmetric shop; Ivy, its customer, texts
// from ivyPhone.
const (
	tekmetricShopID = 4242
	ivyPhone        = "+13122010020"
)

// addTekmetricCustomer adds a Tekmetric shop with booking on (whose API
// moves and cancels appointments, unlike ShopMonkey's) and its customer
// Ivy's lead, and returns Ivy's id at the CRM.
func addTekmetricCustomer(t *testing.T, b *testBundle, sb *sandbox.Server, keys *credentials.Keyring) string {
	t.Helper()
	const clientID, secret = "client-summit", "tm_secret_summit"
	require.NoError(t, sb.Tekmetric.AddShop(tekmetricShopID, "America/Denver", clientID, secret))
	fixture.Create(t, store.New(b.db.App), keys, fixture.TekmetricTenant("Summit Tire & Brake", tekmetricShopID,
		func(t *lead.Tenant) { t.CRMClientID = clientID },
		fixture.PollEvery(5*time.Second), fixture.Senders("+15005550009", "desk@summit.example.com"),
		fixture.Unlimited, fixture.SendAnyTime, fixture.BookingOn), secret)
	ref, err := sb.Tekmetric.AddLead(tekmetricShopID, faketekmetric.LeadSpec{
		FirstName: "Ivy", LastName: "Chen", Phone: "(312) 201-0020", Year: 2021, Make: "Subaru", Model: "Outback",
	})
	require.NoError(t, err)
	return ref.CustomerID
}

// tab opens a new tab of the world's browser for one customer; it closes
// when t ends.
func (w *bookingWorld) tab(t *testing.T, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(w.browser, opts...)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.PhoneWidth, browsertest.PhoneHeight)))
	return ctx
}

// pageWait bounds one wait for the page to show something: the booking
// job's whole round (claim, CRM call, record) takes well under a second.
const pageWait = 30 * time.Second

// waitHeading waits until the page's heading reads heading: through the
// redirect after a tap and the status page's own reloads.
func waitHeading(t *testing.T, ctx context.Context, heading string) {
	t.Helper()
	waitCtx, cancel := context.WithTimeout(ctx, pageWait)
	defer cancel()
	if err := chromedp.Do(waitCtx, chromedp.WaitVisible(`//h1[normalize-space()="`+heading+`"]`)); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("waiting for the heading %q: %v; the page says:\n%s", heading, err, got)
	}
}

// waitNotice waits until the page's notice starts with prefix.
func waitNotice(t *testing.T, ctx context.Context, prefix string) {
	t.Helper()
	waitCtx, cancel := context.WithTimeout(ctx, pageWait)
	defer cancel()
	if err := chromedp.Do(waitCtx, chromedp.WaitVisible(`//p[@role="alert"][starts-with(normalize-space(), "`+prefix+`")]`)); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("waiting for the notice %q: %v; the page says:\n%s", prefix, err, got)
	}
}

// waitText waits until the page says text somewhere.
func waitText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	waitCtx, cancel := context.WithTimeout(ctx, pageWait)
	defer cancel()
	if err := chromedp.Do(waitCtx, chromedp.WaitVisible(`//main//*[contains(normalize-space(), "`+text+`")]`)); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("waiting for %q: %v; the page says:\n%s", text, err, got)
	}
}

// mainText is what the page says now.
func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	return text
}

// secondTime is the page's second time offered. The tests pick it, not the
// first: the first may fall inside the shop's lead time while the test
// taps (on the hour), and the page would rightly call it taken.
const secondTime = `(//input[@name="start"])[2]`

// slotValue is the start (RFC 3339) of the time sel selects.
func slotValue(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, "value"))
	require.NoError(t, err)
	require.True(t, v.Exists, "the page offers a time")
	return v.Value
}

// slotCount is how many times the page offers.
func slotCount(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="start"]').length`))
	require.NoError(t, err)
	return n
}

// createdAt is how many appointments the CRM fake created at start (RFC
// 3339) for any of the world's customers.
func (w *bookingWorld) createdAt(t *testing.T, start string) int {
	t.Helper()
	at, err := time.Parse(time.RFC3339, start)
	require.NoError(t, err)
	n := 0
	for _, id := range w.customerIDs {
		n += w.sandbox.ShopMonkey.AppointmentsCreated(id, at)
	}
	return n
}

// TestBookingPageInBrowser: a customer opens the link from their text and
// books; a time taken meanwhile offers the others; an expired link shows
// how to reach the shop; a double tap makes one appointment; the page
// works with the keyboard alone.
func TestBookingPageInBrowser(t *testing.T) {
	t.Parallel()
	w := setupBookingWorld(t)

	t.Run("PickASlot", func(t *testing.T) {
		ctx := w.tab(t)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(w.links["Dana"])))
		waitHeading(t, ctx, "Choose a time")
		text := mainText(t, ctx)
		require.Contains(t, text, "Prairie Auto Care")
		require.Contains(t, text, "Hi Dana, about: Brakes squeal when stopping (2019 Honda Civic).")
		browsertest.Screenshot(t, ctx, "offer.png")

		start := slotValue(t, ctx, secondTime)
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(secondTime)))
		_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		require.NoError(t, err)
		if h, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err == nil && h == "Booking…" {
			browsertest.Screenshot(t, ctx, "booking.png")
		}
		waitHeading(t, ctx, "Booked")
		require.Contains(t, mainText(t, ctx), "See you on ")
		browsertest.Screenshot(t, ctx, "booked.png")
		require.Equal(t, 1, w.createdAt(t, start), "one appointment at the CRM")
	})

	t.Run("MoveAndCancel", func(t *testing.T) {
		// Dana's link again (PickASlot booked it): the page shows her
		// appointment. The move posts from the link's page, the cancel
		// from the status page the move answered with (a route of its
		// own: without it the cancel was a 405). ShopMonkey's API cannot
		// move or cancel an appointment, so the shop is asked to.
		ctx := w.tab(t)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(w.links["Dana"])))
		waitHeading(t, ctx, "Booked")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(secondTime)))
		_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button:not(.alt)`)))
		require.NoError(t, err)
		waitNotice(t, ctx, "We asked the shop to move it on ")
		waitHeading(t, ctx, "Booked")

		_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button.alt`)))
		require.NoError(t, err)
		waitNotice(t, ctx, "We asked the shop to cancel the appointment")
	})

	t.Run("MoveAndCancelOnTekmetric", func(t *testing.T) {
		// Tekmetric's API moves and cancels the appointment itself: the
		// page shows the new time, then the cancellation.
		ctx := w.tab(t)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(w.links["Ivy"])))
		waitHeading(t, ctx, "Choose a time")
		require.Contains(t, mainText(t, ctx), "Summit Tire & Brake")
		require.Contains(t, mainText(t, ctx), "America/Denver")
		start := slotValue(t, ctx, secondTime)
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(secondTime)))
		_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		require.NoError(t, err)
		waitHeading(t, ctx, "Booked")
		at, err := time.Parse(time.RFC3339, start)
		require.NoError(t, err)
		require.Equal(t, 1, w.sandbox.Tekmetric.AppointmentsCreated(w.ivyCustomerID, at))

		target := slotValue(t, ctx, secondTime)
		require.NotEqual(t, start, target, "her own time is not offered to move to")
		moveTo, err := time.Parse(time.RFC3339, target)
		require.NoError(t, err)
		denver, err := time.LoadLocation("America/Denver")
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(secondTime)))
		_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button:not(.alt)`)))
		require.NoError(t, err)
		waitHeading(t, ctx, "Booked")
		waitText(t, ctx, "See you "+moveTo.In(denver).Format("on Monday, January 2 at 3:04 PM")+" at Summit Tire & Brake.")
		browsertest.Screenshot(t, ctx, "moved.png")

		_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button.alt`)))
		require.NoError(t, err)
		waitHeading(t, ctx, "Appointment cancelled")
		require.Positive(t, slotCount(t, ctx), "she may book again")
		require.Equal(t, 1, w.sandbox.Tekmetric.AppointmentsCreated(w.ivyCustomerID, at), "moved, not booked again")
	})

	t.Run("SlotTakenMeanwhile", func(t *testing.T) {
		ctx := w.tab(t)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(w.links["Eli"])))
		waitHeading(t, ctx, "Choose a time")
		start := slotValue(t, ctx, secondTime)
		// A service writer books that time in the CRM while Eli looks.
		at, err := time.Parse(time.RFC3339, start)
		require.NoError(t, err)
		_, err = w.sandbox.ShopMonkey.AddAppointment(w.shop.CRMLocationID, at, at.Add(time.Hour))
		require.NoError(t, err)

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(secondTime)))
		_, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(`//*[contains(., "That time was just taken")]`)))
		browsertest.Screenshot(t, ctx, "taken.png")
		stillOffered, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('input[value="`+start+`"]') !== null`))
		require.NoError(t, err)
		require.False(t, stillOffered, "the taken time is no longer offered")
		require.Positive(t, slotCount(t, ctx), "the other times are")
		require.Zero(t, w.createdAt(t, start), "nothing booked at the taken time")
	})

	t.Run("ExpiredLink", func(t *testing.T) {
		link := w.links["Fay"]
		token := link[strings.LastIndex(link, "/")+1:]
		tag, err := w.db.Owner.Exec(context.Background(),
			`UPDATE booking_links SET expires_at = now() - interval '1 minute' WHERE token_sha256 = $1`, jobs.BookingTokenHash(token))
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())

		ctx := w.tab(t)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link)))
		waitHeading(t, ctx, "This booking link has expired")
		text := mainText(t, ctx)
		require.Contains(t, text, "Reach Prairie Auto Care")
		require.NotContains(t, text, "Fay", "an expired link shows no customer's data")
		require.Zero(t, slotCount(t, ctx))
		browsertest.Screenshot(t, ctx, "expired.png")
	})

	t.Run("DoubleTap", func(t *testing.T) {
		// Gus's phone is on a slow link: his first tap's answer is held
		// until his second tap has reached the worker, so the second tap
		// lands on the page the first one left.
		link, tapped := slowLink(t, w.links["Gus"])
		ctx := w.tab(t)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link)))
		waitHeading(t, ctx, "Choose a time")
		start := slotValue(t, ctx, secondTime)
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(secondTime)))
		x, y, err := browsertest.Center(ctx, `button[type="submit"]`)
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(x, y)))
		waitTap(t, tapped, 1)
		require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(x, y)))
		waitTap(t, tapped, 2)
		waitHeading(t, ctx, "Booked")
		require.Equal(t, 1, w.createdAt(t, start), "two taps, one appointment")
	})

	t.Run("KeyboardOnly", func(t *testing.T) {
		ctx := w.tab(t)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(w.links["Hal"])))
		waitHeading(t, ctx, "Choose a time")
		first, start := slotValue(t, ctx, `(//input[@name="start"])[1]`), slotValue(t, ctx, secondTime)
		// Tab reaches the first time, Space picks it, the arrow key picks
		// the next one instead, Tab reaches the button, Enter presses it.
		require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.KeyEvent(" ")))
		focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.checked ? document.activeElement.value : ""`))
		require.NoError(t, err)
		require.Equal(t, first, focused, "the first Tab lands on the first time, Space picks it")
		require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowDown)))
		focused, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.value`))
		require.NoError(t, err)
		require.Equal(t, start, focused, "the arrow moves to the next time")
		checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.checked`))
		require.NoError(t, err)
		require.True(t, checked, "and picks it")
		require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\t")))
		tag, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.tagName`))
		require.NoError(t, err)
		require.Equal(t, "BUTTON", tag, "the next Tab leaves the times for the button")
		require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\r")))
		waitHeading(t, ctx, "Booked")
		require.Equal(t, 1, w.createdAt(t, start))
	})
}

// slowLink returns link through a proxy that stands for a slow mobile
// network: the answer to the first POST is held until a second POST has
// reached the worker (or five seconds pass). tapped receives the number of
// each POST as the worker gets it.
func slowLink(t *testing.T, link string) (string, <-chan int) {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	target := &url.URL{Scheme: u.Scheme, Host: u.Host}
	proxy := httputil.NewSingleHostReverseProxy(target)
	tapped := make(chan int, 8)
	second := make(chan struct{})
	var mu sync.Mutex
	posts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			proxy.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		posts++
		n := posts
		mu.Unlock()
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		tapped <- n
		if n == 1 {
			select {
			case <-second:
			case <-time.After(5 * time.Second):
			}
		} else if n == 2 {
			close(second)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path, tapped
}

// waitTap waits until the worker got POST number n.
func waitTap(t *testing.T, tapped <-chan int, n int) {
	t.Helper()
	deadline := time.After(pageWait)
	for {
		select {
		case got := <-tapped:
			if got >= n {
				return
			}
		case <-deadline:
			t.Fatalf("the worker never got tap %d", n)
		}
	}
}
