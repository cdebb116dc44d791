package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// customerEvents is the console's view of what a person plays through the
// sandbox's customer routes (reply, STOP, START, HELP, bounce, a new
// lead): it follows the sandbox's event feed, prints each event, and then,
// from the database, what the fleet did about it. Before, the console
// showed nothing of a hand-played customer; only the scripted reply scene
// was told. It reads as the owner, like counts.
type customerEvents struct {
	pool    *pgxpool.Pool
	base    string
	tenants []lead.Tenant
	// skip is the reply scene's own text, which the scene reports.
	skip func(sandbox.SimulatedEvent) bool

	after    int64 // the last event seen
	watching []*eventWatch
	invited  bool
}

// eventWatch is an event whose outcome has not shown yet.
type eventWatch struct {
	event sandbox.SimulatedEvent
	// outcome reports what the fleet did, or, with done false, what it
	// has done so far ("" for nothing).
	outcome func(ctx context.Context) (line string, done bool, err error)
	// sofar is the last such report, said if the wait runs out.
	sofar string
}

// eventOutcomeWait is how long the console waits for the fleet to act on
// an event before it says it did not: a worker handles a text within
// seconds (the reply scene's took 2 s).
const eventOutcomeWait = time.Minute

// step reads the events new since the last step and the outcomes that
// showed since, and returns what to print.
func (c *customerEvents) step(ctx context.Context) []string {
	var lines []string
	events, err := c.fetch(ctx)
	if err != nil {
		lines = append(lines, "error following the sandbox's events: "+err.Error())
	}
	for _, e := range events {
		c.after = max(c.after, e.Seq)
		if c.skip != nil && c.skip(e) {
			continue
		}
		line, outcome := c.describe(e)
		lines = append(lines, line)
		if outcome != nil {
			c.watching = append(c.watching, &eventWatch{event: e, outcome: outcome})
		}
	}
	still := c.watching[:0]
	for _, w := range c.watching {
		line, done, err := w.outcome(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			lines = append(lines, "error reading what the fleet did: "+err.Error())
		case done:
			lines = append(lines, "  "+line)
			continue
		case line != "":
			w.sofar = line
		}
		if time.Since(w.event.At) > eventOutcomeWait {
			why := w.sofar
			if why == "" {
				why = "nothing recorded"
			}
			lines = append(lines, fmt.Sprintf("  %s %s after the %s; see the worker logs", why, eventOutcomeWait, w.event.Kind))
			continue
		}
		still = append(still, w)
	}
	c.watching = still
	return lines
}

// fetch asks the sandbox for the events after the last one seen.
func (c *customerEvents) fetch(ctx context.Context) ([]sandbox.SimulatedEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_sandbox/simulate/events?after="+strconv.FormatInt(c.after, 10), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil // the next step asks again
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the sandbox answered %s", resp.Status)
	}
	var got struct {
		Events []sandbox.SimulatedEvent `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return nil, err
	}
	return got.Events, nil
}

// shopName is the demo shop of tenantID, by name.
func (c *customerEvents) shopName(tenantID string) string {
	for _, t := range c.tenants {
		if t.ID.String() == tenantID {
			return t.Name
		}
	}
	return "tenant " + tenantID
}

// describe is the console line of an event and how to learn its outcome.
func (c *customerEvents) describe(e sandbox.SimulatedEvent) (string, func(context.Context) (string, bool, error)) {
	switch {
	case e.Text != nil:
		m := *e.Text
		what := "customer " + strings.ToUpper(e.Kind)
		if e.Kind == sandbox.SimulatedReply {
			what = "customer reply"
		}
		line := fmt.Sprintf("%s (played by hand): %s texts %s %q", what, m.From, c.shopName(m.TenantID), m.Body)
		return line, func(ctx context.Context) (string, bool, error) { return c.textOutcome(ctx, e.Kind, m) }
	case e.Bounce != nil:
		b := *e.Bounce
		line := fmt.Sprintf("email bounce (played by hand): the last email %s sent to %s bounced (%s)", c.shopName(b.TenantID), b.Email, b.Reason)
		return line, func(ctx context.Context) (string, bool, error) { return c.bounceOutcome(ctx, b) }
	case e.Lead != nil:
		a := *e.Lead
		line := fmt.Sprintf("new lead (played by hand): %s's CRM announces %s by webhook", c.shopName(a.TenantID), a.Lead.ExternalID)
		return line, func(ctx context.Context) (string, bool, error) { return c.leadOutcome(ctx, a) }
	}
	return fmt.Sprintf("sandbox event %d: %s", e.Seq, e.Kind), nil
}

// textOutcome reports a customer's text once the worker recorded it, and
// what followed from it.
func (c *customerEvents) textOutcome(ctx context.Context, kind string, m sandbox.DeliveredText) (string, bool, error) {
	tenantID, err := uuid.Parse(m.TenantID)
	if err != nil {
		return "", false, fmt.Errorf("the sandbox's tenant_id %q is not a UUID", m.TenantID)
	}
	var leadID *uuid.UUID
	err = c.pool.QueryRow(ctx, `SELECT lead_id FROM inbound_messages WHERE tenant_id = $1 AND provider_id = $2`,
		tenantID, m.MessageSid).Scan(&leadID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	shop := c.shopName(m.TenantID)
	var leads, replied, cancelled int
	if err := c.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'replied'),
		(SELECT count(*) FROM river_job j WHERE j.kind IN ('send_sms', 'send_email') AND j.state = 'cancelled'
			AND j.args->>'tenant_id' = $3 AND j.args->>'lead_id' IN
			(SELECT id::text FROM leads WHERE tenant_id = $1 AND phone = $2))
		FROM leads WHERE tenant_id = $1 AND phone = $2`, tenantID, m.From, tenantID.String()).Scan(&leads, &replied, &cancelled); err != nil {
		return "", false, err
	}
	switch kind {
	case sandbox.SimulatedReply:
		if leads == 0 {
			return fmt.Sprintf("reply recorded for %s; no lead of the shop has %s, so no sequence to stop", shop, m.From), true, nil
		}
		return fmt.Sprintf("reply recorded: %d of %d leads with %s now replied, their follow-ups stopped (%d steps cancelled)",
			replied, leads, m.From, cancelled), true, nil
	case sandbox.SimulatedStop, sandbox.SimulatedStart:
		var suppressed bool
		if err := c.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE tenant_id = $1 AND channel = 'sms' AND address = $2)`,
			tenantID, m.From).Scan(&suppressed); err != nil {
			return "", false, err
		}
		switch {
		case kind == sandbox.SimulatedStop && suppressed:
			return fmt.Sprintf("opted out: %s is suppressed for %s, no text goes to it (%d pending steps cancelled)",
				m.From, shop, cancelled), true, nil
		case kind == sandbox.SimulatedStart && !suppressed:
			return fmt.Sprintf("opted back in: %s may be texted by %s again", m.From, shop), true, nil
		case suppressed:
			return fmt.Sprintf("START recorded, but %s is still suppressed for %s", m.From, shop), false, nil
		}
		return fmt.Sprintf("STOP recorded, but %s is not suppressed for %s", m.From, shop), false, nil
	case sandbox.SimulatedHelp:
		if leadID == nil {
			return fmt.Sprintf("HELP recorded for %s; no lead of the shop has %s, so nothing was answered", shop, m.From), true, nil
		}
		var status, body, lastError string
		err := c.pool.QueryRow(ctx, `SELECT status, body, last_error FROM messages WHERE tenant_id = $1 AND lead_id = $2 AND step = $3 AND channel = 'sms'`,
			tenantID, *leadID, lead.HelpAnswerStep(m.MessageSid)).Scan(&status, &body, &lastError)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return "", false, nil
		case err != nil:
			return "", false, err
		case status == string(lead.MessageSent) || status == string(lead.MessageDelivered):
			return fmt.Sprintf("HELP answered: %s texted %s %q", shop, m.From, body), true, nil
		case status == string(lead.MessagePending) || status == string(lead.MessageSending):
			return "HELP answer queued, not sent", false, nil
		}
		return fmt.Sprintf("HELP answer not sent: %s %s", status, lastError), true, nil
	}
	return fmt.Sprintf("%s recorded for %s", kind, shop), true, nil
}

// bounceOutcome reports a bounce once the address is suppressed.
func (c *customerEvents) bounceOutcome(ctx context.Context, b sandbox.EmailBounce) (string, bool, error) {
	var source string
	err := c.pool.QueryRow(ctx, `SELECT source FROM suppressions WHERE tenant_id::text = $1 AND channel = 'email' AND lower(address) = lower($2)`,
		b.TenantID, b.Email).Scan(&source)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return fmt.Sprintf("email suppressed: %s sends no more email to %s (%s)", c.shopName(b.TenantID), b.Email, source), true, nil
}

// leadOutcome reports a lead added by hand once its first text went out.
func (c *customerEvents) leadOutcome(ctx context.Context, a sandbox.Announcement) (string, bool, error) {
	var (
		name  string
		texts int
	)
	err := c.pool.QueryRow(ctx, `SELECT l.first_name || ' ' || l.last_name,
		(SELECT count(*) FROM messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id AND m.channel = 'sms' AND m.status IN ('sent', 'delivered'))
		FROM leads l WHERE l.tenant_id::text = $1 AND l.external_id = $2`, a.TenantID, a.Lead.ExternalID).Scan(&name, &texts)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && texts == 0) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return fmt.Sprintf("lead ingested and texted: %s (%s)", name, a.Lead.ExternalID), true, nil
}

// invite returns, once, as soon as a customer has been texted, the
// commands to play that customer by hand, with their real number: the
// README's placeholder number ("+1555...") was refused by the sandbox.
func (c *customerEvents) invite(ctx context.Context) []string {
	if c.invited {
		return nil
	}
	var phone, name, shop string
	err := c.pool.QueryRow(ctx, `SELECT l.phone, l.first_name || ' ' || l.last_name, t.name FROM leads l JOIN tenants t ON t.id = l.tenant_id
		WHERE l.phone <> '' AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id
			AND m.channel = 'sms' AND m.status IN ('sent', 'delivered'))
		ORDER BY l.created_at DESC LIMIT 1`).Scan(&phone, &name, &shop)
	if err != nil {
		return nil // none texted yet (or a passing error): the next tick asks again
	}
	c.invited = true
	return []string{
		fmt.Sprintf("play %s (%s, a customer of %s) yourself; the console shows what the fleet does:", name, phone, shop),
		fmt.Sprintf(`  curl -d '{"from": "%s", "body": "Can you do Friday?"}' %s/_sandbox/simulate/reply`, phone, c.base),
		fmt.Sprintf(`  curl -d '{"from": "%s"}' %s/_sandbox/simulate/stop     (also start, help)`, phone, c.base),
	}
}
