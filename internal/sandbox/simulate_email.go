package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// EmailReply is an email reply the Simulator played: From answered the
// last email it received from a worker, at that email's Reply-To.
type EmailReply struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Text      string `json:"text"`
	Automatic bool   `json:"automatic,omitempty"`
	// Status is what the worker's Inbound Parse route answered.
	Status int    `json:"status"`
	Worker string `json:"worker"`
}

// ReplyByEmail plays an email reply as Inbound Parse delivers it: from
// (a customer, or a shop's notify address) answers the last email it got
// that has a reply address, quoting it as a mail program does; automatic
// makes it an out-of-office (Auto-Submitted: auto-replied). The worker's
// answer is in the result: 200 stored, 404 not a reply address of ours.
func (s *Simulator) ReplyByEmail(ctx context.Context, from, text string, automatic bool) (EmailReply, error) {
	if from == "" {
		return EmailReply{}, fmt.Errorf("%w: from: is required (the address that received the email it answers)", errSimulateInvalid)
	}
	var sent *fakesendgrid.Email
	emails := s.srv.SendGrid.Emails()
	for i := len(emails) - 1; i >= 0; i-- {
		if e := &emails[i]; strings.EqualFold(e.To, from) && e.ReplyTo != "" {
			sent = e
			break
		}
	}
	if sent == nil {
		return EmailReply{}, fmt.Errorf("%w: no email with a reply address was sent to %s (is sendgrid.inbound_public_key set on the workers?)", errSimulateNotFound, from)
	}
	worker, err := s.worker()
	if err != nil {
		return EmailReply{}, err
	}
	m := fakesendgrid.InboundMail{To: sent.ReplyTo, From: sent.To, Subject: "Re: " + sent.Subject,
		Text: text + "\n\nOn " + sent.FromName + " <" + sent.From + "> wrote:\n> " + strings.ReplaceAll(strings.TrimSpace(sent.Text), "\n", "\n> ") + "\n"}
	if automatic {
		m.Subject, m.Headers = "Automatic reply: "+sent.Subject, map[string]string{"Auto-Submitted": "auto-replied"}
	}
	status, err := fakesendgrid.PostInbound(ctx, s.client, webhookurl.URL(worker, webhookurl.SendGridInbound()), m)
	if err != nil {
		return EmailReply{}, fmt.Errorf("%w: %w", errSimulateWorker, err)
	}
	r := EmailReply{From: m.From, To: m.To, Subject: m.Subject, Text: text, Automatic: automatic, Status: status, Worker: worker}
	if status == http.StatusOK {
		s.record(SimulatedEvent{Kind: SimulatedEmailReply, Email: &r})
	}
	return r, nil
}

func (s *Simulator) handleEmailReply(w http.ResponseWriter, r *http.Request) {
	var body struct {
		From      string `json:"from"`
		Text      string `json:"text"`
		Automatic bool   `json:"automatic"`
	}
	if !decodeControl(w, r, &body, `{"from": "...", "text": "...", "automatic": false (optional)}`) {
		return
	}
	reply, err := s.ReplyByEmail(r.Context(), body.From, body.Text, body.Automatic)
	if err != nil {
		writeSimulateError(w, err, nil)
		return
	}
	writeControlJSON(w, http.StatusOK, reply)
}
