package lead

import (
	"strings"
	"unicode"
)

// InboundKind is what a customer's text to the shop means to us: a
// keyword that changes whether we may text them, or a reply for the shop.
type InboundKind string

const (
	// InboundReply is anything that is not a keyword: the customer is
	// talking to the shop, so the follow-ups stop and a person takes over.
	InboundReply InboundKind = "reply"
	// InboundStop suppresses the number: no more texts until it opts in.
	InboundStop InboundKind = "stop"
	// InboundStart lifts a suppression.
	InboundStart InboundKind = "start"
	// InboundHelp asks for the help message; it is not a conversation.
	InboundHelp InboundKind = "help"
	// InboundAutoReply is an email a program sent in answer (an
	// out-of-office, an auto-responder, a bounce): recorded, it stops
	// nothing.
	InboundAutoReply InboundKind = "auto_reply"
	// InboundShopAnswer is the shop's reply to its notice about a lead:
	// it goes to the customer as a text.
	InboundShopAnswer InboundKind = "shop_answer"
)

// ClassifyInbound reads the body of an inbound text. A keyword counts
// when it is the whole message, in any case, ignoring surrounding spaces
// (Unicode ones too), invisible format characters and punctuation
// ("Stop.", " STOP!! ", "stop\u00a0"). An opt-out in the customer's own
// words ("stop texting me", "OPT OUT", "take me off your list") is an
// opt-out too (see optOutPhrase): since the FCC's 2024 revocation rules
// any reasonable means revokes consent. The opt-in and help words stay
// exact: "yes, Tuesday works" is a reply, never a consent. Anything else is
// a reply, which stops the lead's follow-ups; the shop reads it. An empty
// body (a photo with no text) is a reply.
//
// Opt-out: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT,
// and the phrases. Opt-in: START, UNSTOP, YES. Help: HELP, INFO.
func ClassifyInbound(body string) InboundKind {
	switch strings.ToUpper(strings.TrimFunc(body, isKeywordPadding)) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT":
		return InboundStop
	case "START", "UNSTOP", "YES":
		return InboundStart
	case "HELP", "INFO":
		return InboundHelp
	}
	if optOutPhrase(body) {
		return InboundStop
	}
	return InboundReply
}

// ProviderOptOutKeyword reports whether body is an opt-out keyword as
// Twilio reads one: one of its default words, any case, as the whole
// message with nothing but white space around it. Twilio blocks such a
// number itself and answers it with its own confirmation, so the shop
// must not send one. It is deliberately narrower than ClassifyInbound:
// where we are unsure whether Twilio took a text ("Stop.", "stop
// texting me") we confirm ourselves, and should Twilio have blocked the
// number after all it refuses our confirmation (21610) rather than
// deliver a second one.
func ProviderOptOutKeyword(body string) bool {
	switch strings.ToUpper(strings.TrimSpace(body)) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT":
		return true
	}
	return false
}

// isKeywordPadding reports whether r may surround a keyword: white space
// of any script, format characters phones and keyboards insert unseen
// (zero-width space, byte-order mark, direction marks) and punctuation.
func isKeywordPadding(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.IsPunct(r)
}

// LeadEvent says what an inbound text of kind k does to a lead now at
// status current; ok is false when it does nothing to the lead (HELP gets
// its automatic answer and the sequence goes on). The status matters for
// the opt-in words: "YES" is also how a customer answers "Still need a
// hand?", so from a lead that has not opted out it is a reply, which
// stops the follow-ups, rather than an opt-in, which would change nothing
// and let them continue. Suppression is separate: a START word lifts the
// number's suppression whatever the lead's status.
func (k InboundKind) LeadEvent(current Status) (e LeadEvent, ok bool) {
	switch k {
	case InboundStop:
		return EventOptedOut, true
	case InboundStart:
		if current == StatusOptedOut {
			return EventOptedIn, true
		}
		return EventReplied, true
	case InboundReply:
		return EventReplied, true
	}
	return "", false
}
