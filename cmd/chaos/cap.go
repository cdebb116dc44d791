package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// The text cap under fire: claims of texts to one number race on every
// replica while replicas die and Postgres restarts. The check: no number
// received more of its shop's capped texts (solicitations,
// lead.Step.CountsTowardTextCap) in any window of the shop's cap than the
// cap allows, counted at the Twilio fake, which sees every text that went
// whatever the outbox recorded.

// repeatBurst is how many requests a repeat customer makes at once: more
// than the default cap of 3, so their first answers race for its places.
const repeatBurst = 5

// capShop is the shop whose repeat customers the harness plays (neither
// the nudge shop nor the quiet and call shop), -1 for none.
func capShop(shops int) int {
	if shops < 3 {
		return -1
	}
	return 1
}

// playRepeatCustomers makes, every four seconds until ctx ends, one new
// customer of the cap shop ask repeatBurst times at once (repeatBurst
// leads with one number): their first answers are claimed concurrently on
// every replica, and at most the cap of them may go. It returns the
// customers played.
func playRepeatCustomers(ctx context.Context, sb *sandbox.Server, tenants []lead.Tenant, say func(string, ...any)) int {
	i := capShop(len(tenants))
	if i < 0 {
		return 0
	}
	t := tenants[i]
	tick := time.NewTicker(4 * time.Second)
	defer tick.Stop()
	for played := 0; ; {
		select {
		case <-ctx.Done():
			return played
		case <-tick.C:
		}
		number := fmt.Sprintf("+1512554%04d", played)
		for range repeatBurst {
			if _, err := sb.AddCRMLeadPhone(t.CRMKind, t.CRMLocationID, number); err != nil {
				say("error adding a repeat customer's lead: %v", err)
			}
		}
		played++
	}
}

// capReport is what the text cap check found.
type capReport struct {
	// repeatCustomers: customers who asked repeatBurst times at once.
	repeatCustomers int
	// counted: texts at Twilio the cap counts; held: texts the cap still
	// holds back at the end (pending, to go when the window has room).
	counted, held int
	// numbersOverCap: numbers of a shop that got more capped texts in
	// one window than its cap; worst describes the worst of them.
	numbersOverCap int
	worst          string
}

// capRow is what the outbox says a text at Twilio was.
type capRow struct {
	tenantID uuid.UUID
	step     string
}

// checkTextCaps matches every text at the Twilio fake to its outbox row
// (by the provider's sid, else by number and words: an ambiguous row has
// no sid) and counts, per shop and number, the capped ones in a sliding
// window of the shop's cap.
func checkTextCaps(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, tenants []lead.Tenant) (capReport, error) {
	var r capReport
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE channel = 'sms' AND status = 'pending' AND starts_with(last_error, $1)`,
		lead.TextCapHeldPrefix).Scan(&r.held); err != nil {
		return r, err
	}
	bySid, byWords := map[string]capRow{}, map[string]capRow{}
	rows, err := pool.Query(ctx, `SELECT tenant_id, step, coalesce(provider_id, ''), to_address, body FROM messages WHERE channel = 'sms'`)
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var row capRow
		var sid, to, body string
		if err := rows.Scan(&row.tenantID, &row.step, &sid, &to, &body); err != nil {
			rows.Close()
			return r, err
		}
		if sid != "" {
			bySid[sid] = row
		}
		byWords[to+"\x00"+body] = row
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	type shopNumber struct {
		tenantID uuid.UUID
		number   string
	}
	times := map[shopNumber][]time.Time{}
	for _, m := range sb.Twilio.Messages() {
		row, ok := bySid[m.Sid]
		if !ok {
			row, ok = byWords[m.To+"\x00"+m.Body]
		}
		if !ok || !(lead.Step{Name: row.step}).CountsTowardTextCap() {
			continue
		}
		r.counted++
		key := shopNumber{tenantID: row.tenantID, number: m.To}
		times[key] = append(times[key], m.CreatedAt)
	}
	caps := map[uuid.UUID]lead.TextCap{}
	for _, t := range tenants {
		caps[t.ID] = t.Compliance.TextCap.Effective()
	}
	worst := 0
	for key, ts := range times {
		c := caps[key.tenantID].Effective()
		if n := mostInWindow(ts, c.Window()); n > c.Texts {
			r.numbersOverCap++
			if n > worst {
				worst, r.worst = n, fmt.Sprintf("%s got %d texts in %dh (cap %s)", lead.MaskContacts(key.number), n, c.WindowHours, c)
			}
		}
	}
	return r, nil
}

// mostInWindow is the most of ts that fall in any window of length w.
func mostInWindow(ts []time.Time, w time.Duration) int {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	most, first := 0, 0
	for last := range ts {
		for ts[last].Sub(ts[first]) >= w {
			first++
		}
		most = max(most, last-first+1)
	}
	return most
}

func (r capReport) violations() []bool {
	return []bool{r.numbersOverCap > 0}
}

func (r capReport) print(row func(string, any, bool), info func(string, any)) {
	info(fmt.Sprintf("repeat customers played (%d requests at once each)", repeatBurst), r.repeatCustomers)
	info("capped texts at Twilio / held by the cap at the end", fmt.Sprintf("%d / %d", r.counted, r.held))
	v := any(r.numbersOverCap)
	if r.worst != "" {
		v = fmt.Sprintf("%d (%s)", r.numbersOverCap, r.worst)
	}
	row("numbers over their shop's text cap", v, r.numbersOverCap == 0)
}
