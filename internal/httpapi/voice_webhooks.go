package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// ringShopFor is how long a forwarded call rings the shop's phone before
// it counts as missed (Twilio's <Dial timeout>; its default is 30 s). It
// is kept short of the usual 25-30 s after which a phone's own voicemail
// picks up: Twilio reports a voicemail that answered as completed, an
// answered call, so a caller who reached it is not texted.
const ringShopFor = 20 * time.Second

// What the caller hears when nobody takes the call. Neither promises a
// text: the caller may have opted out, or been texted in the last day.
const (
	sayMissed = "Sorry we missed your call. We will get back to you as soon as we can. Goodbye."
	sayNoShop = "Sorry, %s cannot take your call right now. We will get back to you as soon as we can. Goodbye."
)

// handleVoiceCall answers a call to the shop's Twilio number: it records
// the call and forwards it to the shop's phone, asking Twilio to report
// the outcome to the dial route. A shop without a phone set cannot take
// the call: the caller hears so and the call counts as missed at once.
func (wr *webhookRoutes) handleVoiceCall() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, u, body, ok := wr.smsRequest(w, r, webhookurl.TwilioVoice)
		if !ok {
			return
		}
		c, err := wr.voice.ParseCall(u, r.Header, body)
		if err != nil {
			refuseParsed(w, r, wr.logger, "twilio_voice", t.ID, err)
			return
		}
		if !calledShop(w, r, t, c) {
			return
		}
		if t.ShopPhone == "" {
			if err := wr.calls.CallStarted(r.Context(), t.ID, c, true); err != nil {
				wr.callNotStored(w, r, err)
				return
			}
			wr.writeVoice(w, r)(wr.voice.SayAndHangUp(fmt.Sprintf(sayNoShop, t.Name)))
			return
		}
		if err := wr.calls.CallStarted(r.Context(), t.ID, c, false); err != nil {
			// The caller still reaches the shop: the dial callback records
			// the call if this could not (CallEnded stores a call it has
			// not seen).
			wr.logger.ErrorContext(r.Context(), "error recording a call; forwarding it anyway", slog.String("error", err.Error()))
		}
		callerID := c.From
		if c.CallerWithheld {
			callerID = "" // Twilio shows the shop's own number
		}
		action := webhookurl.URL(wr.publicURL, webhookurl.TwilioVoiceDial(t.ID.String()))
		wr.writeVoice(w, r)(wr.voice.ForwardCall(t.ShopPhone, callerID, action, ringShopFor))
	})
}

// handleVoiceDial takes Twilio's report of how the forward ended: it
// records it (a missed call's handling is enqueued with it) and tells
// Twilio to end the call, with an apology when nobody answered.
func (wr *webhookRoutes) handleVoiceDial() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, u, body, ok := wr.smsRequest(w, r, webhookurl.TwilioVoiceDial)
		if !ok {
			return
		}
		d, err := wr.voice.ParseDial(u, r.Header, body)
		if err != nil {
			refuseParsed(w, r, wr.logger, "twilio_voice_dial", t.ID, err)
			return
		}
		if !calledShop(w, r, t, d.VoiceCall) {
			return
		}
		if err := wr.calls.CallEnded(r.Context(), t.ID, d); err != nil {
			wr.callNotStored(w, r, err)
			return
		}
		say := ""
		if d.Missed() {
			say = sayMissed
		}
		wr.writeVoice(w, r)(wr.voice.SayAndHangUp(say))
	})
}

// calledShop refuses a verified call to a number that is not the tenant's
// own (when the tenant texts from one number; a Messaging Service's pool
// has no one number to compare with): another number's Voice URL pointed
// at this shop's route would forward strangers' calls to its phone and
// make its leads of them. It answers 400 naming the field, counted as an
// unknown tenant, and stores nothing.
func calledShop(w http.ResponseWriter, r *http.Request, t lead.Tenant, c messaging.VoiceCall) bool {
	if t.SMSFrom == "" || c.To == t.SMSFrom {
		return true
	}
	noteRefusal(r, metrics.ReasonUnknownTenant)
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "field To: is not this shop's number"})
	return false
}

// writeVoice returns what writes a voice answer, or a 500 when it could
// not be written.
func (wr *webhookRoutes) writeVoice(w http.ResponseWriter, r *http.Request) func(messaging.VoiceAnswer, error) {
	return func(a messaging.VoiceAnswer, err error) {
		if err != nil {
			wr.logger.ErrorContext(r.Context(), "error writing a voice answer", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not answer"})
			return
		}
		w.Header().Set("Content-Type", a.ContentType)
		_, _ = w.Write(a.Body)
	}
}

// callNotStored answers a call the intake could not store with 500.
func (wr *webhookRoutes) callNotStored(w http.ResponseWriter, r *http.Request, err error) {
	wr.logger.ErrorContext(r.Context(), "error storing a call", slog.String("error", err.Error()))
	writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store; redeliver"})
}
