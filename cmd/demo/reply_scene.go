package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// replyAfter is when, after the demo starts, its customer answers.
const replyAfter = 20 * time.Second

// replyText is what the demo's customer answers.
const replyText = "Yes, can you do Tuesday at 9?"

// replyScene is the demo's customer who answers: once replyAfter has
// passed, a lead that got its first text and has follow-ups scheduled
// replies through the sandbox, and the scene reports, from the database
// and the sandbox, the worker recording the reply, cancelling the
// follow-ups and emailing the shop. It reads as the owner, like counts.
type replyScene struct {
	pool    *pgxpool.Pool
	base    string
	tenants []lead.Tenant
	at      time.Time

	// Set once the customer has answered.
	lead      uuid.UUID
	tenant    lead.Tenant
	name      string
	sid       string
	repliedAt time.Time
	pending   int // follow-ups scheduled when the customer answered

	recorded, notified, gaveUp bool
}

// step moves the scene on as far as it can now and returns what to print.
func (s *replyScene) step(ctx context.Context) []string {
	switch {
	case s.notified || s.gaveUp || time.Now().Before(s.at):
		return nil
	case s.sid == "":
		return s.reply(ctx)
	case !s.recorded:
		return s.checkRecorded(ctx)
	default:
		return s.checkNotified(ctx)
	}
}

// reply picks the newest lead that got its first text and still has
// follow-ups scheduled, and has its customer answer.
func (s *replyScene) reply(ctx context.Context) []string {
	ids := make([]string, len(s.tenants))
	for i, t := range s.tenants {
		ids[i] = t.ID.String()
	}
	var (
		tenantID    uuid.UUID
		phone, name string
	)
	err := s.pool.QueryRow(ctx, `SELECT l.id, l.tenant_id, l.phone, l.first_name || ' ' || l.last_name FROM leads l
		WHERE l.tenant_id = ANY($1::uuid[]) AND l.status = 'contacted' AND l.phone <> ''
		AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id
			AND m.channel = 'sms' AND m.status IN ('sent', 'delivered'))
		AND EXISTS (SELECT 1 FROM river_job j WHERE j.kind IN ('send_sms', 'send_email')
			AND j.args->>'lead_id' = l.id::text AND j.state = 'scheduled')
		-- The worker answers the newest lead with the number: a number two
		-- leads share would not show this one stop.
		AND NOT EXISTS (SELECT 1 FROM leads o WHERE o.tenant_id = l.tenant_id AND o.phone = l.phone AND o.id <> l.id)
		ORDER BY l.created_at DESC LIMIT 1`, ids).Scan(&s.lead, &tenantID, &phone, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.giveUpAfter(time.Minute, "no lead has got its first text yet")
	}
	if err != nil {
		return []string{"error picking a lead to reply: " + err.Error()}
	}
	for _, t := range s.tenants {
		if t.ID == tenantID {
			s.tenant = t
		}
	}
	s.name = name
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('send_sms', 'send_email')
		AND args->>'lead_id' = $1 AND state = 'scheduled'`, s.lead.String()).Scan(&s.pending); err != nil {
		return []string{"error counting follow-ups: " + err.Error()}
	}
	body, _ := json.Marshal(map[string]string{"tenant_id": tenantID.String(), "from": phone, "body": replyText})
	status, answer, err := postJSON(ctx, s.base+"/_sandbox/simulate/reply", body)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%d %s", status, answer)
	}
	var sent struct {
		MessageSid string `json:"message_sid"`
	}
	if err == nil {
		err = json.Unmarshal([]byte(answer), &sent)
	}
	if err != nil {
		s.gaveUp = true
		return []string{"the sandbox could not deliver the customer's reply: " + err.Error()}
	}
	s.sid, s.repliedAt = sent.MessageSid, time.Now()
	return []string{fmt.Sprintf("customer reply: %s (%s) texts %s %q; the lead has %d follow-up steps scheduled",
		s.name, phone, s.tenant.Name, replyText, s.pending)}
}

// checkRecorded reports the reply once the worker has recorded it.
func (s *replyScene) checkRecorded(ctx context.Context) []string {
	var (
		status         string
		inbound        int
		scheduled      int
		cancelledSteps []string
	)
	err := s.pool.QueryRow(ctx, `SELECT l.status,
		(SELECT count(*) FROM inbound_messages i WHERE i.tenant_id = l.tenant_id AND i.lead_id = l.id AND i.provider_id = $2),
		(SELECT count(*) FROM river_job j WHERE j.kind IN ('send_sms', 'send_email') AND j.args->>'lead_id' = $3 AND j.state = 'scheduled'),
		(SELECT coalesce(array_agg((j.args->>'step') || ' ' || CASE j.kind WHEN 'send_sms' THEN 'text' ELSE 'email' END
			ORDER BY j.scheduled_at), '{}') FROM river_job j
			WHERE j.kind IN ('send_sms', 'send_email') AND j.args->>'lead_id' = $3 AND j.state = 'cancelled')
		FROM leads l WHERE l.id = $1`, s.lead, s.sid, s.lead.String()).Scan(&status, &inbound, &scheduled, &cancelledSteps)
	if err != nil {
		return []string{"error reading the replied lead: " + err.Error()}
	}
	if status != string(lead.StatusReplied) || inbound == 0 {
		return s.giveUpAfter(time.Minute, "the worker has not recorded the reply (lead status "+status+"); see the worker logs")
	}
	s.recorded = true
	return []string{fmt.Sprintf("reply recorded in %s: lead status replied, reply stored; sequence stopped: %d pending follow-up steps cancelled (%s), %d still scheduled",
		time.Since(s.repliedAt).Round(100*time.Millisecond), len(cancelledSteps), strings.Join(cancelledSteps, ", "), scheduled)}
}

// checkNotified reports the shop's notification email once the sandbox
// has it.
func (s *replyScene) checkNotified(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/_sandbox/messages", nil)
	if err != nil {
		return []string{err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil // the next tick asks again
	}
	defer resp.Body.Close()
	var got struct {
		Emails []struct {
			To      string `json:"to"`
			Subject string `json:"subject"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		return []string{"error reading the sandbox's messages: " + err.Error()}
	}
	for _, e := range got.Emails {
		if e.To == s.tenant.NotifyEmail && e.Subject == "Reply from "+s.name {
			s.notified = true
			return []string{fmt.Sprintf("shop notified: email %q to %s arrived %s after the reply",
				e.Subject, e.To, time.Since(s.repliedAt).Round(100*time.Millisecond))}
		}
	}
	return s.giveUpAfter(time.Minute, "no notification email to "+s.tenant.NotifyEmail+" yet; see the worker logs")
}

// giveUpAfter ends the scene with why, once wait has passed since the
// step it is on could start.
func (s *replyScene) giveUpAfter(wait time.Duration, why string) []string {
	since := s.at
	if !s.repliedAt.IsZero() {
		since = s.repliedAt
	}
	if time.Since(since) < wait {
		return nil
	}
	s.gaveUp = true
	return []string{"reply scene stopped: " + why}
}
