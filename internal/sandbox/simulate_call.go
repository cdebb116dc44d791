package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// CustomerCall is a call a customer makes to a shop's number. TenantID or
// ShopNumber names the shop, as for a CustomerText (with neither, the
// customer calls back the shop whose number last texted them). Answer is how the
// forward to the shop's phone ends: completed (someone, or the phone's
// voicemail, picked up), busy, no-answer, failed or canceled; empty is
// no-answer.
type CustomerCall struct {
	TenantID   string `json:"tenant_id"`
	ShopNumber string `json:"shop_number"`
	From       string `json:"from"`
	Answer     string `json:"answer"`
}

// PlayedCall is a CustomerCall as Twilio played it against a worker.
type PlayedCall struct {
	TenantID string `json:"tenant_id"`
	faketwilio.PlayedCall
	Worker string `json:"worker"`
}

// SimulatedCall is the kind of SimulatedEvent of a played call.
const SimulatedCall = "call"

// Call plays a customer calling the shop's number on the tenant's Twilio
// voice route (signed with the account's auth token over the exact URL
// called): the worker's TwiML forwards the call, and the forward's outcome
// (m.Answer) goes to the <Dial action> it named.
func (s *Simulator) Call(ctx context.Context, m CustomerCall) (PlayedCall, error) {
	if m.Answer == "" {
		m.Answer = "no-answer"
	}
	if !slices.Contains(faketwilio.DialAnswers, m.Answer) {
		return PlayedCall{}, fmt.Errorf("%w: answer: want one of %s, got %q", errSimulateInvalid, strings.Join(faketwilio.DialAnswers, ", "), m.Answer)
	}
	if !faketwilio.IsE164(m.From) {
		return PlayedCall{}, fmt.Errorf("%w: from: want the caller's number in E.164 (+15125550123), got %q", errSimulateInvalid, m.From)
	}
	if m.ShopNumber != "" && !faketwilio.IsE164(m.ShopNumber) {
		return PlayedCall{}, fmt.Errorf("%w: shop_number: want E.164 (+15125550100), got %q", errSimulateInvalid, m.ShopNumber)
	}
	tenantID, to, err := s.textedShop(CustomerText{TenantID: m.TenantID, ShopNumber: m.ShopNumber, From: m.From})
	if err != nil {
		return PlayedCall{}, err
	}
	worker, err := s.worker()
	if err != nil {
		return PlayedCall{}, err
	}
	played, err := faketwilio.PlayCall(ctx, s.client, webhookurl.URL(worker, webhookurl.TwilioVoice(tenantID)), s.srv.Twilio.AuthToken(), m.From, to, m.Answer)
	if err != nil {
		return PlayedCall{}, fmt.Errorf("%w: %w", errSimulateWorker, err)
	}
	p := PlayedCall{TenantID: tenantID, PlayedCall: played, Worker: worker}
	s.record(SimulatedEvent{Kind: SimulatedCall, Call: &p})
	return p, nil
}

// handleCall answers POST /_sandbox/simulate/call.
func (s *Simulator) handleCall(w http.ResponseWriter, r *http.Request) {
	var m CustomerCall
	if !decodeControl(w, r, &m, `{"tenant_id" or "shop_number" (optional), "from": "+1...", "answer": "no-answer" (or completed, busy, failed, canceled)}`) {
		return
	}
	p, err := s.Call(r.Context(), m)
	if err != nil {
		writeSimulateError(w, err, nil)
		return
	}
	writeControlJSON(w, http.StatusOK, p)
}
