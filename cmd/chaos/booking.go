package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// Online booking under fire: customers open the links their texts carry
// (on whichever replica is alive), pick a time, and some tap twice or book
// from two tabs at once, while replicas die, Postgres crashes and the CRMs
// fail. The checks: no appointment made twice at a CRM, no slot booked over
// its capacity, no follow-up after a booking, and every request booked or
// answered with a reason.

// chaosBooking is the booking settings of every chaos shop: every day,
// all day, capacity 2, so that customers compete for the first slots.
func chaosBooking() lead.BookingSettings {
	hours := map[string]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = "00:00-23:00"
	}
	return lead.BookingSettings{Enabled: true, Hours: hours, SlotMinutes: 60, Capacity: 2, LeadTimeMinutes: 60, DaysAhead: 3}
}

// bookingLinkIn finds a booking link in a text.
var bookingLinkIn = regexp.MustCompile(`https?://\S+/book/[a-z2-7]+`)

// bookingPlay is what the harness played.
type bookingPlay struct {
	visits, doubleTaps, twoTabs, pageErrors int
}

// playBookings opens, every two seconds until ctx ends, the booking link of
// a text not played yet: a plain booking, a double tap (the same form
// posted twice at once) or two tabs (two visits, each posting).
func playBookings(ctx context.Context, f *fleet, sb *sandbox.Server) bookingPlay {
	var p bookingPlay
	played := map[string]bool{}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for turn := 0; ; turn++ {
		select {
		case <-ctx.Done():
			return p
		case <-tick.C:
		}
		link := nextBookingLink(sb, played, turn%2 == 0)
		if link == "" {
			continue
		}
		played[link] = true
		ok := postToLiveReplica(ctx, f, func(base string) error {
			return playOneBooking(ctx, onReplica(link, base), turn%3, &p)
		})
		if !ok {
			p.pageErrors++
		}
	}
}

// nextBookingLink is the link of a text to a customer not played yet; the
// nudge shop's first (its leads have a follow-up due, which a booking must
// stop) when nudge is true.
func nextBookingLink(sb *sandbox.Server, played map[string]bool, nudge bool) string {
	fallback := ""
	for _, m := range sb.Twilio.Messages() {
		link := bookingLinkIn.FindString(m.Body)
		if link == "" || played[link] {
			continue
		}
		if !nudge || m.From == nudgeFrom {
			return link
		}
		if fallback == "" {
			fallback = link
		}
	}
	return fallback
}

// nudgeFrom is the number the nudge shop texts from (set when the shops
// are made).
var nudgeFrom string

// onReplica is link served by the replica at base (links name the replica
// that composed the text, which may be dead now).
func onReplica(link, base string) string {
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	b, err := url.Parse(base)
	if err != nil {
		return link
	}
	u.Scheme, u.Host = b.Scheme, b.Host
	return u.String()
}

// playOneBooking plays one customer: way 0 books once, 1 taps twice, 2
// books from two tabs. Its error (a dead replica) lets the caller try
// another.
func playOneBooking(ctx context.Context, link string, way int, p *bookingPlay) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	first, err := sandbox.VisitBookingPage(ctx, link)
	if err != nil {
		return err
	}
	form, ok := first.SlotForm(rand.IntN(6))
	if !ok {
		p.visits++
		return nil // the lead cannot book (it replied STOP, say): the page said why
	}
	visits := []*sandbox.BookingVisit{first}
	forms := []sandbox.BookingForm{form}
	switch way {
	case 1:
		visits, forms = append(visits, first), append(forms, form)
		p.doubleTaps++
	case 2:
		second, err := sandbox.VisitBookingPage(ctx, link)
		if err != nil {
			return err
		}
		other, ok := second.SlotForm(rand.IntN(6))
		if ok {
			visits, forms = append(visits, second), append(forms, other)
			p.twoTabs++
		}
	}
	p.visits++
	var wg sync.WaitGroup
	for i := range visits {
		wg.Go(func() {
			if visits[i].Submit(ctx, forms[i]) == nil {
				_ = visits[i].Settle(ctx, nil)
			}
		})
	}
	wg.Wait()
	return nil
}

// bookingReport is what the booking checks found.
type bookingReport struct {
	play                                bookingPlay
	requests, booked, taken, failed     int
	unanswered, ambiguous               int
	appointmentsTwice, overCapacity     int
	followUpsAfterBooking, confirmTwice int
}

// checkBookings counts what became of every booking request, and the
// invariants: each appointment made once at its CRM (the fakes count every
// create, whatever answer the client saw), no slot over its capacity, no
// follow-up step sent after its lead booked, every request booked or
// answered with a reason, each confirmation texted once.
func checkBookings(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, p bookingPlay) (bookingReport, error) {
	r := bookingReport{play: p}
	err := pool.QueryRow(ctx, `SELECT count(*),
		count(*) FILTER (WHERE state IN ('booked', 'cancelled')),
		count(*) FILTER (WHERE state = 'taken' AND reason <> ''),
		count(*) FILTER (WHERE state = 'failed' AND reason <> ''),
		count(*) FILTER (WHERE state NOT IN ('booked', 'cancelled', 'ambiguous') AND NOT (state IN ('taken', 'failed') AND reason <> '')),
		count(*) FILTER (WHERE state = 'ambiguous')
		FROM bookings`).Scan(&r.requests, &r.booked, &r.taken, &r.failed, &r.unanswered, &r.ambiguous)
	if err != nil {
		return r, err
	}
	// Our own bookings over the slot's capacity, and sequence steps whose
	// send was claimed after the lead booked (one-off answers, notices and
	// the booking's own texts are not follow-ups).
	err = pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(n - $1), 0) FROM (SELECT count(*) AS n FROM bookings WHERE state = 'booked'
			GROUP BY tenant_id, starts_at HAVING count(*) > $1) over),
		(SELECT count(*) FROM messages m JOIN bookings b ON b.tenant_id = m.tenant_id AND b.lead_id = m.lead_id
			WHERE b.state IN ('booked', 'cancelled') AND m.status IN ('sent', 'delivered', 'ambiguous')
			AND m.sending_at > b.booked_at AND m.step NOT LIKE 'booking-%' AND m.step NOT LIKE 'notice-%'
			AND m.step NOT LIKE 'answer-%' AND m.step NOT LIKE 'help-%' AND m.step NOT LIKE 'missed-call-%')`,
		chaosBooking().Capacity).Scan(&r.overCapacity, &r.followUpsAfterBooking)
	if err != nil {
		return r, err
	}
	if r.appointmentsTwice, err = appointmentsTwice(ctx, pool, sb); err != nil {
		return r, err
	}
	confirmations := map[string]int{}
	for _, m := range sb.Twilio.Messages() {
		if strings.Contains(m.Body, "you are booked for") {
			confirmations[m.To+"\x00"+m.Body]++
		}
	}
	for _, n := range confirmations {
		r.confirmTwice += n - 1
	}
	return r, nil
}

// appointmentsTwice counts the appointments a CRM fake was asked to create
// more than once for one booking request's customer and time.
func appointmentsTwice(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server) (int, error) {
	rows, err := pool.Query(ctx, `SELECT DISTINCT t.crm_kind, l.customer_external_id, b.starts_at
		FROM bookings b JOIN leads l ON l.tenant_id = b.tenant_id AND l.id = b.lead_id JOIN tenants t ON t.id = b.tenant_id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	twice := 0
	for rows.Next() {
		var kind, customer string
		var start time.Time
		if err := rows.Scan(&kind, &customer, &start); err != nil {
			return 0, err
		}
		n := sb.ShopMonkey.AppointmentsCreated(customer, start)
		if kind == "tekmetric" {
			n = sb.Tekmetric.AppointmentsCreated(customer, start)
		}
		if n > 1 {
			twice += n - 1
		}
	}
	return twice, rows.Err()
}

func (r bookingReport) violations() []bool {
	return []bool{r.appointmentsTwice > 0, r.overCapacity > 0, r.followUpsAfterBooking > 0, r.unanswered > 0, r.confirmTwice > 0}
}

func (r bookingReport) print(row func(string, any, bool), info func(string, any)) {
	info("booking pages played (double taps / two tabs / no replica)", fmt.Sprintf("%d (%d / %d / %d)", r.play.visits, r.play.doubleTaps, r.play.twoTabs, r.play.pageErrors))
	info("booking requests / booked / taken / failed / ambiguous", fmt.Sprintf("%d / %d / %d / %d / %d", r.requests, r.booked, r.taken, r.failed, r.ambiguous))
	row("appointments created twice at the CRM", r.appointmentsTwice, r.appointmentsTwice == 0)
	row("bookings over a slot's capacity", r.overCapacity, r.overCapacity == 0)
	row("follow-ups sent after a booking", r.followUpsAfterBooking, r.followUpsAfterBooking == 0)
	row("booking requests neither booked nor answered with a reason", r.unanswered, r.unanswered == 0)
	row("confirmation texts sent twice", r.confirmTwice, r.confirmTwice == 0)
}
