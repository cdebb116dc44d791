package faketwilio

// Carrier verdicts, as Twilio reports them: a number Twilio already knows
// is not a mobile one is refused at create (400, code 21614), before any
// message exists; what the carrier decides (a landline, spam filtering, an
// unregistered 10DLC sender) comes later, as the message's final status
// (undelivered or failed) with an ErrorCode, on the message resource and in
// the status callback.

// Landline records that Twilio knows number is not a mobile number: every
// message to it is refused at create with 21614.
func (t *API) Landline(number string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.landlines[number] = true
}

// CarrierRefuses makes the carrier refuse every later message to number
// with code (30006 landline, 30007 filtered, 30034 unregistered 10DLC,
// ...): the create is accepted as Twilio accepts it, and the message then
// reads as undelivered (failed for 30034, which Twilio never hands to a
// carrier) with that error code. Code 0 lifts it.
func (t *API) CarrierRefuses(number string, code int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if code == 0 {
		delete(t.refusals, number)
		return
	}
	t.refusals[number] = code
}

// RefuseMessage makes the carrier refuse the message sid, already
// accepted, with code (0: delivered after all). It reports whether the fake
// holds the message.
func (t *API) RefuseMessage(sid string, code int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.messages {
		if t.messages[i].Sid == sid {
			t.messages[i].errorCode = code
			return true
		}
	}
	return false
}

// FinalStatusFor is the final status Twilio reports with code: delivered
// for 0, failed when Twilio itself refused to hand the message on (30032,
// 30034: an unregistered or unverified sender), undelivered when the
// carrier refused it.
func FinalStatusFor(code int) string {
	status, _ := finalStatusOf(code)
	return status
}

// FinalStatus is the status and error code Twilio's last status callback
// for the message sid carries: delivered with 0, or what CarrierRefuses
// set when the message was created. ok is false for an unknown sid. Tests
// post it with PostStatus, as Twilio would.
func (t *API) FinalStatus(sid string) (status string, errorCode int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range t.messages {
		if m.Sid == sid {
			status, errorCode = finalStatusOf(m.errorCode)
			return status, errorCode, true
		}
	}
	return "", 0, false
}

// finalStatusOf is a message's final status for its error code: failed
// when Twilio itself refused to hand it on (an unregistered or unverified
// sender), undelivered when the carrier did.
func finalStatusOf(code int) (string, int) {
	switch code {
	case 0:
		return "delivered", 0
	case 30032, 30034:
		return "failed", code
	}
	return "undelivered", code
}
