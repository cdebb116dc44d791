package lead

// AllowedBy is the rule that lets step go to lead l, the counterpart of
// SkipReasonFor: the claim records it on the outbox row when the guards
// let a message through, so that a shop asked "why did you text me" has
// the answer per message, as it stood when the message went. It assumes
// SkipReasonFor(l, step, ...) is "" (the message may go); on a message
// the guards stop it still names the rule that would have applied.
//
// A message that answers something the customer (or the shop) did names
// that; any other needs consent on its channel, named with its evidence
// ("consent: shopmonkey customer.phoneNumbers[0].optIn=true read ..."), or
// is the first reply the shop lets go without it.
func AllowedBy(l Lead, step Step, policy ConsentPolicy) string {
	_, answer := step.ShopAnswerInbound()
	switch {
	case step.IsHelpAnswer():
		return "answer to the customer's HELP"
	case step.IsOptOutConfirmation():
		return "opt-out confirmation"
	case step.IsNotice():
		return "notice to the shop"
	case answer:
		return "shop's answer to the customer's text"
	case step.IsBookingText():
		return "booking confirmation"
	case step.IsMissedCallText():
		if l.Consent.SMS {
			return "consent: " + l.ConsentEvidence.SMS.String()
		}
		return "missed caller's text without consent allowed by the shop"
	}
	consented := false
	switch step.Channel {
	case ChannelSMS:
		consented = l.Consent.SMS
	case ChannelEmail:
		consented = l.Consent.Email
	}
	switch {
	case consented:
		return "consent: " + l.ConsentEvidence.Of(step.Channel).String()
	case step.IsInitial() && policy.AllowFirstReplyWithoutConsent:
		return "first reply without consent allowed by the shop"
	}
	return "no rule: the customer has not consented to " + string(step.Channel)
}
