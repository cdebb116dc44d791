package lead_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestSequenceReservesMissedCallSteps: a sequence step may not be named
// like a missed-call text, which has guards of its own.
func TestSequenceReservesMissedCallSteps(t *testing.T) {
	t.Parallel()
	seq := lead.Sequence{
		{Name: lead.StepInitial, Channel: lead.ChannelSMS},
		{Name: lead.MissedCallStep(7), Channel: lead.ChannelSMS, Delay: time.Hour},
	}
	err := seq.Validate()
	require.ErrorContains(t, err, "sequence[1]")
	require.ErrorContains(t, err, "reserved for missed-call texts")
}

// TestNewMissedCallLead: the caller's lead, named by the CallSid, with no
// consent on record; a missing field is named.
func TestNewMissedCallLead(t *testing.T) {
	t.Parallel()
	tenant := uuid.New()
	at := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	l, err := lead.NewMissedCallLead(tenant, "shopmonkey", "CA0123", "+15125550100", at)
	require.NoError(t, err)
	require.Equal(t, "call:CA0123", l.ExternalID)
	require.Equal(t, lead.SourceMissedCall, l.Source)
	require.True(t, l.Source.Valid())
	require.Equal(t, lead.StatusNew, l.Status)
	require.Equal(t, lead.FoundViaWebhook, l.FoundVia)
	require.False(t, l.Consent.SMS)

	_, err = lead.NewMissedCallLead(tenant, "shopmonkey", "", "+15125550100", at)
	require.ErrorContains(t, err, "call_sid")
	_, err = lead.NewMissedCallLead(tenant, "shopmonkey", "CA1", "", at)
	require.ErrorContains(t, err, "from")
	require.False(t, lead.Source("voicemail").Valid())
}

// TestMissedCallTextGuards: the caller started the conversation, so a
// lead that replied or booked before is still texted; a STOP or missing
// consent (under a policy that wants it for first replies) is not.
func TestMissedCallTextGuards(t *testing.T) {
	t.Parallel()
	step := lead.Step{Name: lead.MissedCallStep(1), Channel: lead.ChannelSMS}
	allow := lead.ConsentPolicy{AllowFirstReplyWithoutConsent: true}
	base := lead.Lead{Phone: "+15125550100", Status: lead.StatusNew}

	require.Empty(t, lead.SkipReasonFor(base, step, false, allow))
	for _, s := range []lead.Status{lead.StatusReplied, lead.StatusBooked, lead.StatusContacted, lead.StatusClosed} {
		l := base
		l.Status = s
		require.Empty(t, lead.SkipReasonFor(l, step, false, allow), s)
	}
	opted := base
	opted.Status = lead.StatusOptedOut
	require.Equal(t, "the customer opted out", lead.SkipReasonFor(opted, step, false, allow))
	require.Contains(t, lead.SkipReasonFor(base, step, true, allow), "suppression list")
	require.Contains(t, lead.SkipReasonFor(base, step, false, lead.ConsentPolicy{}), "not consented")
	consented := base
	consented.Consent.SMS = true
	require.Empty(t, lead.SkipReasonFor(consented, step, false, lead.ConsentPolicy{}))
}
