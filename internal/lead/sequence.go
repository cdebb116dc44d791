package lead

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StepInitial is the name of the steps that answer a new lead. It is more
// than a label: the answer to the customer's own inquiry is the one message
// a tenant may let go without consent (ConsentPolicy), so the guards and
// Sequence.Validate treat steps of this name specially.
const StepInitial = "initial"

// MaxInitialDelay bounds how long after the lead an initial step may be
// due. An answer to an inquiry is only an answer while the customer is
// still waiting for it; later messages are follow-ups and need consent.
const MaxInitialDelay = time.Hour

// ReservedStepPrefix starts the step name of an answer to a customer's
// HELP (one per HELP message); no sequence step may use it.
const ReservedStepPrefix = "help-"

// HelpAnswerStep names the step that answers the HELP a customer sent in
// the provider's message messageID.
func HelpAnswerStep(messageID string) string { return ReservedStepPrefix + messageID }

// WaitsForWindow reports whether a message of the step waits for the
// sending window (a text) and the shop's closed days (Tenant.NextSendTime):
// every one but what is owed at once, whatever the hour: the answer to a
// HELP, an opt-out's confirmation, the shop's own answer to a text, and
// the shop's notices.
func (s Step) WaitsForWindow() bool {
	_, answer := s.ShopAnswerInbound()
	return !(s.IsHelpAnswer() || s.IsOptOutConfirmation() || answer || s.IsNotice())
}

// IsHelpAnswer reports whether the step answers a HELP (see
// HelpAnswerStep) rather than belonging to a sequence.
func (s Step) IsHelpAnswer() bool { return strings.HasPrefix(s.Name, ReservedStepPrefix) }

// NoticeStepPrefix starts the step name of a notice to the shop about a
// lead (a reply, a missed call), one per event; no sequence step may use
// it.
const NoticeStepPrefix = "notice-"

// NoticeStep names the notice of reason about event (an inbound
// message's provider id, a call's sid): short, whatever the id's length.
func NoticeStep(reason, event string) string {
	sum := sha256.Sum256([]byte(reason + "\x00" + event))
	return NoticeStepPrefix + hex.EncodeToString(sum[:8])
}

// IsNotice reports whether the step is a notice to the shop.
func (s Step) IsNotice() bool { return strings.HasPrefix(s.Name, NoticeStepPrefix) }

// ShopAnswerStepPrefix starts the step name of a shop's answer to its
// customer (one per answer); no sequence step may use it.
const ShopAnswerStepPrefix = "answer-"

// ShopAnswerStep names the text that carries the shop's answer stored as
// inbound message inboundID.
func ShopAnswerStep(inboundID int64) string {
	return ShopAnswerStepPrefix + strconv.FormatInt(inboundID, 10)
}

// ShopAnswerInbound is the inbound message id a shop-answer step carries;
// ok is false for any other step.
func (s Step) ShopAnswerInbound() (inboundID int64, ok bool) {
	rest, found := strings.CutPrefix(s.Name, ShopAnswerStepPrefix)
	if !found {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// MaxStepNameLen bounds a step's name, which ends up in outbox keys, job
// arguments and template names.
const MaxStepNameLen = 40

// StepAnchor says what a step's delay counts from.
type StepAnchor string

const (
	// AnchorLead counts the delay from the lead's creation; it is what the
	// empty anchor means.
	AnchorLead StepAnchor = "lead"
	// AnchorPrevious counts it from when the step before is due, so a
	// shop can say "two days after the last text".
	AnchorPrevious StepAnchor = "previous"
)

// StepCondition says when a step still goes out once it is due, beyond
// the guards every message passes (status, suppression, consent).
type StepCondition string

const (
	// ConditionAlways sends the step whenever the guards allow it.
	ConditionAlways StepCondition = ""
	// ConditionNoReply sends it only if the customer has never replied:
	// a follow-up that asks "still interested?" is wrong once they have
	// answered, even if the lead is later back to contacted (opted out
	// and back in).
	ConditionNoReply StepCondition = "no_reply"
)

// Step is one message of a tenant's sequence: what to send on which
// channel, and when, relative to the lead or to the step before. The
// outbox keeps one message per (lead, step name, channel), so one name may
// appear once per channel, and the same name on two channels (the initial
// text and email) is one step sent two ways.
type Step struct {
	Name    string  `json:"name"`
	Channel Channel `json:"channel"`
	// Delay is elapsed time after the anchor, not a calendar day: a step
	// that falls outside the tenant's send window waits for its next
	// opening at send time.
	Delay time.Duration `json:"delay"`
	After StepAnchor    `json:"after,omitempty"`
	// Template is the step's own wording; only the fields of its channel
	// are used (SMS for sms; EmailSubject and EmailText for email). An
	// empty field means the default for the step's purpose (Wording).
	Template  Templates     `json:"template,omitzero"`
	Condition StepCondition `json:"condition,omitempty"`
}

// IsInitial reports whether the step answers the lead (see StepInitial).
func (s Step) IsInitial() bool { return s.Name == StepInitial }

// Wording returns the templates the step renders with. An initial step
// falls back to first, the tenant's own first-message templates already
// completed from the fleet's (Tenant.Templates.Or(fleet)); a follow-up
// falls back to DefaultFollowUpTemplates, never to the first message,
// which would greet the customer as if their request had just arrived.
func (s Step) Wording(first Templates) Templates {
	if s.IsInitial() {
		return s.Template.Or(first)
	}
	return s.Template.Or(DefaultFollowUpTemplates())
}

// MarshalJSON writes the delay as a duration string ("72h", "1h30m")
// rather than Go's nanoseconds, because sequences are stored as jsonb that
// operators read and edit.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	return json.Marshal(struct {
		plain
		Delay string `json:"delay"`
	}{plain(s), FormatDelay(s.Delay)})
}

// UnmarshalJSON reads the delay as a duration string ("24h", "90m"). A
// bare number is refused rather than read as nanoseconds: someone who
// writes 86400 means a day, and would get 86 microseconds. Unknown fields
// are refused too: a misspelt "dealy" would otherwise send a follow-up at
// once, and a misspelt "condition" send it to customers who replied.
func (s *Step) UnmarshalJSON(b []byte) error {
	type plain Step
	aux := struct {
		*plain
		Delay json.RawMessage `json:"delay"`
	}{plain: (*plain)(s)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		if s.Name != "" {
			return fmt.Errorf("step %s: %w", quote(s.Name), err)
		}
		return err
	}
	s.Delay = 0
	if len(aux.Delay) == 0 || string(aux.Delay) == "null" {
		return nil
	}
	var text string
	if err := json.Unmarshal(aux.Delay, &text); err != nil {
		return fmt.Errorf("step %s: delay %s must be a duration string such as \"24h\" or \"90m\"", quote(s.Name), aux.Delay)
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return fmt.Errorf("step %s: delay %s is not a duration such as \"24h\" or \"90m\"", quote(s.Name), quote(text))
	}
	s.Delay = d
	return nil
}

// FormatDelay writes a delay as people and the stored JSON read it: "24h",
// "90m", "30s", without Go's trailing zero units.
func FormatDelay(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Sequence is a tenant's messages to a lead, in order: what ingest
// schedules when a lead is new. It is stored as jsonb.
type Sequence []Step

// DefaultSequence is what a tenant without its own sequence sends: the
// initial text and email at once (their wording is the tenant's or fleet's
// first-message templates), then up to three follow-ups over a week, each
// only if the customer has not replied. A reply, booking or opt-out stops
// them all (Status.StopsSequence).
func DefaultSequence() Sequence {
	return Sequence{
		{Name: StepInitial, Channel: ChannelSMS, After: AnchorLead},
		{Name: StepInitial, Channel: ChannelEmail, After: AnchorLead},
		{
			Name: "day1", Channel: ChannelSMS, Delay: 24 * time.Hour, After: AnchorLead, Condition: ConditionNoReply,
			Template: Templates{SMS: "Hi{{with .Lead.FirstName}} {{.}}{{end}}, {{.Shop.Name}} here again{{with .Vehicle.Name}} about your {{.}}{{end}}. " +
				"Still need a hand? Reply to this text and we'll get you scheduled. Reply STOP to opt out."},
		},
		{
			Name: "day3", Channel: ChannelEmail, Delay: 3 * 24 * time.Hour, After: AnchorLead, Condition: ConditionNoReply,
			Template: Templates{
				EmailSubject: "Following up on your request to {{.Shop.Name}}",
				EmailText: `Hi{{with .Lead.FirstName}} {{.}}{{end}},

We wanted to follow up on your request{{with .Vehicle.Name}} about your {{.}}{{end}}.
{{- with .Lead.Summary}} You wrote:

{{.}}
{{- end}}

We would be glad to help. Reply to this email with a time that suits you and we will get you booked in.

{{.Shop.Name}}`,
			},
		},
		{
			Name: "day7", Channel: ChannelSMS, Delay: 7 * 24 * time.Hour, After: AnchorLead, Condition: ConditionNoReply,
			Template: Templates{SMS: "Hi{{with .Lead.FirstName}} {{.}}{{end}}, last check-in from {{.Shop.Name}}{{with .Vehicle.Name}} about your {{.}}{{end}}. " +
				"Still want help? Just reply and we'll find you a time. Reply STOP to opt out."},
		},
	}
}

// DefaultFollowUpTemplates is the wording of a follow-up step that has
// none of its own: a short, honest "are you still interested?" that uses
// only what every lead has.
func DefaultFollowUpTemplates() Templates {
	return Templates{
		SMS: "Hi{{with .Lead.FirstName}} {{.}}{{end}}, {{.Shop.Name}} following up{{with .Vehicle.Name}} about your {{.}}{{end}}. " +
			"Reply to this text if you'd like to book. Reply STOP to opt out.",
		EmailSubject: "Following up on your request to {{.Shop.Name}}",
		EmailText: `Hi{{with .Lead.FirstName}} {{.}}{{end}},

We are following up on your request{{with .Vehicle.Name}} about your {{.}}{{end}}. Reply to this email if you would like to book a time.

{{.Shop.Name}}`,
	}
}

// Find returns the step of the given name on the given channel. Send jobs
// carry only the step's name; a step the tenant has since removed from its
// sequence is not found, and the job should skip the message and say so.
func (s Sequence) Find(name string, ch Channel) (Step, bool) {
	for _, st := range s {
		if st.Name == name && st.Channel == ch {
			return st, true
		}
	}
	return Step{}, false
}

// DueTimes returns when each step is due for a lead created at
// leadCreated, index for index: its anchor (the lead, or the step before
// as due, not as actually sent) plus its delay. The send window is applied
// later, at send time, because the window may change in between.
func (s Sequence) DueTimes(leadCreated time.Time) []time.Time {
	due := make([]time.Time, len(s))
	for i, st := range s {
		base := leadCreated
		if st.After == AnchorPrevious && i > 0 {
			base = due[i-1]
		}
		due[i] = base.Add(st.Delay)
	}
	return due
}

// Validate returns every problem of the sequence at once, as errors.Join
// of *ValidationError whose Field points at the step and part
// ("sequence[2].template.email_subject") and whose Reason names the step,
// so that an operator fixes them all in one go.
func (s Sequence) Validate() error {
	var errs []error
	bad := func(field, reason string) {
		errs = append(errs, &ValidationError{Field: field, Reason: reason})
	}
	if len(s) == 0 {
		bad("sequence", "has no steps (leave it unset for the default sequence)")
	}
	due := s.DueTimes(time.Time{})
	type key struct {
		name string
		ch   Channel
	}
	first := make(map[key]int, len(s))
	for i, st := range s {
		at := fmt.Sprintf("sequence[%d]", i)
		label := "step " + quote(st.Name)

		if reason := stepNameProblem(st.Name); reason != "" {
			bad(at+".name", reason)
		}
		switch st.Channel {
		case ChannelSMS, ChannelEmail:
			k := key{st.Name, st.Channel}
			if j, dup := first[k]; dup {
				bad(at+".name", fmt.Sprintf("%s on %s is already sequence[%d]: a lead gets one message per step and channel", label, st.Channel, j))
			} else {
				first[k] = i
			}
		default:
			bad(at+".channel", fmt.Sprintf("%s has channel %s, must be sms or email", label, quote(string(st.Channel))))
		}
		if st.Delay < 0 {
			bad(at+".delay", fmt.Sprintf("%s waits %s, must not be negative", label, FormatDelay(st.Delay)))
		}
		switch st.After {
		case "", AnchorLead:
		case AnchorPrevious:
			if i == 0 {
				bad(at+".after", label+" is the first step, so there is no previous step to count from: use \"lead\"")
			}
		default:
			bad(at+".after", fmt.Sprintf("%s is anchored to %s, must be \"lead\" or \"previous\"", label, quote(string(st.After))))
		}
		switch st.Condition {
		case ConditionAlways, ConditionNoReply:
		default:
			bad(at+".condition", fmt.Sprintf("%s has condition %s, must be empty (always) or \"no_reply\"", label, quote(string(st.Condition))))
		}
		if st.IsInitial() && st.Delay >= 0 && due[i].Sub(time.Time{}) > MaxInitialDelay {
			bad(at+".delay", fmt.Sprintf("%s is due %s after the lead; it answers the customer's inquiry and must go within %s: give a later message another name",
				label, FormatDelay(due[i].Sub(time.Time{})), FormatDelay(MaxInitialDelay)))
		}
		for _, p := range templateProblems(st) {
			bad(at+".template."+p.part, p.reason)
		}
	}
	return errors.Join(errs...)
}

// stepNameProblem says what is wrong with a step name, or "". Names are
// keys (outbox rows, job arguments) and appear in template errors, so
// they are short, lower-case and plain.
func stepNameProblem(name string) string {
	switch {
	case name == "":
		return "is required"
	case len(name) > MaxStepNameLen:
		return fmt.Sprintf("%s is %d characters long, at most %d allowed", quote(name), len(name), MaxStepNameLen)
	case strings.HasPrefix(name, ReservedStepPrefix):
		// Answers to HELP are steps named so; a sequence step with such a
		// name would be sent as one, past every guard but suppression.
		return fmt.Sprintf("%s starts with %q, which is reserved for answers to HELP", quote(name), ReservedStepPrefix)
	case strings.HasPrefix(name, NoticeStepPrefix):
		return fmt.Sprintf("%s starts with %q, which is reserved for notices to the shop", quote(name), NoticeStepPrefix)
	case strings.HasPrefix(name, ShopAnswerStepPrefix):
		// The same for the shop's own answers.
		return fmt.Sprintf("%s starts with %q, which is reserved for the shop's answers", quote(name), ShopAnswerStepPrefix)
	case strings.HasPrefix(name, BookingTextStepPrefix):
		// A booking's confirmations are steps named so, sent to a booked
		// lead; a sequence step with such a name would be too.
		return fmt.Sprintf("%s starts with %q, which is reserved for booking confirmations", quote(name), BookingTextStepPrefix)
	case strings.HasPrefix(name, OptOutConfirmationStepPrefix):
		// An opt-out's confirmation goes past the opt-out itself.
		return fmt.Sprintf("%s starts with %q, which is reserved for opt-out confirmations", quote(name), OptOutConfirmationStepPrefix)
	case strings.HasPrefix(name, MissedCallStepPrefix):
		// The texts to missed callers are steps named so; a sequence step
		// with such a name would be sent as one.
		return fmt.Sprintf("%s starts with %q, which is reserved for missed-call texts", quote(name), MissedCallStepPrefix)
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Sprintf("%s may only contain lower-case letters, digits, '_' and '-'", quote(name))
		}
	}
	return ""
}

type templateProblem struct{ part, reason string }

// templateProblems checks the templates a step uses (against sample data,
// named "day3.email_subject") and refuses the ones it would ignore: a
// subject on an sms step is a mistake that would otherwise go unnoticed.
func templateProblems(st Step) []templateProblem {
	used := map[string]bool{"sms": true, "email_subject": true, "email_text": true}
	switch st.Channel {
	case ChannelSMS:
		used = map[string]bool{"sms": true}
	case ChannelEmail:
		used = map[string]bool{"email_subject": true, "email_text": true}
	}
	var problems []templateProblem
	for _, tc := range []struct{ part, text string }{
		{"sms", st.Template.SMS}, {"email_subject", st.Template.EmailSubject}, {"email_text", st.Template.EmailText},
	} {
		switch {
		case tc.text == "":
		case !used[tc.part]:
			problems = append(problems, templateProblem{tc.part, fmt.Sprintf("step %s sends %s, which does not use %s", quote(st.Name), st.Channel, tc.part)})
		default:
			if err := CheckTemplate(st.Name+"."+tc.part, tc.text); err != nil {
				problems = append(problems, templateProblem{tc.part, err.Error()})
			}
		}
	}
	return problems
}
