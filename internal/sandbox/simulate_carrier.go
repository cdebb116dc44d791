package sandbox

import (
	"context"
	"fmt"
	"net/http"

	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// CarrierReport is a carrier's verdict played on the last text a worker
// sent to a number.
type CarrierReport struct {
	Number     string `json:"number"`
	MessageSID string `json:"message_sid"`
	// Status and ErrorCode are what Twilio's status callback carried:
	// delivered with 0, or undelivered or failed with the code.
	Status    string `json:"status"`
	ErrorCode int    `json:"error_code"`
	// URL is where the callback went: the text's StatusCallback, else the
	// tenant's status route on a worker.
	URL string `json:"url"`
}

// CarrierVerdict plays the carrier's answer to the last text sent to
// number: code (30006 landline, 30007 filtered as spam, 30034 unregistered
// 10DLC sender, ...; 0 delivered) becomes that message's final status in
// the Twilio fake, and Twilio's signed status callback carries it to the
// worker, as Twilio does after the create was accepted. Later texts to the
// number get the same answer (code 0 lifts it). The callback goes to the
// text's StatusCallback when it has one; otherwise to the status route of
// the registered tenant whose number sent it, on a worker.
func (s *Simulator) CarrierVerdict(ctx context.Context, number string, code int) (CarrierReport, error) {
	if number == "" {
		return CarrierReport{}, fmt.Errorf("%w: number: is required", errSimulateInvalid)
	}
	msgs := s.srv.Twilio.Messages()
	var sent *faketwilio.Message
	for i := len(msgs) - 1; i >= 0 && sent == nil; i-- {
		if msgs[i].To == number {
			sent = &msgs[i]
		}
	}
	if sent == nil {
		return CarrierReport{}, fmt.Errorf("%w: no text to %s is in the Twilio fake", errSimulateNotFound, number)
	}
	url := sent.StatusCallback
	if url == "" {
		tenantID, _, err := s.textedShop(CustomerText{From: number})
		if err != nil {
			return CarrierReport{}, err
		}
		worker, err := s.worker()
		if err != nil {
			return CarrierReport{}, err
		}
		url = webhookurl.URL(worker, webhookurl.TwilioStatus(tenantID))
	}
	s.srv.Twilio.CarrierRefuses(number, code)
	s.srv.Twilio.RefuseMessage(sent.Sid, code)
	r := CarrierReport{Number: number, MessageSID: sent.Sid, Status: faketwilio.FinalStatusFor(code), ErrorCode: code, URL: url}
	if err := faketwilio.PostStatus(ctx, s.client, url, s.srv.Twilio.AuthToken(), sent.Sid, r.Status, code); err != nil {
		return CarrierReport{}, fmt.Errorf("%w: %w", errSimulateWorker, err)
	}
	return r, nil
}

func (s *Simulator) handleCarrier(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Number string `json:"number"`
		Code   int    `json:"code"`
	}
	if !decodeControl(w, r, &body, `{"number": "+1...", "code": 30006}`) {
		return
	}
	report, err := s.CarrierVerdict(r.Context(), body.Number, body.Code)
	if err != nil {
		writeSimulateError(w, err, nil)
		return
	}
	writeControlJSON(w, http.StatusOK, report)
}
