package jobs_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

const replyDomain = "reply.leadorch.test"

// setupEmailReplies is the webhook pipeline with email replies on: the
// fleet's receiving domain set and Inbound Parse's route served.
func setupEmailReplies(t *testing.T) *webhookBundle {
	t.Helper()
	b := setup(t)
	b.deps.ReceiveReplies, b.deps.ReplyDomain = true, replyDomain
	return newWebhookBundle(t, b)
}

// emailTo waits for the first email the fake accepted for to and returns
// it.
func (b *webhookBundle) emailTo(t *testing.T, to string) fakesendgrid.Email {
	t.Helper()
	var got fakesendgrid.Email
	require.Eventually(t, func() bool {
		for _, e := range b.sandbox.SendGrid.Emails() {
			if e.To == to {
				got = e
				return true
			}
		}
		return false
	}, 15*time.Second, 10*time.Millisecond, "an email to %s", to)
	return got
}

// mail posts m to the Inbound Parse route, signed as the sandbox's Parse
// signs, and returns the status.
func (b *webhookBundle) mail(t *testing.T, m fakesendgrid.InboundMail) int {
	t.Helper()
	status, err := fakesendgrid.PostInbound(context.Background(), b.server.Client(), webhookurl.URL(b.server.URL, webhookurl.SendGridInbound()), m)
	require.NoError(t, err)
	return status
}

// emailReplyFixture is a shop with notices on and one lead texted and
// emailed, its follow-ups scheduled, and the email's reply address.
func (b *webhookBundle) emailReplyFixture(t *testing.T) (lead.Tenant, lead.Lead, string) {
	t.Helper()
	shop, l := b.inboundFixture(t, "desk@inbound.example.com")
	sent := b.emailTo(t, string(l.Email))
	token, ok := lead.ReplyToken(sent.ReplyTo)
	require.True(t, ok, "the email's Reply-To %q is a reply address", sent.ReplyTo)
	require.True(t, strings.HasSuffix(sent.ReplyTo, "@"+replyDomain))
	require.Len(t, token, 26)
	require.Contains(t, sent.Text, "Reply to this email, or write to "+shop.Name+" at desk@inbound.example.com.",
		"the shop's own address is the fallback in the body")
	return shop, l, sent.ReplyTo
}

// TestEmailReplyStopsTheSequence: a customer who answers the email does
// what a text reply does: the lead is replied, its pending follow-ups are
// cancelled and the shop is told, with the quoted history stripped; a
// redelivery of the same mail changes nothing.
func TestEmailReplyStopsTheSequence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEmailReplies(t)
	shop, l, replyTo := b.emailReplyFixture(t)

	reply := fakesendgrid.InboundMail{To: replyTo, From: string(l.Email), FromName: "Ann Lee", Subject: "Re: your request",
		Text: "Tuesday morning works for me.\n\nOn Tue, Mar 3, 2026 at 9:14 AM " + shop.Name + " <shop@example.com> wrote:\n> Thanks for contacting us.\n"}
	require.Equal(t, http.StatusOK, b.mail(t, reply))
	require.Eventually(t, func() bool {
		got, err := b.store.GetLead(ctx, shop.ID, l.ID)
		require.NoError(t, err)
		return got.Status == lead.StatusReplied
	}, 10*time.Second, 10*time.Millisecond)
	require.Zero(t, b.pendingSteps(t, l.ID), "every pending step cancelled")
	notice := b.emailTo(t, "desk@inbound.example.com")
	require.Contains(t, notice.Text, "replied by email")
	require.Contains(t, notice.Text, "Tuesday morning works for me.")
	require.NotContains(t, notice.Text, "Thanks for contacting us", "the quoted history is stripped")
	_, ok := lead.ReplyToken(notice.ReplyTo)
	require.True(t, ok, "the notice has its own reply address")
	require.NotEqual(t, replyTo, notice.ReplyTo)

	var body, raw, channel, kind string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT body, raw_body, channel, kind FROM inbound_messages WHERE lead_id = $1`, l.ID).
		Scan(&body, &raw, &channel, &kind))
	require.Equal(t, []string{"Tuesday morning works for me.", reply.Text, "email", "reply"}, []string{body, raw, channel, kind})

	// SendGrid redelivers (the same Message-ID): nothing new.
	reply.MessageID = "redelivered@mail.example"
	require.Equal(t, http.StatusOK, b.mail(t, reply))
	require.Equal(t, http.StatusOK, b.mail(t, reply))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM inbound_messages WHERE lead_id = $1`, l.ID))
}

// TestEmailAutoReplyStopsNothing: an out-of-office (Auto-Submitted) or a
// bounce is recorded as an automatic reply; the sequence goes on and the
// shop hears nothing.
func TestEmailAutoReplyStopsNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEmailReplies(t)
	shop, l, replyTo := b.emailReplyFixture(t)
	pending := b.pendingSteps(t, l.ID)

	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: replyTo, From: string(l.Email), Subject: "Automatic reply: your request",
		Text: "I am out of the office until Monday.", Headers: map[string]string{"Auto-Submitted": "auto-replied"}}))
	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: replyTo, From: "MAILER-DAEMON@mx.example", Subject: "Undelivered Mail Returned to Sender",
		Text: "This is the mail system.", Headers: map[string]string{"Content-Type": "multipart/report; report-type=delivery-status; boundary=b"}}))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM inbound_messages WHERE lead_id = $1 AND kind = 'auto_reply' AND handled_at IS NOT NULL`, l.ID) == 2
	}, 10*time.Second, 10*time.Millisecond)
	got, err := b.store.GetLead(ctx, shop.ID, l.ID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusContacted, got.Status)
	require.True(t, got.RepliedAt.IsZero())
	require.Equal(t, pending, b.pendingSteps(t, l.ID), "the follow-ups stay scheduled")
	for _, e := range b.sandbox.SendGrid.Emails() {
		require.NotEqual(t, "desk@inbound.example.com", e.To, "no notice for an automatic reply")
	}
}

// TestEmailOptOut: an email whose text is an opt-out word unsubscribes the
// address from the shop's email: pending emails are cancelled, the texts
// follow the number's own consent.
func TestEmailOptOut(t *testing.T) {
	t.Parallel()
	b := setupEmailReplies(t)
	shop, l, replyTo := b.emailReplyFixture(t)
	emails := func() int {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_email' AND args->>'lead_id' = $1
			AND state IN ('scheduled', 'available', 'retryable')`, l.ID.String())
	}
	texts := b.pendingSteps(t, l.ID) - emails()
	require.Positive(t, emails(), "a follow-up email is scheduled")

	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: replyTo, From: string(l.Email), Subject: "Re: your request",
		Text: "Unsubscribe\n\nSent from my iPhone\n\n> On Mar 3, 2026, Maple wrote:\n> Reply STOP to opt out"}))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1 AND channel = 'email' AND address = $2`, shop.ID, string(l.Email)) == 1
	}, 10*time.Second, 10*time.Millisecond)
	require.Zero(t, emails(), "pending emails cancelled")
	require.Equal(t, texts, b.pendingSteps(t, l.ID), "texts untouched")
}

// TestEmailToAnUnknownAddressIsRefused: a made-up token, an address that
// is not a reply address, a forged or stale signature: refused, nothing
// stored.
func TestEmailToAnUnknownAddressIsRefused(t *testing.T) {
	t.Parallel()
	b := setupEmailReplies(t)
	_, l, replyTo := b.emailReplyFixture(t)
	for _, to := range []string{"r+abcdefghijklmnopqrstuvwxyz@" + replyDomain, "service@" + replyDomain, "r+short@" + replyDomain} {
		require.Equal(t, http.StatusNotFound, b.mail(t, fakesendgrid.InboundMail{To: to, From: string(l.Email), Text: "hello"}), to)
	}

	body, contentType, err := fakesendgrid.BuildInbound(fakesendgrid.InboundMail{To: replyTo, From: string(l.Email), Text: "STOP"})
	require.NoError(t, err)
	post := func(sig, ts string) int {
		req, err := http.NewRequest(http.MethodPost, webhookurl.URL(b.server.URL, webhookurl.SendGridInbound()), strings.NewReader(string(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
		req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
		resp, err := b.server.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Signed with the event webhook's key, not the Parse policy's.
	ts := time.Now().Unix()
	wrong, err := fakesendgrid.SignEvents(body, itoa(ts))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, post(wrong, itoa(ts)))
	stale := ts - 600
	sig, err := fakesendgrid.SignInbound(body, itoa(stale))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, post(sig, itoa(stale)))
	require.Equal(t, http.StatusUnauthorized, post("", ""))

	require.Zero(t, b.count(t, `SELECT count(*) FROM inbound_messages`))
	require.Zero(t, b.count(t, `SELECT count(*) FROM suppressions`))
}

// TestShopAnswerIsTexted: the shop replies to its notice; its answer,
// quoted notice stripped, goes to the customer once as a text from the
// shop's number, through the outbox, even though the lead has replied
// (it is the conversation, not a follow-up); after the customer's STOP
// the next answer is held back.
func TestShopAnswerIsTexted(t *testing.T) {
	t.Parallel()
	b := setupEmailReplies(t)
	shop, l, replyTo := b.emailReplyFixture(t)
	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: replyTo, From: string(l.Email), Text: "Can you do Tuesday?"}))
	notice := b.emailTo(t, "desk@inbound.example.com")
	require.Contains(t, notice.Text, "Reply to this email and your answer goes to "+l.FirstName+" as a text")

	// The shop's out-of-office answers the notice first: it is recorded,
	// and never texted to the customer.
	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: notice.ReplyTo, From: "desk@inbound.example.com",
		Subject: "Automatic reply: " + notice.Subject, Text: "We are closed until Monday.", Headers: map[string]string{"Auto-Submitted": "auto-replied"}}))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM inbound_messages WHERE lead_id = $1 AND kind = 'auto_reply' AND handled_at IS NOT NULL`, l.ID) == 1
	}, 10*time.Second, 10*time.Millisecond)
	require.Zero(t, b.count(t, `SELECT count(*) FROM messages WHERE lead_id = $1 AND step LIKE 'answer-%'`, l.ID), "an auto-reply is not an answer")

	answer := fakesendgrid.InboundMail{To: notice.ReplyTo, From: "desk@inbound.example.com", Subject: "Re: " + notice.Subject, MessageID: "answer-1@inbound.example.com",
		Text: "Tuesday at 9 is yours, see you then!\n\nOn Tue, Mar 3, 2026, Lead Orchestrator wrote:\n> " + strings.ReplaceAll(notice.Text, "\n", "\n> ")}
	require.Equal(t, http.StatusOK, b.mail(t, answer))
	require.Equal(t, http.StatusOK, b.mail(t, answer)) // redelivered
	want := shop.Name + ": Tuesday at 9 is yours, see you then!"
	require.Eventually(t, func() bool {
		for _, m := range b.sandbox.Twilio.Messages() {
			if m.Body == want {
				require.Equal(t, string(l.Phone), m.To)
				require.Equal(t, shop.SMSFrom, m.From)
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the answer is texted")
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM messages WHERE lead_id = $1 AND step LIKE 'answer-%' AND status = 'sent'`, l.ID) == 1
	}, 10*time.Second, 10*time.Millisecond)

	// The customer texts STOP; the shop's next answer is not sent.
	b.text(t, shop, l.Phone, "STOP")
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1 AND channel = 'sms'`, shop.ID) == 1
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: notice.ReplyTo, From: "desk@inbound.example.com", Text: "Are you still there?"}))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM messages WHERE lead_id = $1 AND step LIKE 'answer-%' AND status IN ('suppressed', 'skipped')`, l.ID) == 1
	}, 10*time.Second, 10*time.Millisecond, "%s", b.dump(t, `SELECT step || ' ' || status || ' ' || last_error FROM messages WHERE lead_id = $1`, l.ID))
	texts := 0
	for _, m := range b.sandbox.Twilio.Messages() {
		if m.To == string(l.Phone) && (m.Body == want || strings.Contains(m.Body, "still there")) {
			texts++
		}
	}
	require.Equal(t, 1, texts, "one answer texted, none after the STOP")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// dump is the rows of a one-column query, for a failure's message.
func (b *webhookBundle) dump(t *testing.T, sql string, args ...any) string {
	rows, err := b.pool.Query(context.Background(), sql, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

// TestSandboxPlaysEmailReplies: the sandbox's simulated email replies
// (the customer's, an out-of-office, the shop's answer to its notice)
// reach the worker's Inbound Parse route signed as Parse signs, and do
// what real ones do.
func TestSandboxPlaysEmailReplies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEmailReplies(t)
	shop, l, _ := b.emailReplyFixture(t)
	sim := b.sandbox.Simulator
	require.NoError(t, sim.SetWorkers(b.server.URL))

	ooo, err := sim.ReplyByEmail(ctx, string(l.Email), "I am away this week.", true)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ooo.Status)
	reply, err := sim.ReplyByEmail(ctx, string(l.Email), "Friday at 10 please", false)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reply.Status)
	require.Eventually(t, func() bool {
		got, err := b.store.GetLead(ctx, shop.ID, l.ID)
		require.NoError(t, err)
		return got.Status == lead.StatusReplied
	}, 10*time.Second, 10*time.Millisecond)
	b.emailTo(t, "desk@inbound.example.com")

	answer, err := sim.ReplyByEmail(ctx, "desk@inbound.example.com", "Friday 10am is booked for you.", false)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, answer.Status)
	require.Eventually(t, func() bool {
		for _, m := range b.sandbox.Twilio.Messages() {
			if m.Body == shop.Name+": Friday 10am is booked for you." {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the shop's answer is texted")
	kinds := b.dump(t, `SELECT kind FROM inbound_messages WHERE lead_id = $1 ORDER BY id`, l.ID)
	require.Equal(t, "auto_reply\nreply\nshop_answer", kinds)
	var played []string
	for _, e := range sim.Events(0) {
		if e.Kind == "email_reply" {
			played = append(played, e.Email.Text)
		}
	}
	require.Equal(t, []string{"I am away this week.", "Friday at 10 please", "Friday 10am is booked for you."}, played)

	_, err = sim.ReplyByEmail(ctx, "nobody@mail.example", "hi", false)
	require.ErrorContains(t, err, "no email with a reply address was sent to nobody@mail.example")
}

// TestNoticeGoesThroughTheOutbox: the shop's notice is an outbox row like
// every message, so a send SendGrid took but whose answer was lost is not
// sent again: it waits for SendGrid's confirmation and, with none, is
// held as ambiguous. Before, the notice job retried and the shop got it
// twice. The notice does not count as contacting the customer.
func TestNoticeGoesThroughTheOutbox(t *testing.T) {
	t.Parallel()
	b := setupEmailReplies(t)
	b.deps.ConfirmWait = time.Second
	shop, l, replyTo := b.emailReplyFixture(t)
	require.Eventually(t, func() bool {
		_, rows := b.firstAccepted(t, l.ID, lead.ChannelEmail)
		return rows == 1
	}, 10*time.Second, 10*time.Millisecond, "the customer's first email is stamped")
	firstEmail, _ := b.firstAccepted(t, l.ID, lead.ChannelEmail)

	// SendGrid takes the notice, and the answer is lost (a 502 after it).
	b.sandbox.SendGrid.AddFault(fake.Fault{Status: http.StatusBadGateway, Count: 1, After: true})
	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: replyTo, From: string(l.Email), Text: "Is Friday possible?"}))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM messages WHERE lead_id = $1 AND step LIKE 'notice-%' AND to_address = $2
			AND status IN ('ambiguous', 'sent')`, l.ID, shop.NotifyEmail) == 1
	}, 20*time.Second, 20*time.Millisecond, "%s", b.dump(t, `SELECT step || ' ' || status || ' ' || last_error FROM messages WHERE lead_id = $1`, l.ID))
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notify_shop' AND finalized_at IS NOT NULL`) == 1
	}, 20*time.Second, 20*time.Millisecond)
	notices := 0
	for _, e := range b.sandbox.SendGrid.Emails() {
		if e.To == shop.NotifyEmail {
			notices++
		}
	}
	require.Equal(t, 1, notices, "the shop got the notice once")
	at, rows := b.firstAccepted(t, l.ID, lead.ChannelEmail)
	require.Equal(t, 1, rows)
	require.True(t, firstEmail.Equal(at), "the notice is not the lead's first email")
}

// TestNoticeResentFromItsRow: a send_email of a notice step (a sweep's or
// an operator's resend) sends what the notice's outbox row holds, to the
// shop, never a customer's email composed anew: a row already sent
// completes without a second copy, and a notice step without a row sends
// nothing.
func TestNoticeResentFromItsRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEmailReplies(t)
	shop, l, replyTo := b.emailReplyFixture(t)
	require.Equal(t, http.StatusOK, b.mail(t, fakesendgrid.InboundMail{To: replyTo, From: string(l.Email), Text: "Tuesday?"}))
	b.emailTo(t, shop.NotifyEmail)
	var step string
	require.Eventually(t, func() bool {
		return b.pool.QueryRow(ctx, `SELECT step FROM messages WHERE lead_id = $1 AND step LIKE 'notice-%' AND status = 'sent'`, l.ID).Scan(&step) == nil
	}, 10*time.Second, 10*time.Millisecond)
	emails := len(b.sandbox.SendGrid.Emails())

	require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, b.client, jobs.SendEmailArgs{TenantID: shop.ID, LeadID: l.ID, Step: step, Resend: 1}).State)
	require.Equal(t, rivertype.JobStateCancelled, insertAndWait(t, b.client, jobs.SendEmailArgs{TenantID: shop.ID, LeadID: l.ID, Step: lead.NoticeStep("reply", "never")}).State)
	require.Len(t, b.sandbox.SendGrid.Emails(), emails, "nothing sent again")
	require.Zero(t, b.count(t, `SELECT count(*) FROM messages WHERE lead_id = $1 AND step = $2`, l.ID, lead.NoticeStep("reply", "never")))
}
