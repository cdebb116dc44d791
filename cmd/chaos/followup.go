package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// quietShop is the shop whose sending window opens a third of the way into
// the run: texts due before then must wait for it, under fire.
type quietShop struct {
	index  int
	loc    *time.Location
	window lead.QuietHours
}

// newQuietShop picks a fixed-offset time zone in which the run falls in the
// middle of the day, and a window from a third of the way into the run to
// midnight, so that the window opens during the run and never closes in it.
func newQuietShop(index int, start time.Time, d time.Duration) (quietShop, error) {
	for off := -12; off <= 14; off++ {
		// Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
		name := fmt.Sprintf("Etc/GMT%+d", -off)
		if off == 0 {
			name = "Etc/GMT"
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			return quietShop{}, err
		}
		local := start.In(loc)
		if local.Hour() < 6 || local.Hour() > 14 {
			continue
		}
		open := local.Add(d / 3).Truncate(time.Minute).Add(time.Minute)
		return quietShop{index: index, loc: loc, window: lead.QuietHours{
			Start: lead.TimeOfDay(open.Hour()*60 + open.Minute()), End: 24 * 60}}, nil
	}
	return quietShop{}, fmt.Errorf("no time zone puts %s at midday", start)
}

// sendStops has customers text STOP during the run, through a live
// replica's signed Twilio webhook: every few seconds one number that got a
// text opts out, and a new lead of the same shop with that number arrives
// right after. Its text must never go out.
func sendStops(ctx context.Context, sb *sandbox.Server, f *fleet, tenants []lead.Tenant, say func(string, ...any)) int {
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	sent := 0
	byNumber := map[string]lead.Tenant{}
	for _, t := range tenants {
		byNumber[t.SMSFrom] = t
	}
	stopped := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return sent
		case <-tick.C:
		}
		msgs := sb.Twilio.Messages()
		if len(msgs) == 0 {
			continue
		}
		m := msgs[rand.IntN(len(msgs))]
		t, ok := byNumber[m.From]
		if !ok || stopped[t.ID.String()+m.To] {
			continue
		}
		if !postToLiveReplica(ctx, f, func(base string) error {
			_, err := faketwilio.PostInbound(ctx, http.DefaultClient, webhookurl.URL(base, webhookurl.TwilioSMS(t.ID.String())),
				faketwilio.DefaultAuthToken, m.To, t.SMSFrom, "STOP")
			return err
		}) {
			continue
		}
		stopped[t.ID.String()+m.To] = true
		sent++
		// The same customer asks again, as a new lead, after opting out.
		if _, err := sb.AddCRMLeadPhone(t.CRMKind, t.CRMLocationID, m.To); err != nil {
			say("error adding a lead for a stopped number: %v", err)
		}
	}
}

// nudgeShop is the shop with a follow-up step ("nudge", 20s after the
// first text, only if no reply).
const nudgeShop = 0

// nudgeDelay is how long after its first text the nudge shop nudges.
const nudgeDelay = 20 * time.Second

// sendReplies has customers of the nudge shop answer their first text:
// every 2 seconds one who got a text (and has not answered yet) replies,
// through a live replica's signed Twilio webhook. Their nudge must not go.
func sendReplies(ctx context.Context, sb *sandbox.Server, f *fleet, t lead.Tenant, say func(string, ...any)) int {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	replied := map[string]bool{}
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return sent
		case <-tick.C:
		}
		var candidates []string
		for _, m := range sb.Twilio.Messages() {
			if m.From == t.SMSFrom && !replied[m.To] {
				candidates = append(candidates, m.To)
			}
		}
		if len(candidates) == 0 {
			continue
		}
		to := candidates[rand.IntN(len(candidates))]
		if postToLiveReplica(ctx, f, func(base string) error {
			_, err := faketwilio.PostInbound(ctx, http.DefaultClient, webhookurl.URL(base, webhookurl.TwilioSMS(t.ID.String())),
				faketwilio.DefaultAuthToken, to, t.SMSFrom, "Yes please, what time works?")
			return err
		}) {
			replied[to] = true
			sent++
		}
	}
}

// postToLiveReplica tries the replicas in turn until one takes the post
// (a load balancer would).
func postToLiveReplica(ctx context.Context, f *fleet, post func(base string) error) bool {
	for _, i := range rand.Perm(len(f.replicas)) {
		r := f.replica(i)
		if !r.alive() {
			continue
		}
		if err := post("http://" + r.addr); err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
	}
	return false
}

// followUpReport is what the sending-window and opt-out checks found.
type followUpReport struct {
	repliesSent, repliesRecorded int
	nudgesSent, nudgesAfterReply int
	stopsSent, stopsRecorded     int
	textsHeldBySuppression       int
	textsToSuppressed            int
	textsWaitedForWindow         int
	textsOutsideWindow           int
	quietWindow, quietTimeZone   string
}

// checkFollowUp counts, from the outbox's claim times (when each send was
// allowed to go):
//   - texts claimed after their number's STOP was recorded (a violation);
//   - the quiet shop's texts claimed outside its window (a violation), and
//     those that waited for it.
func checkFollowUp(ctx context.Context, pool *pgxpool.Pool, quiet quietShop, quietTenant lead.Tenant, stopsSent, repliesSent int) (followUpReport, error) {
	r := followUpReport{stopsSent: stopsSent, repliesSent: repliesSent, quietWindow: quiet.window.String(), quietTimeZone: quiet.loc.String()}
	// Replies: a nudge claimed after its lead's reply was recorded is a
	// violation.
	err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM inbound_messages WHERE kind = 'reply' AND channel = 'sms'),
		(SELECT count(*) FROM messages WHERE step = 'nudge' AND status IN ('sent', 'delivered', 'ambiguous')),
		(SELECT count(*) FROM messages m JOIN leads l ON l.id = m.lead_id
			WHERE m.step = 'nudge' AND m.status IN ('sent', 'delivered', 'ambiguous') AND m.sending_at > l.replied_at)`).
		Scan(&r.repliesRecorded, &r.nudgesSent, &r.nudgesAfterReply)
	if err != nil {
		return r, err
	}
	err = pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM suppressions WHERE channel = 'sms' AND source = 'inbound'),
		(SELECT count(*) FROM messages WHERE channel = 'sms' AND status = 'suppressed'),
		(SELECT count(*) FROM messages m JOIN suppressions s
			ON s.tenant_id = m.tenant_id AND s.channel = 'sms' AND s.address = m.to_address
			WHERE m.channel = 'sms' AND m.status IN ('sent', 'delivered', 'ambiguous') AND m.sending_at > s.created_at)`).
		Scan(&r.stopsRecorded, &r.textsHeldBySuppression, &r.textsToSuppressed)
	if err != nil {
		return r, err
	}
	rows, err := pool.Query(ctx, `SELECT l.created_at, m.sending_at FROM messages m JOIN leads l ON l.id = m.lead_id
		WHERE m.tenant_id = $1 AND m.channel = 'sms' AND m.status IN ('sent', 'delivered', 'ambiguous')`, quietTenant.ID)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var created, claimed time.Time
		if err := rows.Scan(&created, &claimed); err != nil {
			return r, err
		}
		c := claimed.In(quiet.loc)
		tod := lead.TimeOfDay(c.Hour()*60 + c.Minute())
		if tod < quiet.window.Start || tod >= quiet.window.End {
			r.textsOutsideWindow++
		}
		cr := created.In(quiet.loc)
		if lead.TimeOfDay(cr.Hour()*60+cr.Minute()) < quiet.window.Start {
			r.textsWaitedForWindow++
		}
	}
	return r, rows.Err()
}
