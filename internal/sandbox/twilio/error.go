package faketwilio

import (
	"fmt"
	"net/http"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// apiError is Twilio's JSON error body; twilio-go decodes it into
// client.TwilioRestError.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// writeError answers Twilio's JSON error shape.
func (t *API) writeError(w http.ResponseWriter, status, code int, msg string) {
	t.writeJSON(w, status, apiError{
		Code:     code,
		Message:  msg,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		Status:   status,
	})
}

// writeNotFound answers Twilio's 20404 for an unknown resource.
func (t *API) writeNotFound(w http.ResponseWriter, r *http.Request) {
	t.writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
}

// writeFault answers an injected fault the way Twilio or the gateway in
// front of it does.
func (t *API) writeFault(w http.ResponseWriter, f fake.Fault) {
	if f.RetryAfter > 0 {
		fake.SetRetryAfter(w.Header(), f.RetryAfter)
	}
	if f.EmptyBody {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(f.Status)
		return
	}
	code, msg := f.Code, http.StatusText(f.Status)
	if code == 0 {
		switch {
		case f.Status == http.StatusTooManyRequests:
			code = 20429
		case f.Status >= 500:
			code = 20500
		default:
			code = f.Status
		}
	}
	if m, ok := errorMessage(code); ok {
		msg = m
	}
	t.writeError(w, f.Status, code, msg)
}

// errorMessage returns Twilio's message for the codes faults
// usually inject, ok false for others.
func errorMessage(code int) (msg string, ok bool) {
	switch code {
	case 20003:
		return "Authenticate", true
	case 20429:
		return "Too Many Requests", true
	case 20500:
		return "Internal Server Error", true
	case 20503:
		return "Service Unavailable", true
	case 21211:
		return "Invalid 'To' Phone Number", true
	case 21408:
		return "Permission to send an SMS has not been enabled for the region indicated by the 'To' number", true
	case 21606:
		return "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account", true
	case 21610:
		return "Attempt to send to unsubscribed recipient", true
	case 21612:
		return "The 'To' phone number is not currently reachable via SMS", true
	case 21614:
		return "'To' number is not a valid mobile number", true
	}
	return "", false
}

// twilioJSON answers as Twilio does, with a Content-Length.
var twilioJSON = fake.JSONWriter{ContentType: "application/json; charset=utf-8", ContentLength: true, Verbatim: true}

// writeJSON answers v as JSON.
func (t *API) writeJSON(w http.ResponseWriter, status int, v any) { twilioJSON.Write(w, status, v) }
