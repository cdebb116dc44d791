package lead

import (
	"fmt"
	"time"
)

// ConsentPolicy is a tenant's choice about which messages may go to a
// customer whose CRM record shows no consent for the channel. Its zero
// value is the safe one (every message needs consent), so a tenant built
// without it, in code or a test, never texts without consent by accident.
type ConsentPolicy struct {
	// AllowFirstReplyWithoutConsent lets the initial step (StepInitial)
	// go without consent for its channel: it answers an inquiry the
	// customer made themselves, with the contact details they gave for
	// it, which the shop (and its counsel) may judge enough. Follow-ups
	// are solicitations and always need consent.
	AllowFirstReplyWithoutConsent bool
}

// SkipReason says why the initial message on channel ch must not be sent
// now, or "" when it may, under the safe consent policy (consent always
// needed). It is SkipReasonFor for callers that do not know the step.
func SkipReason(l Lead, ch Channel, suppressed bool) string {
	return SkipReasonFor(l, Step{Name: StepInitial, Channel: ch}, suppressed, ConsentPolicy{})
}

// SkipReasonFor says why step must not be sent to lead l now, or "" when
// it may. The reason is recorded on the message, so it is a sentence an
// operator understands. The rules are checked again at send time, however
// long ago the step was scheduled: the customer may have replied, booked or
// opted out since. In order:
//
//   - the lead's status stops the sequence (replied, booked, opted out,
//     closed);
//   - the address is suppressed (suppressed comes from the tenant's list);
//   - a no_reply step, and the customer has replied at some point;
//   - the lead has no address on the step's channel;
//   - the customer has not consented to the channel, and the step needs
//     it: every follow-up does, the initial step unless policy allows it.
//
// An unknown channel or condition is a reason too: a guard that does not
// understand a message does not let it through.
func SkipReasonFor(l Lead, step Step, suppressed bool, policy ConsentPolicy) string {
	if reason, oneOff := oneOffSkipReason(l, step, suppressed, policy); oneOff {
		return reason
	}
	switch l.Status {
	case StatusReplied:
		return "the customer replied"
	case StatusBooked:
		return "the customer booked"
	case StatusOptedOut:
		return "the customer opted out"
	case StatusClosed:
		return "the lead is closed"
	}
	if suppressed {
		return "the address is on the tenant's suppression list"
	}
	switch step.Condition {
	case ConditionAlways:
	case ConditionNoReply:
		if !l.RepliedAt.IsZero() {
			return fmt.Sprintf("the customer replied on %s and step %s goes only to customers who have not",
				l.RepliedAt.UTC().Format(time.RFC3339), quote(step.Name))
		}
	default:
		return fmt.Sprintf("step %s has condition %s, which the guards do not know", quote(step.Name), quote(string(step.Condition)))
	}

	needsConsent := !step.IsInitial() || !policy.AllowFirstReplyWithoutConsent
	// Said when the step needs consent that the first reply might not,
	// so that an operator sees why a text went and its follow-up did not.
	followUp := ""
	if !step.IsInitial() && policy.AllowFirstReplyWithoutConsent {
		followUp = fmt.Sprintf(", which follow-ups such as step %s always need", quote(step.Name))
	}
	switch step.Channel {
	case ChannelSMS:
		if l.Phone == "" {
			return "the lead has no phone number"
		}
		// ShopMonkey and Tekmetric themselves text only opted-in numbers;
		// an automated text to a number without consent risks TCPA fines.
		if needsConsent && !l.Consent.SMS {
			return "the customer has not consented to texts" + followUp
		}
	case ChannelEmail:
		if l.Email == "" {
			return "the lead has no email address"
		}
		if needsConsent && !l.Consent.Email {
			return "the customer has not consented to email" + followUp
		}
	default:
		return fmt.Sprintf("step %s is on channel %s, which we do not send on", quote(step.Name), quote(string(step.Channel)))
	}
	return ""
}

// missedCallSkipReason is SkipReasonFor of a missed-call text. The caller
// started this conversation a moment ago, so a lead that replied or booked
// before still gets it (that was another conversation); a STOP (the
// suppression list, or the lead opted out) stops it, and so does missing
// consent, judged as for the first reply to an inquiry the customer made:
// only a tenant that lets first replies go without consent texts a caller
// whose consent is not on record.
func missedCallSkipReason(l Lead, suppressed bool, policy ConsentPolicy) string {
	switch {
	case suppressed:
		return "the address is on the tenant's suppression list"
	case l.Status == StatusOptedOut:
		return "the customer opted out"
	case l.Phone == "":
		return "the lead has no phone number"
	case !policy.AllowFirstReplyWithoutConsent && !l.Consent.SMS:
		return "the customer has not consented to texts, and the shop's first replies need consent"
	}
	return ""
}

// oneOffSkipReason is the guard of a step that belongs to no sequence
// (oneOff true), which answers something rather than following up:
//   - the answer to a HELP goes to whoever asked, replied, booked or
//     opted out or not (where the carrier blocked the number after a STOP
//     keyword it refuses the answer, 21610);
//   - the one confirmation of an opt-out in the customer's own words
//     (OptOutConfirmationStep) goes, though the number is suppressed;
//   - a notice goes to the shop, about a lead: only a suppression of the
//     shop's own address (it bounced) stops it;
//   - the shop answering a customer who wrote to it is the conversation
//     itself, not a follow-up: a reply or a booking does not stop it, and
//     it needs no marketing consent; a STOP does;
//   - a booking's confirmation (BookingTextStep) answers what the customer
//     just did on the booking page: a booking stops the sequence, not it;
//     an opt-out or a suppression does;
//   - a missed caller's text (missedCallSkipReason).
func oneOffSkipReason(l Lead, step Step, suppressed bool, policy ConsentPolicy) (reason string, oneOff bool) {
	const onList = "the address is on the tenant's suppression list"
	_, answer := step.ShopAnswerInbound()
	switch {
	case step.IsHelpAnswer(), step.IsOptOutConfirmation():
		// Both answer the customer's own text, the confirmation even the
		// opt-out it confirms; HELP is answered after an opt-out too
		// (the customer asks who is texting them and how to stop).
		return "", true
	case step.IsNotice():
		if suppressed {
			return onList, true
		}
		return "", true
	case answer, step.IsBookingText():
		switch {
		case l.Status == StatusOptedOut:
			return "the customer opted out", true
		case suppressed:
			return onList, true
		}
		return "", true
	case step.IsMissedCallText():
		return missedCallSkipReason(l, suppressed, policy), true
	}
	return "", false
}
