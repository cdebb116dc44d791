package lead

import (
	"regexp"
	"strings"
	"unicode"
)

// Opt-out in the customer's own words.
//
// Since the FCC's 2024 revocation rules (47 CFR 64.1200(a)(10), in force
// 2025-04-11) consent is revoked by any reasonable means, not only by the
// carriers' keywords: "stop texting me", "OPT OUT", "please don't text me"
// revoke it as surely as STOP. Twilio blocks only the single keywords
// (only single-word messages trigger its block), so for a phrase our
// suppression list is the only thing that keeps the shop from texting the
// number again.
//
// The reading is built to be conservative about false opt-outs, which
// would silence a real customer (an opt-out is not forwarded to the shop
// as a reply is), while honouring every plain revocation:
//
//   - the text is normalised (case, full-width letters, curly apostrophes,
//     contractions, emoji, punctuation, invisible format characters and
//     white space of any script), then cut into clauses at sentence
//     punctuation and at "and", "but" and "or";
//   - a clause is an opt-out only when it is, as a whole, one of the
//     phrases below, with courtesy words around it ("please", "now",
//     "thanks", "again", "can you"): the phrase must be the clause, not
//     merely appear in it, so "can you stop by at 3" and "my car won't stop
//     squeaking" are replies, and so is "don't stop texting me";
//   - a strong phrase (one that names the texts, the list, the number or
//     the customer: "stop texting me", "take me off your list", "leave me
//     alone", "wrong number") revokes wherever it stands in the message;
//   - a bare keyword ("stop", "please stop", "quit it") revokes only when
//     the rest of the message is opt-outs or courtesy too ("Stop! Thanks",
//     "wrong number, stop"). "Stop! Don't do the brakes, just the oil" is
//     a reply: there "stop" is addressed to the work, and reading it as a
//     revocation would hide the customer's instruction from the shop. Such
//     a reply still stops every follow-up, the shop reads it, and the
//     customer's next STOP is final.
//
// Where the law and a real customer pull apart, the phrase list leans to
// the law: "do not contact me", "no more messages" and "leave me alone"
// name no channel and revoke texts, and "wrong number" revokes (whoever
// answers never consented). A phrase that names another channel does not:
// "stop calling me" and "stop emailing me" are about the shop's people
// and its emails, so they are replies the shop reads ("don't call me, text
// me" would otherwise silence the very channel the customer asked for).
// "Not interested" is a reply too: it declines this estimate, not every
// message the shop may send about a later one, and as a reply it stops the
// follow-ups anyway.

// optOutPhrase is true when body is an opt-out in the customer's own
// words (see above). The single keywords are ClassifyInbound's, read
// before this.
func optOutPhrase(body string) bool {
	clauses := optOutClauses(normaliseOptOut(body))
	if len(clauses) == 0 {
		return false
	}
	bare, other := false, false
	for _, c := range clauses {
		switch {
		case strongOptOut.MatchString(c):
			return true
		case bareOptOut.MatchString(c):
			bare = true
		case !courtesyClause.MatchString(c):
			other = true
		}
	}
	return bare && !other
}

// normaliseOptOut lower-cases body and reduces it to words separated by
// single spaces: full-width letters fold to ASCII, apostrophes of every
// kind become one, contractions are spelled out ("don't" -> "do not"),
// "#" reads "number", and everything else that is not a letter or digit
// (punctuation, emoji, symbols, format characters, any white space) is a
// space, except the sentence marks that end a clause, kept as "|".
func normaliseOptOut(body string) string {
	var b strings.Builder
	for _, r := range body {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII ("ＳＴＯＰ")
			r -= 0xFEE0
		}
		switch {
		case r == '\'' || r == '\u2019' || r == '\u2018' || r == '\u02bc' || r == '`' || r == '\u00b4':
			b.WriteByte('\'')
		case r == '#':
			b.WriteString(" number ")
		case strings.ContainsRune(".!?,;:\n\r\u2026\u3002\uff01\uff1f", r):
			b.WriteString(" | ")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Mn, r):
			// Zero-width spaces, direction marks, variation selectors:
			// unseen, they must not split a word.
		default:
			b.WriteByte(' ')
		}
	}
	s := contractions.Replace(" " + b.String() + " ")
	s = strings.ReplaceAll(s, "'", "")
	return strings.Join(strings.Fields(s), " ")
}

// contractions spells out the ones the phrases use, with and without the
// apostrophe customers often leave out ("dont text me").
var contractions = strings.NewReplacer(
	" don't ", " do not ", " dont ", " do not ", " do't ", " do not ",
	" doesn't ", " does not ", " didn't ", " did not ", " didnt ", " did not ",
	" won't ", " will not ", " wont ", " will not ", " can't ", " cannot ", " cant ", " cannot ",
	" i'd ", " i would ", " i'm ", " i am ", " im ", " i am ", " i've ", " i have ",
	" you're ", " you are ", " you've ", " you have ", " it's ", " it is ",
	" wanna ", " want to ", " u ", " you ", " ur ", " your ",
)

// optOutClauses cuts a normalised text into clauses: at the sentence
// marks, then at "and", "but" and "or" ("stop texting and calling me"),
// except in "cease and desist".
func optOutClauses(s string) []string {
	s = strings.ReplaceAll(s, "cease and desist", "cease desist")
	var out []string
	for _, part := range strings.Split(s, "|") {
		for _, c := range conjunction.Split(" "+part+" ", -1) {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

var conjunction = regexp.MustCompile(` (?:and|but|or|then) `)

// The pieces of the phrases. Each is an alternation of whole words.
const (
	// optText is what the customer wants no more of.
	// Calls and emails are not here: see the note on channels above.
	optText = `(?:texts?|texting|texted|txts?|txting|messages?|messaging|msgs?|sms|contact|contacting|spam|spamming|reminders|notifications|marketing|ads|promotions|promos)`
	// optObj is who or where it goes.
	optObj = `(?:me|us|this number|my number|my phone|this phone|my cell|to me|to this number)`
	// optDet comes before the texts ("stop the texts", "no more of these").
	optDet = `(?:the|these|those|your|all|all the|all these|all your|any|any more|anymore|this|such|more|of these|of the|of your)`
	// optList is what the customer asks to come off.
	optList = `(?:list|lists|texting list|text list|sms list|mailing list|contact list|marketing list|contacts|system|database|records|texts|messages|program)`
	// optAbout may follow a phrase: "stop texting me about this".
	optAbout = `(?: about (?:this|that|it|anything|any of this|my car|the car))?`
	// optLead are courtesy words before a phrase, any number of them.
	optLead = `(?:(?:please|pls|plz|kindly|just|ok|okay|k|hey|hi|hello|sorry|so|now|seriously|yes|no|i said|i asked you to|i already said|can you|could you|would you|will you|you can|you may|you need to|you guys|guys|yall|sir|omg|oh my god|for the last time)\s)*`
	// optTrail are courtesy words after it.
	optTrail = `(?:\s(?:please|pls|plz|now|thanks|thank you|thx|ty|asap|immediately|right now|already|again|anymore|any more|ever again|for good|forever|at all|ok|okay|guys|lol|period|seriously|sir|maam|mam|bye|goodbye|immediately))*`
)

// strongOptOut are the phrases that name what is revoked: the texts, the
// list, the number or the customer. Each must be the whole clause.
var strongOptOut = anchoredOptOut(
	// "stop texting me", "stop sending me these messages", "quit calling",
	// "stop with the texts", "how do I stop getting these texts".
	`(?:how (?:do i|can i|to|do we|can we) )?(?:stop|quit|cease|end|halt|discontinue)(?: (?:sending|with|getting|receiving))?(?: `+optObj+`)?(?: `+optDet+`)? `+optText+`(?: `+optObj+`)?`+optAbout,
	// "please don't text me", "do not contact this number", "never text
	// me again", "don't send me any more messages".
	`(?:do not|never|please do not)(?: ever)? (?:text|txt|message|msg|contact|spam|sms)(?: `+optObj+`)?`+optAbout,
	// "stop sending", "quit sending these".
	`(?:stop|quit) sending(?: (?:these|them|this|those|stuff|me stuff|me these))?`,
	`(?:do not|never) send(?: `+optObj+`)?(?: `+optDet+`)? `+optText,
	// "no more texts", "enough with the messages".
	`(?:no more|enough(?: with)?)(?: `+optDet+`)? `+optText+`(?: `+optObj+`)?`,
	// "unsubscribe me", "opt me out of these texts", "I want to opt out".
	`(?:(?:i|we) )?(?:(?:want|would like|wish|need|would love) to )?(?:unsubscribe|unsub|opt out|opt me out|optout|be removed|be taken off)(?: (?:me|this number|my number))?(?: (?:from|of)(?: `+optDet+`)? `+optList+`)?`,
	// "remove me from your list", "delete my number", "take me off your
	// list", "take me off", "lose my number".
	`(?:remove|delete|erase)(?: me| my number| this number| my phone number| my info| my information)(?: (?:off|from|out of|off of)(?: `+optDet+`| my)? `+optList+`)?`,
	`(?:take|get|put)(?: me| my number| this number)(?: off(?: of)?| out of| from)(?: `+optDet+`)? `+optList,
	`take me off(?: of)?`,
	`lose my number`,
	// "leave me alone", "go away".
	`(?:leave (?:me|us) (?:alone|be)|go away)`,
	// "wrong number", "you have the wrong number", "wrong person".
	`(?:(?:you have|you got|you have got|this is|its|it is) (?:the |a )?)?wrong (?:number|person|guy|lady|phone)`,
	`(?:this is )?not my number`,
	// "I don't want these texts", "I no longer want to receive messages".
	`(?:i|we) (?:do not|no longer) (?:want|wish|need)(?: to (?:get|receive))?(?: `+optDet+`)? `+optText+`(?: (?:from you|anymore|any more))?`,
	// "I revoke my consent", "I withdraw consent", "I do not consent".
	`(?:i )?(?:revoke|withdraw)(?: my)? (?:consent|permission)`,
	`(?:i|we) (?:do not|no longer) consent(?: to (?:this|these|texts|messages))?`,
	`cease desist`,
)

// bareOptOut is a keyword with nothing but courtesy around it ("please
// stop", "stop it", "STOP STOP"): an opt-out when it is the message, an
// interjection when it stands among other instructions (see optOutPhrase).
var bareOptOut = anchoredOptOut(
	`stop(?: stop)*(?: (?:it|this|that|all))?`,
	`stopall`, `revoke`, `quit(?: it)?`, `cease`,
	`s t o p`,
)

// courtesyClause is a clause that says nothing to the shop beside an
// opt-out: "thanks", "bye", "who is this".
var courtesyClause = anchoredOptOut(
	`(?:thanks|thank you|thx|ty|bye|goodbye|ok|okay|sorry|please|pls|no|nope|nah|no thanks|no thank you|who is this|who are you|i never signed up(?: for this)?|i did not sign up(?: for this)?|not interested|seriously|lol|wtf)`,
)

// anchoredOptOut compiles alternatives, each of which must make up the
// whole clause, with courtesy words around it.
func anchoredOptOut(alternatives ...string) *regexp.Regexp {
	return regexp.MustCompile(`^` + optLead + `(?:` + strings.Join(alternatives, `|`) + `)` + optTrail + `$`)
}
