package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/browsertest"
	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// unsubscribeLinkPattern finds the unsubscribe link in an email's body.
var unsubscribeLinkPattern = regexp.MustCompile(`https?://\S+/unsubscribe/[A-Za-z0-9_-]+`)

// TestUnsubscribeInBrowser: a real `worker run` emails two customers of a
// shop with a postal address; one opens the link from her email in
// headless Chromium (the page asks, and only the button unsubscribes),
// the other's inbox posts the List-Unsubscribe URL (RFC 8058's one-click);
// both addresses are suppressed, and each one's follow-up email, brought
// forward, is suppressed rather than sent.
func TestUnsubscribeInBrowser(t *testing.T) {
	t.Parallel()
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
	const shopName, apiKey, postal = "Maple Street Auto", "sm_key_maple", "48 Maple St, Columbus, OH 43215"
	location := "loc-" + shopName
	sb.ShopMonkey.AddLocation(apiKey, location)
	shop := fixture.Create(t, store.New(b.db.App), keys, fixture.ShopMonkeyTenant(shopName,
		fixture.PollEvery(5*time.Second), fixture.Senders("+15005550006", "service@maple.example.com"),
		fixture.Unlimited, fixture.SendAnyTime, func(t *lead.Tenant) { t.Compliance.PostalAddress = postal }), apiKey)
	customers := []string{"june", "kai"}
	for i, name := range customers {
		_, err := sb.ShopMonkey.AddLead(location, fakeshopmonkey.LeadSpec{FirstName: name, LastName: "Park",
			Phone: fmt.Sprintf("(555) 301-00%02d", i+10), Email: name + "@example.com", Complaint: "Oil change"})
		require.NoError(t, err)
	}
	w := startWorker(t, b)

	// Each customer's first answer, with the link in its body and the
	// one-click URL in its header.
	first := map[string]fakesendgrid.Email{}
	require.Eventually(t, func() bool {
		for _, e := range sb.SendGrid.Emails() {
			if name, _, ok := strings.Cut(e.To, "@"); ok && e.Subject != "" {
				first[name] = e
			}
		}
		return len(first) == len(customers)
	}, 60*time.Second, 50*time.Millisecond, "every customer's first email; output:\n%s", w.out)
	for name, e := range first {
		require.Contains(t, e.Text, shopName+", "+postal, name)
		link := unsubscribeLinkPattern.FindString(e.Text)
		require.True(t, strings.HasPrefix(link, w.base+"/unsubscribe/"), "%s: %s", name, e.Text)
		require.Equal(t, "<"+link+">", e.Headers["List-Unsubscribe"], name)
		require.Equal(t, "List-Unsubscribe=One-Click", e.Headers["List-Unsubscribe-Post"], name)
	}
	suppressed := func(address string) bool {
		var n int
		require.NoError(t, b.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM suppressions
			WHERE tenant_id = $1 AND channel = 'email' AND address = $2 AND source = 'unsubscribe_link'`, shop.ID, address).Scan(&n))
		return n == 1
	}

	t.Run("Browser", func(t *testing.T) {
		ctx, cancel := chromedp.NewContext(browsertest.NewBrowser(t))
		t.Cleanup(cancel)
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.PhoneWidth, browsertest.PhoneHeight)))
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(unsubscribeLinkPattern.FindString(first["june"].Text))))
		waitHeading(t, ctx, "Unsubscribe from "+shopName+"'s emails?")
		require.Contains(t, mainText(t, ctx), shopName+" will send no more emails to j***@example.com.")
		browsertest.Screenshot(t, ctx, "unsubscribe.png")
		require.False(t, suppressed("june@example.com"), "opening the link (a scanner's fetch) unsubscribes no one")

		_, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		require.NoError(t, err)
		waitHeading(t, ctx, "You are unsubscribed")
		browsertest.Screenshot(t, ctx, "unsubscribed.png")
		require.True(t, suppressed("june@example.com"))

		// Opened again later: it says so, with no button.
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(unsubscribeLinkPattern.FindString(first["june"].Text))))
		waitHeading(t, ctx, "You are unsubscribed")
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('button').length`))
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("OneClick", func(t *testing.T) {
		url := strings.Trim(first["kai"].Headers["List-Unsubscribe"], "<>")
		resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		require.True(t, suppressed("kai@example.com"))

		resp, err = http.Post(w.base+"/unsubscribe/"+strings.Repeat("A", 60), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		require.NoError(t, err)
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
		require.NotContains(t, string(body), shopName)
	})

	// The follow-up emails (day3), brought forward: suppressed, not sent.
	_, err = b.db.Owner.Exec(context.Background(), `UPDATE river_job SET scheduled_at = now()
		WHERE kind = 'send_email' AND args->>'step' = 'day3' AND state = 'scheduled'`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM messages
			WHERE tenant_id = $1 AND step = 'day3' AND status = 'suppressed'`, shop.ID).Scan(&n))
		return n == len(customers)
	}, 60*time.Second, 50*time.Millisecond, "both follow-ups suppressed; output:\n%s", w.out)
	for _, e := range sb.SendGrid.Emails() {
		require.NotContains(t, e.Subject, "Following up", "no follow-up email went: %s", e.To)
	}
}
