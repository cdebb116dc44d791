package lead_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestHasOptOutWording: STOP as a word of its own, in any case, is the
// opt-out wording; STOP inside another word is not.
func TestHasOptOutWording(t *testing.T) {
	t.Parallel()
	for tmpl, want := range map[string]bool{
		"Hi {{.Lead.FirstName}}. Reply STOP to opt out.": true,
		"text stop to end":             true,
		"Reply STOP.":                  true,
		"(STOP=end)":                   true,
		"we work nonstop":              false,
		"STOPPED by the shop":          false,
		"Reply UNSUBSCRIBE to opt out": false,
		"":                             false,
	} {
		require.Equal(t, want, lead.HasOptOutWording(tmpl), "%q", tmpl)
	}
}

// TestOptOutWordingValidate: a first text without STOP (the shop's
// templates.sms, the initial sms step's own template, the missed-call
// text) is refused naming the template; follow-ups, email and templates
// left to the defaults are not this rule's.
func TestOptOutWordingValidate(t *testing.T) {
	t.Parallel()
	valid := func() lead.Tenant {
		return lead.Tenant{Name: "Main Street Auto", CRMKind: "shopmonkey", CRMLocationID: "loc-1",
			CRMSecret: lead.SealedSecret{KeyID: "k1", Ciphertext: []byte("x")}, TimeZone: "America/Chicago",
			PollInterval: time.Minute, SMSFrom: "+13125550123", EmailFrom: "shop@example.com"}
	}
	fields := func(err error) []string {
		var out []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var v *lead.ValidationError
			require.True(t, errors.As(e, &v))
			out = append(out, v.Field)
		}
		return out
	}

	require.NoError(t, valid().Validate([]string{"shopmonkey"}), "defaults name STOP")

	tn := valid()
	tn.Templates.SMS = "Hi {{.Lead.FirstName}}, we got your request."
	tn.MissedCallText = "Sorry we missed you at {{.Shop.Name}}."
	seq := lead.DefaultSequence()
	for i := range seq {
		if seq[i].IsInitial() && seq[i].Channel == lead.ChannelSMS {
			seq[i].Template.SMS = "Hi from {{.Shop.Name}}"
		}
	}
	tn.Sequence = seq
	err := tn.Validate([]string{"shopmonkey"})
	require.Error(t, err)
	got := fields(err)
	require.Contains(t, got, "templates.sms")
	require.Contains(t, got, "missed_call_text")
	initial := ""
	for _, f := range got {
		if f != "templates.sms" && f != "missed_call_text" {
			initial = f
		}
	}
	require.Regexp(t, `^sequence\[\d+\]\.template\.sms$`, initial)
	require.Contains(t, err.Error(), `templates.sms: the shop's first text (templates.sms) lacks opt-out wording: a first text must name STOP`)
	require.Contains(t, err.Error(), `the first text of step "initial" lacks opt-out wording`)

	// A template that does not parse is named once, for that.
	tn = valid()
	tn.Templates.SMS = "{{.Lead.FirstName"
	require.Equal(t, []string{"templates.sms"}, fields(tn.Validate([]string{"shopmonkey"})))

	// A follow-up's text is not a first text.
	tn = valid()
	seq = lead.DefaultSequence()
	for i := range seq {
		if !seq[i].IsInitial() && seq[i].Channel == lead.ChannelSMS {
			seq[i].Template.SMS = "Still need a hand?"
		}
	}
	tn.Sequence = seq
	require.NoError(t, tn.Validate([]string{"shopmonkey"}))
}

// TestAllowedBy: each kind of message names its own rule; a sequence's
// message names the consent and its evidence, or the shop's first-reply
// policy.
func TestAllowedBy(t *testing.T) {
	t.Parallel()
	read := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ev := lead.ConsentEvidenceSet{
		SMS: lead.ConsentEvidence{Field: "customer.phoneNumbers[0].optIn", Value: "true"},
	}.Stamp("shopmonkey", read)
	consented := lead.Lead{Phone: "+13122013344", Email: "ann@example.com", Consent: lead.Consent{SMS: true}, ConsentEvidence: ev}
	none := lead.Lead{Phone: "+13122013344"}
	allow := lead.ConsentPolicy{AllowFirstReplyWithoutConsent: true}
	sms := func(name string) lead.Step { return lead.Step{Name: name, Channel: lead.ChannelSMS} }

	require.Equal(t, "consent: shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z",
		lead.AllowedBy(consented, sms(lead.StepInitial), lead.ConsentPolicy{}))
	require.Equal(t, "consent: shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z",
		lead.AllowedBy(consented, sms("day1"), allow), "consent is named before the policy")
	require.Equal(t, "first reply without consent allowed by the shop", lead.AllowedBy(none, sms(lead.StepInitial), allow))
	require.Equal(t, "answer to the customer's HELP", lead.AllowedBy(none, sms(lead.HelpAnswerStep("m1")), lead.ConsentPolicy{}))
	require.Equal(t, "opt-out confirmation", lead.AllowedBy(none, sms(lead.OptOutConfirmationStep("m1")), lead.ConsentPolicy{}))
	require.Equal(t, "shop's answer to the customer's text", lead.AllowedBy(none, sms(lead.ShopAnswerStep(7)), lead.ConsentPolicy{}))
	require.Equal(t, "booking confirmation", lead.AllowedBy(none, sms(lead.BookingTextStep(uuid.New(), "")), lead.ConsentPolicy{}))
	require.Equal(t, "missed caller's text without consent allowed by the shop", lead.AllowedBy(none, sms(lead.MissedCallStep(3)), allow))
	require.Equal(t, "notice to the shop", lead.AllowedBy(none, lead.Step{Name: lead.NoticeStep("reply", "e1"), Channel: lead.ChannelEmail}, lead.ConsentPolicy{}))
	require.Equal(t, "consent: no record of where consent came from",
		lead.AllowedBy(lead.Lead{Email: "a@example.com", Consent: lead.Consent{Email: true}}, lead.Step{Name: lead.StepInitial, Channel: lead.ChannelEmail}, lead.ConsentPolicy{}),
		"a lead stored before evidence was kept says so")
}
