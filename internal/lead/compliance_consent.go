package lead

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// OptOutKeyword is the word a first text must name so that the customer
// knows how to stop: carriers (CTIA's messaging principles) and Twilio's
// own opt-out handling act on it, and STOP is the one keyword every US
// carrier and Twilio's Advanced Opt-Out honour.
const OptOutKeyword = "STOP"

// HasOptOutWording reports whether a text template tells the customer how
// to opt out. The rule: it names STOP as a word of its own, in any case
// ("Reply STOP to opt out", "text stop to end"); "nonstop" or "STOPPED"
// does not count, because neither is the keyword. The template's text is
// read as written, actions included: wording inside {{if}} that a lead
// may not get still counts, as the template's author put it there.
func HasOptOutWording(tmpl string) bool {
	words := strings.FieldsFunc(tmpl, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		if strings.EqualFold(w, OptOutKeyword) {
			return true
		}
	}
	return false
}

// checkOptOutWording refuses a first text without opt-out wording: the
// shop's own templates.sms (the first text's template unless the
// sequence's initial step has its own), the initial sms step's template,
// and the missed-call text, each the first text a customer gets from the
// shop. The fleet default is checked at start-up (config); a template
// left empty takes a default, which says it.
func (t Tenant) checkOptOutWording(p *tenantProblems) {
	missing := func(field, what, tmpl string) {
		// A template already refused (it does not parse) is named once.
		if tmpl != "" && !HasOptOutWording(tmpl) && !p.named(field) {
			p.bad(field, fmt.Sprintf("%s lacks opt-out wording: a first text must name %s (\"Reply STOP to opt out\")", what, OptOutKeyword))
		}
	}
	missing("templates.sms", "the shop's first text (templates.sms)", t.Templates.SMS)
	for i, st := range t.Sequence {
		if st.IsInitial() && st.Channel == ChannelSMS {
			missing(fmt.Sprintf("sequence[%d].template.sms", i), "the first text of step "+quote(st.Name), st.Template.SMS)
		}
	}
	missing("missed_call_text", "the missed-call text", t.MissedCallText)
}

// named reports whether a problem of field is already found.
func (p *tenantProblems) named(field string) bool {
	for _, err := range p.errs {
		var v *ValidationError
		if errors.As(err, &v) && v.Field == field {
			return true
		}
	}
	return false
}
