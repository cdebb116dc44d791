package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// The demo's scripted conversation after the text reply: a customer
// answers the email, the shop answers that from its inbox, and a caller
// the shop misses gets a text.
const (
	emailReplyAfter = 35 * time.Second
	callAfter       = 50 * time.Second
	emailReplyText  = "Could you do Thursday afternoon instead?"
	shopAnswerText  = "Thursday at 2pm works, see you then!"
	demoCaller      = "+15125550199"
)

// conversationScene plays and reports the email reply, the shop's answer
// and the missed call, each as it happens, from the database (as the
// owner, like counts) and the sandbox.
type conversationScene struct {
	pool    *pgxpool.Pool
	base    string
	tenants []lead.Tenant
	start   time.Time
	// skip is the text reply scene's lead, which stopped already.
	skip func() uuid.UUID

	lead               uuid.UUID
	tenant             lead.Tenant
	name, phone, email string
	repliedAt          time.Time
	pending            int

	stage     int // 0 wait, 1 replied, 2 recorded, 3 answered, 4 texted (done)
	callStage int // 0 wait, 1 called, 2 texted (done)
	calledAt  time.Time
	gaveUp    bool
}

// step moves both parts on as far as they can now and returns what to
// print.
func (s *conversationScene) step(ctx context.Context) []string {
	var out []string
	if !s.gaveUp {
		out = append(out, s.emailStep(ctx)...)
	}
	out = append(out, s.callStep(ctx)...)
	return out
}

func (s *conversationScene) emailStep(ctx context.Context) []string {
	switch s.stage {
	case 0:
		if time.Since(s.start) < emailReplyAfter {
			return nil
		}
		return s.replyByEmail(ctx)
	case 1:
		var status string
		var cancelled int
		err := s.pool.QueryRow(ctx, `SELECT l.status,
			(SELECT count(*) FROM river_job j WHERE j.kind IN ('send_sms', 'send_email') AND j.args->>'lead_id' = $2 AND j.state = 'cancelled')
			FROM leads l WHERE l.id = $1`, s.lead, s.lead.String()).Scan(&status, &cancelled)
		if err != nil || status != string(lead.StatusReplied) {
			return s.giveUpAfter(s.repliedAt, "the worker has not recorded the email reply; see the worker logs")
		}
		s.stage = 2
		return []string{fmt.Sprintf("email reply recorded in %s: lead replied, %d follow-up steps cancelled, %s told by email",
			time.Since(s.repliedAt).Round(100*time.Millisecond), cancelled, s.tenant.NotifyEmail)}
	case 2:
		var notices int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM reply_addresses WHERE lead_id = $1 AND purpose = 'shop'`, s.lead).Scan(&notices); err != nil || notices == 0 {
			return s.giveUpAfter(s.repliedAt, "no notice with a reply address went to the shop; see the worker logs")
		}
		status, answer, err := s.post(ctx, "/_sandbox/simulate/email-reply", map[string]any{"from": s.tenant.NotifyEmail, "text": shopAnswerText})
		if err != nil || status != http.StatusOK {
			s.gaveUp = true
			return []string{fmt.Sprintf("the sandbox could not deliver the shop's answer: %d %s %v", status, answer, err)}
		}
		s.stage = 3
		return []string{fmt.Sprintf("shop answers from its inbox: %s replies to the notice %q", s.tenant.NotifyEmail, shopAnswerText)}
	case 3:
		var body string
		err := s.pool.QueryRow(ctx, `SELECT body FROM messages WHERE lead_id = $1 AND step LIKE 'answer-%' AND status IN ('sent', 'delivered')`, s.lead).Scan(&body)
		if err != nil {
			return s.giveUpAfter(s.repliedAt, "the shop's answer has not been texted; see the worker logs")
		}
		s.stage = 4
		return []string{fmt.Sprintf("customer receives the shop's answer as a text to %s: %q", s.phone, body)}
	}
	return nil
}

// replyByEmail picks a lead that got its first email (with a reply
// address) and still has follow-ups scheduled, and has its customer
// answer it.
func (s *conversationScene) replyByEmail(ctx context.Context) []string {
	ids := make([]string, len(s.tenants))
	for i, t := range s.tenants {
		ids[i] = t.ID.String()
	}
	var tenantID uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT l.id, l.tenant_id, l.phone, l.email, l.first_name || ' ' || l.last_name FROM leads l
		WHERE l.tenant_id = ANY($1::uuid[]) AND l.status = 'contacted' AND l.email <> '' AND l.phone <> '' AND l.id <> $2
		AND EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id
			AND m.channel = 'email' AND m.reply_to <> '' AND m.status IN ('sent', 'delivered'))
		AND EXISTS (SELECT 1 FROM river_job j WHERE j.kind IN ('send_sms', 'send_email')
			AND j.args->>'lead_id' = l.id::text AND j.state = 'scheduled')
		AND NOT EXISTS (SELECT 1 FROM leads o WHERE o.tenant_id = l.tenant_id AND (o.phone = l.phone OR o.email = l.email) AND o.id <> l.id)
		ORDER BY l.created_at DESC LIMIT 1`, ids, s.skip()).Scan(&s.lead, &tenantID, &s.phone, &s.email, &s.name)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.giveUpAfter(s.start.Add(emailReplyAfter), "no lead has got its first email yet")
	}
	if err != nil {
		return []string{"error picking a lead to answer by email: " + err.Error()}
	}
	for _, t := range s.tenants {
		if t.ID == tenantID {
			s.tenant = t
		}
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind IN ('send_sms', 'send_email')
		AND args->>'lead_id' = $1 AND state = 'scheduled'`, s.lead.String()).Scan(&s.pending); err != nil {
		return []string{"error counting follow-ups: " + err.Error()}
	}
	status, answer, err := s.post(ctx, "/_sandbox/simulate/email-reply", map[string]any{"from": s.email, "text": emailReplyText})
	if err != nil || status != http.StatusOK {
		s.gaveUp = true
		return []string{fmt.Sprintf("the sandbox could not deliver the customer's email reply: %d %s %v", status, answer, err)}
	}
	s.repliedAt, s.stage = time.Now(), 1
	return []string{fmt.Sprintf("customer email reply: %s (%s) answers %s's email %q; the lead has %d follow-up steps scheduled",
		s.name, lead.MaskEmail(s.email), s.tenant.Name, emailReplyText, s.pending)}
}

// callStep plays a caller the first shop misses, and reports the lead and
// the text the call became.
func (s *conversationScene) callStep(ctx context.Context) []string {
	switch s.callStage {
	case 0:
		if time.Since(s.start) < callAfter || len(s.tenants) == 0 {
			return nil
		}
		t := s.tenants[0]
		status, answer, err := s.post(ctx, "/_sandbox/simulate/call", map[string]any{"tenant_id": t.ID.String(), "from": demoCaller, "answer": "no-answer"})
		if err != nil || status != http.StatusOK {
			s.callStage = 2
			return []string{fmt.Sprintf("the sandbox could not play the call: %d %s %v", status, answer, err)}
		}
		s.callStage, s.calledAt = 1, time.Now()
		return []string{fmt.Sprintf("missed call: %s calls %s (%s); the shop's phone rings and nobody answers", demoCaller, t.Name, t.SMSFrom)}
	case 1:
		var source, body string
		err := s.pool.QueryRow(ctx, `SELECT l.source, m.body FROM leads l JOIN messages m ON m.lead_id = l.id
			WHERE l.tenant_id = $1 AND l.phone = $2 AND m.step LIKE 'missed-call-%' AND m.status IN ('sent', 'delivered')`,
			s.tenants[0].ID, demoCaller).Scan(&source, &body)
		if err != nil {
			if time.Since(s.calledAt) > time.Minute {
				s.callStage = 2
				return []string{"call scene stopped: no missed-call text after a minute; see the worker logs"}
			}
			return nil
		}
		s.callStage = 2
		return []string{fmt.Sprintf("missed call became a lead (source %s) in %s and the caller was texted: %q",
			source, time.Since(s.calledAt).Round(100*time.Millisecond), body)}
	}
	return nil
}

func (s *conversationScene) post(ctx context.Context, path string, v map[string]any) (int, string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, "", err
	}
	return postJSON(ctx, s.base+path, body)
}

// giveUpAfter ends the email part with why, a minute after since.
func (s *conversationScene) giveUpAfter(since time.Time, why string) []string {
	if time.Since(since) < time.Minute {
		return nil
	}
	s.gaveUp = true
	return []string{"email scene stopped: " + why}
}
