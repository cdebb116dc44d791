package jobs_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

const testPostalAddress = "12 Main St, Springfield, IL 62701"

// unsubscribeWorld is a shop whose sequence emails three times (the first
// answer and two follow-ups), the worker's public routes on a real HTTP
// server, and the fleet's public URL pointing at them.
type unsubscribeWorld struct {
	*testBundle
	shop   lead.Tenant
	server *httptest.Server
}

func setupUnsubscribe(t *testing.T, compliance lead.Compliance) *unsubscribeWorld {
	t.Helper()
	b := setup(t)
	h, err := httpapi.NewHandler(httpapi.Opts{Logger: b.deps.Logger, Unsubscribe: jobs.NewUnsubscribeDesk(b.deps)})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	b.deps.PublicURL = srv.URL
	shop := b.addShop(t, "unsub")
	shop.Sequence = lead.Sequence{
		{Name: lead.StepInitial, Channel: lead.ChannelEmail},
		{Name: "day3", Channel: lead.ChannelEmail, Delay: 72 * time.Hour, Condition: lead.ConditionNoReply},
		{Name: "day5", Channel: lead.ChannelEmail, Delay: 120 * time.Hour, Condition: lead.ConditionNoReply},
	}
	shop.Compliance = compliance
	shop, err = b.store.UpdateTenant(context.Background(), shop, nil)
	require.NoError(t, err)
	return &unsubscribeWorld{testBundle: b, shop: shop, server: srv}
}

// send runs the send_email job of step for leadID and returns the outbox
// row it left.
func (w *unsubscribeWorld) send(t *testing.T, leadID uuid.UUID, step string) lead.Message {
	t.Helper()
	w.sendCompleted(t, jobs.SendEmailArgs{TenantID: w.shop.ID, LeadID: leadID, Step: step})
	m, err := w.store.FindMessage(context.Background(), w.shop.ID, leadID, step, lead.ChannelEmail)
	require.NoError(t, err)
	return m
}

// lastEmail is the email the SendGrid fake received last.
func (w *unsubscribeWorld) lastEmail(t *testing.T) fakesendgrid.Email {
	t.Helper()
	got := w.sandbox.SendGrid.Emails()
	require.NotEmpty(t, got)
	return got[len(got)-1]
}

var unsubscribeLink = regexp.MustCompile(`https?://\S+/unsubscribe/[A-Za-z0-9_-]+`)

// TestFollowUpEmailCarriesUnsubscribe: every email to a customer (the
// first answer too) reaches SendGrid, through the real SDK, with RFC
// 8058's two headers naming our endpoint, the same link in its body, the
// shop's postal address and its ASM group; a one-click POST of that URL
// suppresses the address, and the next follow-up is suppressed, not sent.
func TestFollowUpEmailCarriesUnsubscribe(t *testing.T) {
	t.Parallel()
	w := setupUnsubscribe(t, lead.Compliance{PostalAddress: testPostalAddress, ASMGroupID: 4321})
	leadID := w.newLead(t, w.shop, 1)

	for _, step := range []string{lead.StepInitial, "day3"} {
		m := w.send(t, leadID, step)
		require.Equal(t, lead.MessageSent, m.Status, step)
		got := w.lastEmail(t)
		require.Equal(t, "List-Unsubscribe=One-Click", got.Headers["List-Unsubscribe-Post"], step)
		link := unsubscribeLink.FindString(got.Text)
		require.NotEmpty(t, link, "%s: the body carries the link: %s", step, got.Text)
		require.True(t, strings.HasPrefix(link, w.server.URL+"/unsubscribe/"), link)
		require.Equal(t, "<"+link+">", got.Headers["List-Unsubscribe"], "%s: the header is the body's link", step)
		require.Contains(t, got.Text, "unsub, "+testPostalAddress, step)
		require.Equal(t, 4321, got.ASMGroupID, step)
	}
	links := map[string]bool{}
	for _, e := range w.sandbox.SendGrid.Emails() {
		links[unsubscribeLink.FindString(e.Text)] = true
	}
	require.Len(t, links, 2, "one link per email")

	// The inbox's one-click: a POST of the header's URL, the RFC's body,
	// no cookie.
	header := w.lastEmail(t).Headers["List-Unsubscribe"]
	oneClick := strings.Trim(header, "<>")
	resp, err := http.Post(oneClick, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "200, never a redirect: %s", body)
	require.Contains(t, string(body), "You are unsubscribed")
	require.Contains(t, string(body), "a***@example.com", "the address masked")
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1 AND channel = 'email'
		AND address = 'ann1@example.com' AND source = 'unsubscribe_link'`, w.shop.ID))

	// Again: nothing changes, the page says the same.
	resp, err = http.Post(oneClick, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1`, w.shop.ID))

	sent := len(w.sandbox.SendGrid.Emails())
	m := w.send(t, leadID, "day5")
	require.Equal(t, lead.MessageSuppressed, m.Status)
	require.Equal(t, "the address is on the tenant's suppression list", m.LastError)
	require.Len(t, w.sandbox.SendGrid.Emails(), sent, "no email after the unsubscribe")
}

// TestUnsubscribeGetOnlyAsks: a GET (a mail scanner, a link preview, a
// person) changes nothing; it shows the shop and the button.
func TestUnsubscribeGetOnlyAsks(t *testing.T) {
	t.Parallel()
	w := setupUnsubscribe(t, lead.Compliance{PostalAddress: testPostalAddress})
	leadID := w.newLead(t, w.shop, 1)
	w.send(t, leadID, "day3")
	link := unsubscribeLink.FindString(w.lastEmail(t).Text)

	resp, err := http.Get(link)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "Unsubscribe from unsub")
	require.Contains(t, string(body), `<form method="post">`)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1`, w.shop.ID), "a GET unsubscribes no one")
}

// TestUnsubscribeForgedToken: a token that does not check (altered, made
// for another address, under another key, or not a token) is 404 on GET
// and POST, naming no shop and suppressing nothing.
func TestUnsubscribeForgedToken(t *testing.T) {
	t.Parallel()
	w := setupUnsubscribe(t, lead.Compliance{PostalAddress: testPostalAddress})
	leadID := w.newLead(t, w.shop, 1)
	w.send(t, leadID, "day3")
	link := unsubscribeLink.FindString(w.lastEmail(t).Text)
	token := link[strings.LastIndex(link, "/")+1:]

	flipped := []byte(token)
	last := len(flipped) - 1
	flipped[last] = map[bool]byte{true: 'B', false: 'A'}[flipped[last] == 'A']
	otherAddress := w.keys.UnsubscribeToken(w.shop.ID, leadID, "day3", "someone@example.com")
	otherStep := w.keys.UnsubscribeToken(w.shop.ID, leadID, "day5", "ann1@example.com")
	for _, bad := range []string{string(flipped), otherAddress, otherStep, "x", strings.Repeat("A", 300)} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, err := http.NewRequest(method, w.server.URL+"/unsubscribe/"+bad, strings.NewReader("List-Unsubscribe=One-Click"))
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s", method, bad)
			require.NotContains(t, string(body), "unsub", "names no shop")
			require.NotContains(t, string(body), "example.com", "names no address")
		}
	}
	require.Equal(t, 0, w.count(t, `SELECT count(*) FROM suppressions`))
}

// TestFollowUpEmailNeedsPostalAddress: a shop without a postal address
// sends its first answer (with the unsubscribe) but no follow-up email,
// and the outbox says why; so does a fleet without a public URL.
func TestFollowUpEmailNeedsPostalAddress(t *testing.T) {
	t.Parallel()
	w := setupUnsubscribe(t, lead.Compliance{})
	leadID := w.newLead(t, w.shop, 1)

	first := w.send(t, leadID, lead.StepInitial)
	require.Equal(t, lead.MessageSent, first.Status)
	got := w.lastEmail(t)
	require.NotEmpty(t, got.Headers["List-Unsubscribe"], "the first answer carries the unsubscribe")
	require.Zero(t, got.ASMGroupID, "no group set, no asm")

	m := w.send(t, leadID, "day3")
	require.Equal(t, lead.MessageSkipped, m.Status)
	require.Contains(t, m.LastError, "the shop has no postal address (compliance.postal_address")
	require.Len(t, w.sandbox.SendGrid.Emails(), 1)

	w2 := setupUnsubscribe(t, lead.Compliance{PostalAddress: testPostalAddress})
	w2.deps.PublicURL = ""
	lead2 := w2.newLead(t, w2.shop, 1)
	m = w2.send(t, lead2, "day3")
	require.Equal(t, lead.MessageSkipped, m.Status)
	require.Contains(t, m.LastError, "no public URL (http.public_url)")
	first = w2.send(t, lead2, lead.StepInitial)
	require.Equal(t, lead.MessageSent, first.Status, "the first answer goes without one")
	require.Nil(t, w2.lastEmail(t).Headers)
	require.Contains(t, w2.lastEmail(t).Text, testPostalAddress)
}

// TestUnsubscribeMailto: with replies on, List-Unsubscribe names the
// email's reply address as its mailto too, and the email a mail program
// writes to it (the mailto's subject and body) suppresses the address.
func TestUnsubscribeMailto(t *testing.T) {
	t.Parallel()
	b := setupEmailReplies(t)
	b.deps.PublicURL = "https://book.test"
	shop, l, replyTo := b.emailReplyFixture(t)
	sent := b.emailTo(t, string(l.Email))
	header := sent.Headers["List-Unsubscribe"]
	_, mailto, ok := strings.Cut(header, ", <mailto:")
	require.True(t, ok, "a mailto after the HTTPS URI: %q", header)
	mailto = strings.TrimSuffix(mailto, ">")
	to, query, _ := strings.Cut(mailto, "?")
	require.Equal(t, replyTo, to)
	params, err := url.ParseQuery(query)
	require.NoError(t, err)

	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: to, From: string(l.Email),
		Subject: params.Get("subject"), Text: params.Get("body")}))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1 AND channel = 'email' AND address = $2`, shop.ID, string(l.Email)) == 1
	}, 10*time.Second, 10*time.Millisecond)
}
