package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// The recipient's clock under fire: the clock shop keeps the legal hours
// (quiet rule federal) where its customers are, and the harness gives it
// customers whose clocks say night for the whole run (their number's
// zone, or their CRM address's state while their number says day) and
// customers at midday. The checks: no text of any shop was claimed (its
// window judged under the row's lock, and let go to Twilio) at an instant
// its customer's window forbade; every night customer's first
// text is waiting for their morning; the day customers were texted (the
// delivery check counts them as it counts every lead).

// clockShop is the shop whose texts keep the customer's clock: neither the
// nudge shop, the cap shop nor the quiet and call shop; -1 for none.
func clockShop(shops int) int {
	if shops < 4 {
		return -1
	}
	return 2
}

// middayZone is a zone whose clock reads between 10:00 and 12:00 at
// start: the clock shop's own window stays open through the run, so what
// holds its texts is the customer's clock.
func middayZone(start time.Time) (*time.Location, error) {
	for off := -12; off <= 14; off++ {
		name := fmt.Sprintf("Etc/GMT%+d", -off) // Etc/GMT-3 is UTC+3
		if off == 0 {
			name = "Etc/GMT"
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			return nil, err
		}
		if h := start.In(loc).Hour(); h >= 10 && h < 12 {
			return loc, nil
		}
	}
	return nil, fmt.Errorf("no time zone puts %s at midday", start)
}

// clockRegions are the clock shop's phone regions: countries enough that
// at any hour some customer's clock reads night and some midday.
var clockRegions = []string{"US", "CA", "GB", "AE", "IN", "JP", "AU", "BR"}

// clockNumbers are numbers of one zone each, from Honolulu round to
// Sydney, %d the customer's serial.
var clockNumbers = []string{
	"+1808201%04d",   // Pacific/Honolulu
	"+1907201%04d",   // Alaska: America/Anchorage and Adak
	"+1213201%04d",   // America/Los_Angeles
	"+1303201%04d",   // America/Denver
	"+1312201%04d",   // America/Chicago
	"+1212201%04d",   // America/New_York
	"+1902201%04d",   // America/Halifax
	"+55113550%04d",  // America/Sao_Paulo
	"+442079460%03d", // Europe/London
	"+9714550%04d",   // Asia/Dubai
	"+9198205%05d",   // Asia/Kolkata
	"+8135550%04d",   // Asia/Tokyo
	"+6129250%04d",   // Australia/Sydney
}

// clockStates are addresses of one zone each, for customers whose number
// says one thing and whose address another.
var clockStates = []string{"HI", "AK", "CA", "CO", "IL", "NY", "NS"}

// clockCast is whom the harness plays: a number at night and one at
// midday for the whole run, and a state at night; "" where none is.
type clockCast struct {
	night, day string // number templates (clockNumbers)
	nightState string // a state (clockStates) whose clock reads night
	// nightWindow, dayWindow name the two customers' clocks, for the
	// report.
	nightWindow, dayWindow string
}

// castClock picks, for shop t, a number whose window is closed from start
// to start+span, one whose window is open all that time, and a state
// whose window is closed all that time.
func castClock(t lead.Tenant, start time.Time, span time.Duration) (clockCast, error) {
	var c clockCast
	end := start.Add(span)
	for _, tpl := range clockNumbers {
		number, err := lead.ParsePhoneNumberIn(fmt.Sprintf(tpl, 0), t.Compliance.Regions())
		if err != nil {
			return c, fmt.Errorf("clock number %s: %w", tpl, err)
		}
		w, err := t.TextWindow(lead.RecipientOf("", number))
		if err != nil {
			return c, err
		}
		switch {
		case c.night == "" && closedThroughout(w, start, end):
			c.night, c.nightWindow = tpl, zonesOf(w.To)
		case c.day == "" && openThroughout(w, start, end):
			c.day, c.dayWindow = tpl, zonesOf(w.To)
		}
	}
	for _, state := range clockStates {
		sub, err := lead.ParseSubdivision(state, "")
		if err != nil {
			return c, err
		}
		w, err := t.TextWindow(lead.RecipientOf(sub.Code, ""))
		if err != nil {
			return c, err
		}
		if closedThroughout(w, start, end) {
			c.nightState = state
			break
		}
	}
	return c, nil
}

// zonesOf names the customer's clocks: "Pacific/Honolulu".
func zonesOf(to lead.Recipient) string {
	names := make([]string, len(to.Zones))
	for i, z := range to.Zones {
		names[i] = z.String()
	}
	return strings.Join(names, ", ")
}

// closedThroughout: w does not open in [start, end].
func closedThroughout(w lead.TextWindow, start, end time.Time) bool {
	next, err := w.NextOpening(start)
	return err != nil || next.After(end)
}

// openThroughout: w allows every minute of [start, end].
func openThroughout(w lead.TextWindow, start, end time.Time) bool {
	for at := start; !at.After(end); at = at.Add(time.Minute) {
		if !w.Allows(at) {
			return false
		}
	}
	return w.Allows(end)
}

// clockPlay is what the harness played: the customers it added, by kind.
type clockPlay struct {
	cast                       clockCast
	night, day, nightByAddress []string // E.164 numbers
}

// playClockCustomers adds, every three seconds until ctx ends, a customer
// of the clock shop: in turn one at night, one at midday and one whose
// address is at night while their number is at midday.
func playClockCustomers(ctx context.Context, sb *sandbox.Server, tenants []lead.Tenant, cast clockCast, say func(string, ...any)) clockPlay {
	p := clockPlay{cast: cast}
	i := clockShop(len(tenants))
	if i < 0 {
		return p
	}
	t := tenants[i]
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return p
		case <-tick.C:
		}
		var tpl, state string
		var into *[]string
		switch n % 3 {
		case 0:
			tpl, into = cast.night, &p.night
		case 1:
			tpl, into = cast.day, &p.day
		case 2:
			tpl, state, into = cast.day, cast.nightState, &p.nightByAddress
			if state == "" {
				continue
			}
		}
		if tpl == "" {
			continue
		}
		number := fmt.Sprintf(tpl, n)
		if _, err := sb.AddCRMLeadAt(t.CRMKind, t.CRMLocationID, number, state); err != nil {
			say("error adding a clock customer's lead: %v", err)
			continue
		}
		if e164, err := lead.ParsePhoneNumberIn(number, t.Compliance.Regions()); err == nil {
			*into = append(*into, string(e164))
		}
	}
}

// clockReport is what the clock check found.
type clockReport struct {
	play clockPlay
	// checked: texts at Twilio whose window was judged; outside: those
	// claimed when their customer's window forbade it; worst describes
	// one; longestLag is the longest a text took from its claim to Twilio.
	checked, outside int
	worst            string
	longestLag       time.Duration
	// nightWaiting: night customers (by number or by address) whose first
	// text waits for their morning; nightLeads: those the fleet ingested;
	// nightTexted: texts that reached them.
	nightWaiting, nightLeads, nightTexted int
	// dayTexted: midday customers whose first text went.
	dayTexted int
	// held: leads of any shop whose first text has no outbox row because
	// their window stayed closed from the lead's arrival to the check.
	held map[string]bool
}

// checkClock judges every text at the Twilio fake against its customer's
// window at the instant Twilio got it, and finds the leads whose first
// text still rightly waits for their customer's clock.
func checkClock(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, tenants []lead.Tenant, play clockPlay, now time.Time) (clockReport, error) {
	r := clockReport{play: play, held: map[string]bool{}}
	byID := map[uuid.UUID]lead.Tenant{}
	for _, t := range tenants {
		byID[t.ID] = t
	}
	if err := r.judgeTexts(ctx, pool, sb, byID); err != nil {
		return r, err
	}
	if err := r.findHeld(ctx, pool, byID, now); err != nil {
		return r, err
	}
	err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM river_job j
			WHERE j.kind = 'send_sms' AND j.state = 'scheduled' AND j.args->>'lead_id' = l.id::text AND j.args->>'step' = 'initial'))
		FROM leads l WHERE l.phone = ANY($1)`, keys(play.nightNumbers())).Scan(&r.nightLeads, &r.nightWaiting)
	return r, err
}

// nightNumbers are the customers played at night, by number or address.
func (p clockPlay) nightNumbers() map[string]bool {
	night := map[string]bool{}
	for _, n := range append(append([]string(nil), p.night...), p.nightByAddress...) {
		night[n] = true
	}
	return night
}

// textRow is what the outbox says a text at Twilio was, and of whom.
type textRow struct {
	tenantID     uuid.UUID
	step, region string
	// claimed is when the row was last claimed (sending_at): the instant
	// the worker judged the window under the row's lock and let it go.
	claimed time.Time
}

// judgeTexts matches every text at Twilio to its outbox row (by sid, else
// by number and words: an ambiguous row has no sid) and judges it against
// its customer's window, texts owed at once whatever the hour aside.
func (r *clockReport) judgeTexts(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, byID map[uuid.UUID]lead.Tenant) error {
	bySid, byWords := map[string]textRow{}, map[string]textRow{}
	rows, err := pool.Query(ctx, `SELECT m.tenant_id, m.step, coalesce(m.provider_id, ''), m.to_address, m.body, l.customer_region,
			coalesce(m.sending_at, 'epoch')
		FROM messages m JOIN leads l ON l.id = m.lead_id WHERE m.channel = 'sms'`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var row textRow
		var sid, to, body string
		if err := rows.Scan(&row.tenantID, &row.step, &sid, &to, &body, &row.region, &row.claimed); err != nil {
			rows.Close()
			return err
		}
		if sid != "" {
			bySid[sid] = row
		}
		byWords[to+"\x00"+body] = row
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	night, day := r.play.nightNumbers(), map[string]bool{}
	for _, n := range r.play.day {
		day[n] = true
	}
	for _, m := range sb.Twilio.Messages() {
		row, ok := bySid[m.Sid]
		if !ok {
			row, ok = byWords[m.To+"\x00"+m.Body]
		}
		t, known := byID[row.tenantID]
		step := lead.Step{Name: row.step}
		if _, answer := step.ShopAnswerInbound(); !ok || !known || answer || step.IsHelpAnswer() || step.IsOptOutConfirmation() {
			continue // unknown to the outbox (the delivery check counts those), or owed at once whatever the hour
		}
		w, err := t.TextWindow(lead.RecipientOf(row.region, lead.PhoneNumber(m.To)))
		if err != nil {
			return err
		}
		r.checked++
		if night[m.To] {
			r.nightTexted++
		}
		if day[m.To] && row.step == lead.StepInitial {
			r.dayTexted++
		}
		if !w.Allows(row.claimed) {
			r.outside++
			r.worst = fmt.Sprintf("%s claimed %s (%s)", lead.MaskContacts(m.To), row.claimed.UTC().Format(time.RFC3339), w.Describe())
		}
		r.longestLag = max(r.longestLag, m.CreatedAt.Sub(row.claimed))
	}
	return nil
}

// findHeld finds the leads whose first text has no outbox row (or one the
// claim found the window closed on) and is rightly held: a send job waits
// for it and its window has stayed closed since the lead arrived.
func (r *clockReport) findHeld(ctx context.Context, pool *pgxpool.Pool, byID map[uuid.UUID]lead.Tenant, now time.Time) error {
	leads, err := pool.Query(ctx, `SELECT l.id::text, l.tenant_id, l.phone, l.customer_region, l.created_at
		FROM leads l
		WHERE l.consent_sms AND l.phone <> ''
			-- no row yet, or one the claim found the window closed on
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.lead_id = l.id AND m.channel = 'sms' AND m.step = 'initial'
				AND NOT (m.status = 'pending' AND starts_with(m.last_error, $1)))
			AND EXISTS (SELECT 1 FROM river_job j WHERE j.kind = 'send_sms' AND j.state = 'scheduled' AND j.args->>'lead_id' = l.id::text
				AND j.args->>'step' = 'initial')`,
		lead.WindowHeldPrefix)
	if err != nil {
		return err
	}
	defer leads.Close()
	for leads.Next() {
		var id, phone, region string
		var tenantID uuid.UUID
		var created time.Time
		if err := leads.Scan(&id, &tenantID, &phone, &region, &created); err != nil {
			return err
		}
		t, ok := byID[tenantID]
		if !ok {
			continue
		}
		w, err := t.TextWindow(lead.RecipientOf(region, lead.PhoneNumber(phone)))
		if err != nil {
			return err
		}
		if closedThroughout(w, created, now) {
			r.held[id] = true
		}
	}
	return leads.Err()
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (r clockReport) violations() []bool {
	return []bool{r.outside > 0, r.nightTexted > 0, r.nightWaiting < r.nightLeads}
}

func (r clockReport) print(row func(string, any, bool), info func(string, any)) {
	c := r.play.cast
	show := func(tpl, window string) string {
		if tpl == "" {
			return "none at this hour"
		}
		return fmt.Sprintf(tpl, 0)[:7] + "... (" + window + ")"
	}
	info("clock shop's customers at night", show(c.night, c.nightWindow))
	info("clock shop's customers at midday", show(c.day, c.dayWindow))
	if c.nightState != "" {
		info("clock shop's customers whose address is at night", c.nightState+" (their number at midday)")
	}
	info("customers played at night / by address at night / at midday", fmt.Sprintf("%d / %d / %d", len(r.play.night), len(r.play.nightByAddress), len(r.play.day)))
	info("texts judged against their customer's window", r.checked)
	v := any(r.outside)
	if r.worst != "" {
		v = fmt.Sprintf("%d (%s)", r.outside, r.worst)
	}
	row("texts claimed outside the customer's window", v, r.outside == 0)
	info("longest from a text's claim to Twilio", r.longestLag.Round(time.Millisecond))
	row("texts to customers at night", r.nightTexted, r.nightTexted == 0)
	row("night customers' first texts waiting for their morning", fmt.Sprintf("%d / %d", r.nightWaiting, r.nightLeads), r.nightWaiting == r.nightLeads)
	info("midday customers texted", r.dayTexted)
	info("texts waiting for the customer's clock at the end", len(r.held))
}
