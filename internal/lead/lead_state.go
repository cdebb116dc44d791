package lead

// LeadEvent is something that happened to a lead that may change its
// status. Jobs and webhook handlers report events and store what
// NextStatus says, so the rules live in one place instead of in every
// UPDATE.
type LeadEvent string

const (
	// EventMessageSent: a provider accepted a message to the customer.
	EventMessageSent LeadEvent = "message_sent"
	// EventReplied: the customer wrote back (not a keyword; see
	// InboundKind.LeadEvent).
	EventReplied LeadEvent = "replied"
	// EventOptedOut: the customer sent STOP or unsubscribed.
	EventOptedOut LeadEvent = "opted_out"
	// EventOptedIn: the customer sent START after opting out.
	EventOptedIn LeadEvent = "opted_in"
	// EventBooked: the CRM shows the customer committed (an authorized
	// estimate, a confirmed appointment).
	EventBooked LeadEvent = "booked"
	// EventSequenceEnded: the last step of the sequence is done.
	EventSequenceEnded LeadEvent = "sequence_ended"
	// EventClosed: the shop (or the CRM) closed the lead.
	EventClosed LeadEvent = "closed"
)

// NextStatus is the status of a lead at s after event e. The rules:
//
//   - closed is final, and closing wins from anywhere;
//   - booked is the outcome the shop wants and wins over everything but
//     closed; an opt-out after booking leaves the lead booked (the opt-out
//     itself is on the suppression list, which every send checks);
//   - an opt-out wins over new, contacted and replied; a reply does not
//     lift it;
//   - an opt-in returns an opted-out lead to contacted, so messages may go
//     again, and changes nothing else (a replied lead stays replied);
//   - a sent message moves new to contacted and nothing else;
//   - the sequence ending changes nothing: the customer may still answer
//     days later, and that answer must still count.
//
// An unknown status or event leaves s as it is.
func NextStatus(s Status, e LeadEvent) Status {
	if s == StatusClosed {
		return s
	}
	switch e {
	case EventClosed:
		return StatusClosed
	case EventBooked:
		return StatusBooked
	case EventOptedOut:
		switch s {
		case StatusNew, StatusContacted, StatusReplied:
			return StatusOptedOut
		}
	case EventOptedIn:
		if s == StatusOptedOut {
			return StatusContacted
		}
	case EventReplied:
		switch s {
		case StatusNew, StatusContacted:
			return StatusReplied
		}
	case EventMessageSent:
		if s == StatusNew {
			return StatusContacted
		}
	}
	return s
}

// StopsSequence reports whether no more steps may go to a lead at this
// status: the customer answered, booked or opted out, or the shop closed
// the lead. Send jobs check it again at send time, however long ago the
// step was scheduled.
func (s Status) StopsSequence() bool {
	switch s {
	case StatusReplied, StatusBooked, StatusOptedOut, StatusClosed:
		return true
	}
	return false
}
