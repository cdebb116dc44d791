package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// callShop is the shop whose number the harness calls and misses: the
// last one. It lets the answer to a call go without consent on record (a
// caller has none), which missed-call texts need.
func callShop(shops int) int { return shops - 1 }

// conversationPlay is what the harness played of the conversation: email
// replies of the nudge shop's customers, the shops' answers to their
// notices (each posted twice, as SendGrid redelivers), and missed calls.
type conversationPlay struct {
	emailReplies int
	// answers are the shop answers posted, by the words the customer must
	// receive once ("<shop>: <answer>").
	answers []string
	calls   int
}

// playConversation plays, every second until ctx ends, one of: a nudge
// shop customer answering their email, a shop answering a notice, a
// caller the call shop misses (a new number, or one called before).
func playConversation(ctx context.Context, f *fleet, sb *sandbox.Server, tenants []lead.Tenant, say func(string, ...any)) conversationPlay {
	var p conversationPlay
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	replied, answered := map[string]bool{}, map[string]bool{}
	var called []string
	caller := tenants[callShop(len(tenants))]
	for turn := 0; ; turn++ {
		select {
		case <-ctx.Done():
			return p
		case <-tick.C:
		}
		switch turn % 3 {
		case 0:
			if m, ok := nextEmailReply(sb, tenants[nudgeShop], replied); ok && postMail(ctx, f, m) {
				replied[m.From] = true
				p.emailReplies++
			}
		case 1:
			if m, shop, ok := nextShopAnswer(sb, tenants, answered, len(p.answers)); ok && postMail(ctx, f, m) {
				answered[m.To] = true
				p.answers = append(p.answers, shop.Name+": "+m.Text[:strings.Index(m.Text, "\n")])
				postMail(ctx, f, m) // SendGrid redelivers: the same Message-ID
			}
		case 2:
			from := fmt.Sprintf("+1512557%04d", rand.IntN(10000))
			if len(called) > 0 && rand.IntN(2) == 0 {
				from = called[rand.IntN(len(called))] // calls again within the day
			}
			if postToLiveReplica(ctx, f, func(base string) error {
				_, err := faketwilio.PlayCall(ctx, http.DefaultClient, webhookurl.URL(base, webhookurl.TwilioVoice(caller.ID.String())),
					faketwilio.DefaultAuthToken, from, caller.SMSFrom, "no-answer")
				return err
			}) {
				called = append(called, from)
				p.calls++
			}
		}
	}
}

// nextEmailReply is a reply from a customer of shop who got its email (at
// a reply address) and has not answered yet.
func nextEmailReply(sb *sandbox.Server, shop lead.Tenant, replied map[string]bool) (fakesendgrid.InboundMail, bool) {
	for _, e := range sb.SendGrid.Emails() {
		if e.From == shop.EmailFrom && e.To != shop.NotifyEmail && e.ReplyTo != "" && !replied[e.To] {
			return fakesendgrid.InboundMail{To: e.ReplyTo, From: e.To, Subject: "Re: " + e.Subject,
				Text: "Thursday works for me.\n\nOn Tue, " + shop.Name + " wrote:\n> " + strings.ReplaceAll(e.Text, "\n", "\n> ")}, true
		}
	}
	return fakesendgrid.InboundMail{}, false
}

// nextShopAnswer is a shop's answer to a notice it has not answered yet,
// the n-th, with a Message-ID of its own (so that a redelivery repeats it).
func nextShopAnswer(sb *sandbox.Server, tenants []lead.Tenant, answered map[string]bool, n int) (fakesendgrid.InboundMail, lead.Tenant, bool) {
	byNotify := map[string]lead.Tenant{}
	for _, t := range tenants {
		byNotify[t.NotifyEmail] = t
	}
	for _, e := range sb.SendGrid.Emails() {
		shop, ok := byNotify[e.To]
		if !ok || e.ReplyTo == "" || answered[e.ReplyTo] {
			continue
		}
		return fakesendgrid.InboundMail{To: e.ReplyTo, From: e.To, Subject: "Re: " + e.Subject, MessageID: fmt.Sprintf("answer-%d@chaos.example", n),
			Text: fmt.Sprintf("Answer %d: we can see you at %d.\n\nOn Tue, Lead Orchestrator wrote:\n> %s", n, 8+n%9, strings.ReplaceAll(e.Text, "\n", "\n> "))}, shop, true
	}
	return fakesendgrid.InboundMail{}, lead.Tenant{}, false
}

// postMail posts m to a live replica's Inbound Parse route, as SendGrid
// does (it retries elsewhere on a dead one).
func postMail(ctx context.Context, f *fleet, m fakesendgrid.InboundMail) bool {
	return postToLiveReplica(ctx, f, func(base string) error {
		status, err := fakesendgrid.PostInbound(ctx, http.DefaultClient, webhookurl.URL(base, webhookurl.SendGridInbound()), m)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("inbound parse answered %d", status)
		}
		return err
	})
}

// conversationReport is what the conversation checks found.
type conversationReport struct {
	emailRepliesSent, emailRepliesRecorded int
	// followUpsAfterEmailReply are follow-ups claimed after their lead's
	// email reply was recorded (a violation).
	followUpsAfterEmailReply    int
	answersSent, answersTexted  int
	answersTwice                int
	answersHeld, answersUnknown int
	// answersLost are answers neither texted nor held (a violation).
	answersLost                  int
	calls, missedCallTexts       int
	missedCallTextsTwice         int
	missedCallLeads, callsStored int
}

// checkConversation counts what the conversation came to, at the
// providers and in the outbox.
func checkConversation(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, p conversationPlay) (conversationReport, error) {
	r := conversationReport{emailRepliesSent: p.emailReplies, answersSent: len(p.answers), calls: p.calls}
	err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM inbound_messages WHERE channel = 'email' AND kind = 'reply'),
		(SELECT count(*) FROM messages m JOIN leads l ON l.id = m.lead_id
			WHERE m.step NOT LIKE 'answer-%' AND m.step NOT LIKE 'notice-%' AND m.step NOT LIKE 'booking-%' AND m.step <> 'initial'
			AND m.status IN ('sent', 'delivered', 'ambiguous') AND m.sending_at > l.replied_at
			AND EXISTS (SELECT 1 FROM inbound_messages i WHERE i.lead_id = l.id AND i.channel = 'email' AND i.kind = 'reply')),
		(SELECT count(*) FROM leads WHERE source = 'missed_call'),
		(SELECT count(*) FROM calls)`).
		Scan(&r.emailRepliesRecorded, &r.followUpsAfterEmailReply, &r.missedCallLeads, &r.callsStored)
	if err != nil {
		return r, err
	}
	atTwilio := map[string]int{}
	for _, m := range sb.Twilio.Messages() {
		atTwilio[m.Body]++
		if strings.HasPrefix(m.Body, "Sorry we missed your call") {
			r.missedCallTexts++
			atTwilio["\x00call\x00"+m.To+"\x00"+m.Body]++
		}
	}
	for key, n := range atTwilio {
		if strings.HasPrefix(key, "\x00call\x00") && n > 1 {
			r.missedCallTextsTwice += n - 1
		}
	}
	for _, want := range p.answers {
		n := atTwilio[want]
		switch {
		case n == 1:
			r.answersTexted++
			continue
		case n > 1:
			r.answersTexted++
			r.answersTwice += n - 1
			continue
		}
		var status string
		err := pool.QueryRow(ctx, `SELECT status FROM messages WHERE step LIKE 'answer-%' AND body = $1`, want).Scan(&status)
		switch {
		case err == nil && (status == string(lead.MessageSuppressed) || status == string(lead.MessageSkipped)):
			r.answersHeld++ // the customer texted STOP (the harness does)
		case err == nil && status == string(lead.MessageAmbiguous):
			r.answersUnknown++
		default:
			r.answersLost++
		}
	}
	return r, nil
}

func (r conversationReport) violations() []bool {
	return []bool{r.followUpsAfterEmailReply > 0, r.answersTwice > 0, r.answersLost > 0, r.missedCallTextsTwice > 0}
}

func (r conversationReport) print(row func(string, any, bool), info func(string, any)) {
	info("email replies sent / recorded", fmt.Sprintf("%d / %d", r.emailRepliesSent, r.emailRepliesRecorded))
	row("follow-ups after an email reply", r.followUpsAfterEmailReply, r.followUpsAfterEmailReply == 0)
	info("shop answers sent (each delivered twice) / texted", fmt.Sprintf("%d / %d", r.answersSent, r.answersTexted))
	row("shop answers texted twice", r.answersTwice, r.answersTwice == 0)
	info("shop answers held (STOP) / ambiguous", fmt.Sprintf("%d / %d", r.answersHeld, r.answersUnknown))
	row("shop answers neither texted nor held", r.answersLost, r.answersLost == 0)
	info("missed calls played / stored / leads", fmt.Sprintf("%d / %d / %d", r.calls, r.callsStored, r.missedCallLeads))
	info("missed-call texts at Twilio", r.missedCallTexts)
	row("missed-call texts twice to a number in 24h", r.missedCallTextsTwice, r.missedCallTextsTwice == 0)
}
