package lead_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestSkipReasonFor(t *testing.T) {
	t.Parallel()

	reachable := lead.Lead{
		Status: lead.StatusContacted, Phone: "+13122013344", Email: "ann@example.com",
		Consent: lead.Consent{SMS: true, Email: true},
	}
	var (
		initialSMS   = lead.Step{Name: "initial", Channel: lead.ChannelSMS}
		initialEmail = lead.Step{Name: "initial", Channel: lead.ChannelEmail}
		day1         = lead.Step{Name: "day1", Channel: lead.ChannelSMS, Delay: 24 * time.Hour, Condition: lead.ConditionNoReply}
		day3         = lead.Step{Name: "day3", Channel: lead.ChannelEmail, Delay: 72 * time.Hour, Condition: lead.ConditionNoReply}
		reminder     = lead.Step{Name: "reminder", Channel: lead.ChannelSMS, Delay: 48 * time.Hour}
		safe         = lead.ConsentPolicy{}
		firstFree    = lead.ConsentPolicy{AllowFirstReplyWithoutConsent: true}
		repliedAt    = time.Date(2026, 3, 9, 14, 5, 0, 0, time.UTC)
	)
	with := func(change func(*lead.Lead)) lead.Lead {
		l := reachable
		change(&l)
		return l
	}

	tests := []struct {
		name       string
		lead       lead.Lead
		step       lead.Step
		suppressed bool
		policy     lead.ConsentPolicy
		// want is the whole reason; "" means the message may go.
		want string
	}{
		{"InitialSMS", reachable, initialSMS, false, safe, ""},
		{"InitialEmail", reachable, initialEmail, false, safe, ""},
		{"FollowUpSMS", reachable, day1, false, safe, ""},
		{"FollowUpEmail", reachable, day3, false, safe, ""},
		{"NewLead", with(func(l *lead.Lead) { l.Status = lead.StatusNew }), initialSMS, false, safe, ""},

		// The status stops every step, the first one too.
		{"RepliedInitial", with(func(l *lead.Lead) { l.Status = lead.StatusReplied }), initialSMS, false, safe, "the customer replied"},
		{"RepliedFollowUp", with(func(l *lead.Lead) { l.Status = lead.StatusReplied }), reminder, false, safe, "the customer replied"},
		{"Booked", with(func(l *lead.Lead) { l.Status = lead.StatusBooked }), day1, false, safe, "the customer booked"},
		{"OptedOut", with(func(l *lead.Lead) { l.Status = lead.StatusOptedOut }), initialEmail, false, firstFree, "the customer opted out"},
		{"Closed", with(func(l *lead.Lead) { l.Status = lead.StatusClosed }), day3, false, safe, "the lead is closed"},
		{"StatusBeforeSuppression", with(func(l *lead.Lead) { l.Status = lead.StatusReplied }), initialSMS, true, safe, "the customer replied"},

		// Suppression wins over any policy.
		{"SuppressedInitial", reachable, initialSMS, true, firstFree, "the address is on the tenant's suppression list"},
		{"SuppressedFollowUp", reachable, day3, true, safe, "the address is on the tenant's suppression list"},

		// no_reply steps remember a reply the status has forgotten (opted
		// out and back in: contacted again).
		{"NoReplyStepAfterReply", with(func(l *lead.Lead) { l.RepliedAt = repliedAt }), day1, false, safe,
			`the customer replied on 2026-03-09T14:05:00Z and step "day1" goes only to customers who have not`},
		{"NoReplyEmailAfterReply", with(func(l *lead.Lead) { l.RepliedAt = repliedAt.In(time.FixedZone("EST", -5*3600)) }), day3, false, safe,
			`the customer replied on 2026-03-09T14:05:00Z and step "day3" goes only to customers who have not`},
		{"AlwaysStepAfterReply", with(func(l *lead.Lead) { l.RepliedAt = repliedAt }), reminder, false, safe, ""},
		{"InitialAfterReply", with(func(l *lead.Lead) { l.RepliedAt = repliedAt }), initialSMS, false, safe, ""},

		// No address.
		{"NoPhone", with(func(l *lead.Lead) { l.Phone = "" }), initialSMS, false, firstFree, "the lead has no phone number"},
		{"NoEmail", with(func(l *lead.Lead) { l.Email = "" }), day3, false, safe, "the lead has no email address"},
		{"NoPhoneEmailStillGoes", with(func(l *lead.Lead) { l.Phone = "" }), initialEmail, false, safe, ""},

		// Consent: the first reply may go without it only if the tenant
		// allows it; follow-ups always need it.
		{"NoSMSConsentInitialSafe", with(func(l *lead.Lead) { l.Consent.SMS = false }), initialSMS, false, safe, "the customer has not consented to texts"},
		{"NoSMSConsentInitialAllowed", with(func(l *lead.Lead) { l.Consent.SMS = false }), initialSMS, false, firstFree, ""},
		{"NoSMSConsentFollowUpSafe", with(func(l *lead.Lead) { l.Consent.SMS = false }), day1, false, safe, "the customer has not consented to texts"},
		{"NoSMSConsentFollowUpAllowed", with(func(l *lead.Lead) { l.Consent.SMS = false }), day1, false, firstFree,
			`the customer has not consented to texts, which follow-ups such as step "day1" always need`},
		{"NoEmailConsentInitialSafe", with(func(l *lead.Lead) { l.Consent.Email = false }), initialEmail, false, safe, "the customer has not consented to email"},
		{"NoEmailConsentInitialAllowed", with(func(l *lead.Lead) { l.Consent.Email = false }), initialEmail, false, firstFree, ""},
		{"NoEmailConsentFollowUpAllowed", with(func(l *lead.Lead) { l.Consent.Email = false }), day3, false, firstFree,
			`the customer has not consented to email, which follow-ups such as step "day3" always need`},
		{"MarketingConsentIsNotChannelConsent", with(func(l *lead.Lead) { l.Consent = lead.Consent{Marketing: true} }), initialSMS, false, safe,
			"the customer has not consented to texts"},
		{"OtherChannelConsentDoesNotCount", with(func(l *lead.Lead) { l.Consent = lead.Consent{Email: true} }), reminder, false, safe,
			"the customer has not consented to texts"},

		// What the guard does not understand does not go.
		{"UnknownChannel", reachable, lead.Step{Name: "initial", Channel: "fax"}, false, firstFree, `step "initial" is on channel "fax", which we do not send on`},
		{"UnknownCondition", reachable, lead.Step{Name: "day2", Channel: lead.ChannelSMS, Condition: "no_booking"}, false, safe,
			`step "day2" has condition "no_booking", which the guards do not know`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, lead.SkipReasonFor(tt.lead, tt.step, tt.suppressed, tt.policy))
		})
	}
}

// TestSkipReasonIsTheInitialStep keeps the old entry point: it judges the
// initial step under the safe policy.
func TestSkipReasonIsTheInitialStep(t *testing.T) {
	t.Parallel()

	base := lead.Lead{Status: lead.StatusNew, Phone: "+13122013344", Email: "ann@example.com", Consent: lead.Consent{SMS: true, Email: true}}
	tests := []struct {
		name       string
		change     func(*lead.Lead)
		suppressed bool
	}{
		{"Reachable", func(*lead.Lead) {}, false},
		{"Suppressed", func(*lead.Lead) {}, true},
		{"Replied", func(l *lead.Lead) { l.Status = lead.StatusReplied }, false},
		{"NoConsent", func(l *lead.Lead) { l.Consent = lead.Consent{} }, false},
		{"NoAddress", func(l *lead.Lead) { l.Phone, l.Email = "", "" }, false},
	}
	for _, tt := range tests {
		for _, ch := range []lead.Channel{lead.ChannelSMS, lead.ChannelEmail, "fax"} {
			t.Run(tt.name+"/"+string(ch), func(t *testing.T) {
				t.Parallel()

				l := base
				tt.change(&l)
				want := lead.SkipReasonFor(l, lead.Step{Name: lead.StepInitial, Channel: ch}, tt.suppressed, lead.ConsentPolicy{})
				require.Equal(t, want, lead.SkipReason(l, ch, tt.suppressed))
			})
		}
	}
}

// TestSkipReasonForHelpAnswer: the answer to a HELP goes to whoever asked,
// whatever the lead's status or consent, a suppression too (changed with
// issue 14: HELP is answered after an opt-out; where the carrier blocked
// the number it refuses the answer itself).
func TestSkipReasonForHelpAnswer(t *testing.T) {
	t.Parallel()
	step := lead.Step{Name: lead.HelpAnswerStep("SM1"), Channel: lead.ChannelSMS}
	require.True(t, step.IsHelpAnswer())
	for _, st := range []lead.Status{lead.StatusNew, lead.StatusReplied, lead.StatusBooked, lead.StatusOptedOut} {
		l := lead.Lead{Status: st, Phone: "+13125550100"}
		require.Empty(t, lead.SkipReasonFor(l, step, false, lead.ConsentPolicy{}), st)
		require.Empty(t, lead.SkipReasonFor(l, step, true, lead.ConsentPolicy{}), st)
	}
	require.False(t, (lead.Step{Name: "day1"}).IsHelpAnswer())
}
