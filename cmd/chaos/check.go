package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// report is what a run found, invariant by invariant (DESIGN.md section 5).
type report struct {
	leadsCreated, leadsIngested, leadsDuplicated, leadsLost int

	texts, emails channelReport

	jobRuns, executionRows, runsUnrecorded int
	// unrecordedSamples describes a few of the jobs counted in
	// runsUnrecorded, for the operator reading a failed run.
	unrecordedSamples []string

	kills, pgRestarts int
	drained           bool

	followUp     followUpReport
	conversation conversationReport
	booking      bookingReport
	textCap      capReport
	clock        clockReport
}

// channelReport counts one channel's messages.
type channelReport struct {
	// due: leads that should get this message (an address and consent).
	due int
	// sent: distinct messages the provider accepted.
	sent int
	// sentTwice: messages the provider accepted more than once.
	sentTwice int
	// ambiguous: held for an operator, the provider's answer unknown.
	ambiguous int
	// undelivered: due but neither sent nor ambiguous (lost, stuck,
	// failed).
	undelivered int
	// unrecorded: accepted by the provider but not recorded as sent (a
	// sent message the outbox does not know about).
	unrecorded int
	// suppressed: due but held back, rightly: the address opted out, or
	// the customer already answered.
	suppressed int
	// waitingForClock: due but waiting, rightly, for the customer's
	// clock to allow a text (texts only).
	waitingForClock int
}

// check counts everything after the drain, invariant by invariant.
func check(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, tenants []lead.Tenant, clock clockPlay) (*report, error) {
	r := &report{}
	if err := r.checkLeads(ctx, pool, sb, tenants); err != nil {
		return nil, err
	}
	var err error
	if r.clock, err = checkClock(ctx, pool, sb, tenants, clock, time.Now()); err != nil {
		return nil, err
	}
	if err := r.checkTexts(ctx, pool, sb); err != nil {
		return nil, err
	}
	if err := r.checkEmails(ctx, pool, sb); err != nil {
		return nil, err
	}
	if err := r.checkExecutions(ctx, pool); err != nil {
		return nil, err
	}
	if r.textCap, err = checkTextCaps(ctx, pool, sb, tenants); err != nil {
		return nil, err
	}
	return r, nil
}

// checkLeads counts the CRMs' leads lost and duplicated.
func (r *report) checkLeads(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server, tenants []lead.Tenant) error {
	// Leads: every CRM lead has exactly one row.
	rows := map[string]int{}
	q, err := pool.Query(ctx, `SELECT l.external_id, t.crm_location_id FROM leads l JOIN tenants t ON t.id = l.tenant_id`)
	if err != nil {
		return err
	}
	for q.Next() {
		var ext, loc string
		if err := q.Scan(&ext, &loc); err != nil {
			return err
		}
		rows[loc+"/"+ext]++
	}
	if err := q.Err(); err != nil {
		return err
	}
	for _, t := range tenants {
		for _, ref := range sb.CRMLeads(t.CRMKind, t.CRMLocationID) {
			r.leadsCreated++
			switch n := rows[t.CRMLocationID+"/"+ref.ExternalID]; {
			case n == 0:
				r.leadsLost++
			case n > 1:
				r.leadsDuplicated += n - 1
			}
		}
	}
	for _, n := range rows {
		r.leadsIngested += n
	}
	return nil
}

// checkTexts counts the texts due, sent, sent twice and unrecorded.
func (r *report) checkTexts(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server) error {
	// Texts: one per lead with a consenting number, at most once at Twilio.
	textStatus, err := messageStatuses(ctx, pool, lead.ChannelSMS)
	if err != nil {
		return err
	}
	// Twilio's messages carry nothing of ours, so a text is known by its
	// number and body. Two leads of one customer (or two customers whose
	// random numbers collide) can each be owed the same words, as a nudge
	// is: a text counts twice only where Twilio has more copies than the
	// outbox has messages that may have gone out (seed 1 of the long form
	// flagged two nudges of two leads of one number).
	seen := map[string]int{}
	bySid := map[string]bool{}
	for _, m := range sb.Twilio.Messages() {
		seen[m.To+"\x00"+m.Body]++
		bySid[m.Sid] = true
	}
	owed, err := textsOwed(ctx, pool)
	if err != nil {
		return err
	}
	discountOwed(seen, owed)
	r.texts, err = channelCounts(ctx, pool, lead.ChannelSMS, `consent_sms AND phone <> ''`, textStatus, len(seen), seen, bySid, r.clock.held)
	if err != nil {
		return err
	}
	return nil
}

// checkEmails counts the emails due, sent, sent twice and unrecorded.
func (r *report) checkEmails(ctx context.Context, pool *pgxpool.Pool, sb *sandbox.Server) error {
	// Emails: one per lead with a subscribed address, at most once at
	// SendGrid (keyed by our message id, which travels in custom args).
	seen := map[string]int{}
	byID := map[string]bool{}
	for _, e := range sb.SendGrid.Emails() {
		seen[e.CustomArgs["message_id"]]++
		byID[e.MessageID] = true
	}
	emailStatus, err := messageStatuses(ctx, pool, lead.ChannelEmail)
	if err != nil {
		return err
	}
	r.emails, err = channelCounts(ctx, pool, lead.ChannelEmail, `consent_email AND email <> ''`, emailStatus, len(seen), seen, byID, nil)
	if err != nil {
		return err
	}
	return nil
}

// checkExecutions counts the finished jobs' runs without exactly one
// execution row, with a few samples.
func (r *report) checkExecutions(ctx context.Context, pool *pgxpool.Pool) error {
	// Every run of every finished job has exactly one execution row. Jobs
	// finished in the last seconds may still have their record queued.
	err := pool.QueryRow(ctx, `
		SELECT coalesce(sum(greatest(j.attempt + coalesce((j.metadata->>'snoozes')::int, 0), cardinality(j.attempted_by))), 0),
			(SELECT count(*) FROM job_executions e JOIN river_job j2 ON j2.id = e.job_id
				WHERE j2.state IN ('completed', 'cancelled', 'discarded') AND j2.finalized_at < now() - interval '2 seconds'),
			count(*) FILTER (WHERE (SELECT count(*) FROM job_executions e WHERE e.job_id = j.id)
				<> greatest(j.attempt + coalesce((j.metadata->>'snoozes')::int, 0), cardinality(j.attempted_by)))
		FROM river_job j
		WHERE j.state IN ('completed', 'cancelled', 'discarded') AND j.finalized_at < now() - interval '2 seconds'`).
		Scan(&r.jobRuns, &r.executionRows, &r.runsUnrecorded)
	if err != nil {
		return err
	}
	if r.runsUnrecorded > 0 {
		q, err := pool.Query(ctx, `
			SELECT format('job %s %s (%s): attempt %s, snoozes %s, rows %s: %s; errors %s', j.id, j.kind, j.state, j.attempt,
				coalesce(j.metadata->>'snoozes', '0'),
				(SELECT string_agg(e.run || '=' || e.outcome, ',' ORDER BY e.run) FROM job_executions e WHERE e.job_id = j.id),
				(SELECT count(*) FROM job_executions e WHERE e.job_id = j.id), coalesce(array_to_string(j.errors, ' | '), ''))
			FROM river_job j
			WHERE j.state IN ('completed', 'cancelled', 'discarded') AND j.finalized_at < now() - interval '2 seconds'
			AND (SELECT count(*) FROM job_executions e WHERE e.job_id = j.id) <> greatest(j.attempt + coalesce((j.metadata->>'snoozes')::int, 0), cardinality(j.attempted_by))
			LIMIT 5`)
		if err != nil {
			return err
		}
		for q.Next() {
			var s string
			if err := q.Scan(&s); err != nil {
				return err
			}
			r.unrecordedSamples = append(r.unrecordedSamples, s)
		}
		if err := q.Err(); err != nil {
			return err
		}
	}
	return nil
}

// discountOwed leaves in copies, the provider's copies of each text, only
// the repeats beyond the owed copies the outbox has: after it, a key with n
// copies means n-1 texts sent twice.
func discountOwed(copies, owed map[string]int) {
	for key, n := range owed {
		if c := copies[key]; c > 1 {
			copies[key] = c - min(n, c) + 1
		}
	}
}

// textsOwed counts the outbox's texts that may be at Twilio (sent,
// delivered or ambiguous) by number and body.
func textsOwed(ctx context.Context, pool *pgxpool.Pool) (map[string]int, error) {
	rows, err := pool.Query(ctx, `SELECT to_address, body, count(*) FROM messages
		WHERE channel = 'sms' AND status IN ('sent', 'delivered', 'ambiguous') GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	owed := map[string]int{}
	for rows.Next() {
		var to, body string
		var n int
		if err := rows.Scan(&to, &body, &n); err != nil {
			return nil, err
		}
		owed[to+"\x00"+body] = n // the key the Twilio fake's texts are counted by
	}
	return owed, rows.Err()
}

// messageStatuses maps each lead's message on ch to its status.
func messageStatuses(ctx context.Context, pool *pgxpool.Pool, ch lead.Channel) (map[string]messageRow, error) {
	// The first step only: it is due for every lead; follow-ups are
	// checked by checkFollowUp.
	rows, err := pool.Query(ctx, `SELECT lead_id::text, id::text, status, coalesce(provider_id, ''), last_error FROM messages
		WHERE channel = $1 AND step = 'initial'`, ch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]messageRow{}
	for rows.Next() {
		var leadID string
		var m messageRow
		if err := rows.Scan(&leadID, &m.id, &m.status, &m.providerID, &m.reason); err != nil {
			return nil, err
		}
		out[leadID] = m
	}
	return out, rows.Err()
}

type messageRow struct {
	id, status, providerID, reason string
}

// channelCounts compares what was due with what the outbox says and what
// the provider got.
func channelCounts(ctx context.Context, pool *pgxpool.Pool, ch lead.Channel, dueWhere string, status map[string]messageRow,
	distinctSent int, perKey map[string]int, providerIDs map[string]bool, waiting map[string]bool) (channelReport, error) {
	var c channelReport
	c.sent = distinctSent
	for _, n := range perKey {
		if n > 1 {
			c.sentTwice += n - 1
		}
	}
	rows, err := pool.Query(ctx, `SELECT id::text FROM leads WHERE `+dueWhere)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var leadID string
		if err := rows.Scan(&leadID); err != nil {
			return c, err
		}
		c.due++
		m, ok := status[leadID]
		switch {
		case waiting[leadID]:
			c.waitingForClock++
		case !ok:
			c.undelivered++
		case m.status == string(lead.MessageAmbiguous):
			c.ambiguous++
		case m.status == string(lead.MessageSuppressed),
			m.status == string(lead.MessageSkipped) && (m.reason == "the customer opted out" || m.reason == "the customer replied" ||
				m.reason == "the customer booked"),
			m.status == string(lead.MessagePending) && strings.HasPrefix(m.reason, lead.TextCapHeldPrefix):
			// The harness texts STOP and replies from numbers that come
			// back as new leads: their first text is rightly held (and
			// one over the number's text cap waits for its window). A
			// customer who booked from the first text before the first
			// email went needs no email answering the inquiry (a 45 s run
			// in .ci/run caught one).
			c.suppressed++
		case m.status == string(lead.MessageSent) || m.status == string(lead.MessageDelivered):
			if !providerIDs[m.providerID] {
				// Recorded as sent under an id the provider never gave.
				c.undelivered++
			}
		default:
			c.undelivered++
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	// Accepted by the provider but not recorded as sent: sent behind the
	// outbox's back, or the record was lost.
	recorded, ambiguousAtProvider, err := recordedAtProvider(ctx, pool, ch, status, providerIDs)
	if err != nil {
		return c, err
	}
	if d := distinctSent - recorded - ambiguousAtProvider; d > 0 {
		c.unrecorded = d
	}
	return c, nil
}

// recordedAtProvider counts ch's messages, first steps and follow-ups,
// recorded as sent under an id the provider gave, and those ambiguous
// (which may or may not be among the provider's).
func recordedAtProvider(ctx context.Context, pool *pgxpool.Pool, ch lead.Channel, status map[string]messageRow,
	providerIDs map[string]bool) (recorded, ambiguousAtProvider int, err error) {
	for _, m := range status {
		if (m.status == string(lead.MessageSent) || m.status == string(lead.MessageDelivered)) && providerIDs[m.providerID] {
			recorded++
		}
	}
	for _, m := range status {
		if m.status == string(lead.MessageAmbiguous) {
			ambiguousAtProvider++ // may or may not be among the provider's
		}
	}
	// Follow-up steps' messages are the provider's too.
	frows, err := pool.Query(ctx, `SELECT coalesce(provider_id, ''), status FROM messages WHERE channel = $1 AND step <> 'initial'`, ch)
	if err != nil {
		return 0, 0, err
	}
	for frows.Next() {
		var id, st string
		if err := frows.Scan(&id, &st); err != nil {
			frows.Close()
			return 0, 0, err
		}
		switch {
		case (st == string(lead.MessageSent) || st == string(lead.MessageDelivered)) && providerIDs[id]:
			recorded++
		case st == string(lead.MessageAmbiguous):
			ambiguousAtProvider++
		}
	}
	frows.Close()
	return recorded, ambiguousAtProvider, frows.Err()
}

func (r *report) violations() int {
	n := 0
	for _, bad := range []bool{
		r.leadsLost > 0, r.leadsDuplicated > 0,
		r.texts.sentTwice > 0, r.texts.undelivered > 0, r.texts.unrecorded > 0,
		r.emails.sentTwice > 0, r.emails.undelivered > 0, r.emails.unrecorded > 0,
		r.runsUnrecorded > 0, !r.drained,
		r.followUp.textsToSuppressed > 0, r.followUp.textsOutsideWindow > 0, r.followUp.nudgesAfterReply > 0,
	} {
		if bad {
			n++
		}
	}
	for _, bad := range slices.Concat(r.conversation.violations(), r.booking.violations(), r.textCap.violations(), r.clock.violations()) {
		if bad {
			n++
		}
	}
	return n
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v any, ok bool) {
		mark := "ok"
		if !ok {
			mark = "VIOLATION"
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t\n", name, v, mark)
	}
	info := func(name string, v any) { fmt.Fprintf(tw, "%s\t%v\t\t\n", name, v) }
	fmt.Fprintln(w)
	info("replicas SIGKILLed", r.kills)
	info("Postgres crash restarts", r.pgRestarts)
	row("fleet drained", r.drained, r.drained)
	info("leads created in the CRM", r.leadsCreated)
	info("leads ingested", r.leadsIngested)
	row("leads duplicated", r.leadsDuplicated, r.leadsDuplicated == 0)
	row("leads lost", r.leadsLost, r.leadsLost == 0)
	for _, c := range []struct {
		name string
		c    channelReport
	}{{"texts", r.texts}, {"emails", r.emails}} {
		info(c.name+" due", c.c.due)
		info(c.name+" sent (distinct at the provider)", c.c.sent)
		row(c.name+" sent twice", c.c.sentTwice, c.c.sentTwice == 0)
		info(c.name+" ambiguous (held for an operator)", c.c.ambiguous)
		held := c.name + " held back (customer opted out or replied)"
		if c.name == "texts" {
			held = "texts held back (opted out, replied, or over the text cap)"
		}
		info(held, c.c.suppressed)
		if c.name == "texts" {
			info("texts waiting for the customer's clock", c.c.waitingForClock)
		}
		row(c.name+" due but not sent or held", c.c.undelivered, c.c.undelivered == 0)
		row(c.name+" sent but not recorded", c.c.unrecorded, c.c.unrecorded == 0)
	}
	fu := r.followUp
	info("replies texted / recorded", fmt.Sprintf("%d / %d", fu.repliesSent, fu.repliesRecorded))
	info("follow-up texts sent (nudge, no reply)", fu.nudgesSent)
	row("follow-up texts after a reply", fu.nudgesAfterReply, fu.nudgesAfterReply == 0)
	info("STOPs texted / recorded", fmt.Sprintf("%d / %d", fu.stopsSent, fu.stopsRecorded))
	row("texts to a number after its STOP", fu.textsToSuppressed, fu.textsToSuppressed == 0)
	info("texts that waited for the quiet shop's window", fmt.Sprintf("%d (window %s, %s)", fu.textsWaitedForWindow, fu.quietWindow, fu.quietTimeZone))
	row("texts sent in quiet hours", fu.textsOutsideWindow, fu.textsOutsideWindow == 0)
	r.conversation.print(row, info)
	r.booking.print(row, info)
	r.textCap.print(row, info)
	r.clock.print(row, info)
	info("job runs (finished jobs)", r.jobRuns)
	info("execution rows of those jobs", r.executionRows)
	row("runs without exactly one row", r.runsUnrecorded, r.runsUnrecorded == 0)
	tw.Flush()
	for _, s := range r.unrecordedSamples {
		fmt.Fprintln(w, "  ", s)
	}
}
