package lead

// SkipReason says why a message must not be sent now, or "" when it may.
// The rules are checked again at send time, however long ago the message was
// scheduled: the customer may have replied, booked or opted out since.
func SkipReason(l Lead, ch Channel, suppressed bool) string {
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
	switch ch {
	case ChannelSMS:
		if l.Phone == "" {
			return "the lead has no phone number"
		}
		// ShopMonkey and Tekmetric themselves text only opted-in numbers;
		// an automated text to a number without consent risks TCPA fines.
		if !l.Consent.SMS {
			return "the customer has not consented to texts"
		}
	case ChannelEmail:
		if l.Email == "" {
			return "the lead has no email address"
		}
		if !l.Consent.Email {
			return "the customer has not consented to email"
		}
	}
	return ""
}
