package lead_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestClassifyInbound(t *testing.T) {
	t.Parallel()

	tests := []struct {
		body string
		want lead.InboundKind
	}{
		// Every opt-out keyword, in any case.
		{"STOP", lead.InboundStop},
		{"stop", lead.InboundStop},
		{"Stop", lead.InboundStop},
		{"sToP", lead.InboundStop},
		{"STOPALL", lead.InboundStop},
		{"StopAll", lead.InboundStop},
		{"UNSUBSCRIBE", lead.InboundStop},
		{"unsubscribe", lead.InboundStop},
		{"CANCEL", lead.InboundStop},
		{"end", lead.InboundStop},
		{"Quit", lead.InboundStop},
		{"REVOKE", lead.InboundStop},
		{"optout", lead.InboundStop},
		{"OptOut", lead.InboundStop},

		// Around the keyword: spaces of any kind, invisible format
		// characters, punctuation.
		{" STOP ", lead.InboundStop},
		{"\tstop\n", lead.InboundStop},
		{"STOP\r\n", lead.InboundStop},
		{"Stop.", lead.InboundStop},
		{"STOP!", lead.InboundStop},
		{"stop!!!", lead.InboundStop},
		{"Stop?", lead.InboundStop},
		{"...stop", lead.InboundStop},
		{`"STOP"`, lead.InboundStop},
		{"¡Stop!", lead.InboundStop},
		{"STOP\u00a0", lead.InboundStop},       // no-break space
		{"\u2003STOP\u3000", lead.InboundStop}, // em space, ideographic space
		{"\u200bSTOP", lead.InboundStop},       // zero-width space
		{"\ufeffstop", lead.InboundStop},       // byte-order mark
		{"STOP\u200e", lead.InboundStop},       // left-to-right mark
		{"Quit. ", lead.InboundStop},

		// Opt-in and help.
		{"START", lead.InboundStart},
		{"start", lead.InboundStart},
		{"Unstop", lead.InboundStart},
		{"YES", lead.InboundStart},
		{"Yes!", lead.InboundStart},
		{" yes. ", lead.InboundStart},
		{"HELP", lead.InboundHelp},
		{"help?", lead.InboundHelp},
		{"Info", lead.InboundHelp},

		// Changed with issue 14: since the FCC's 2024 revocation rules these
		// revoke consent too (they were replies, as Twilio reads them; see
		// TestClassifyInboundOptOutPhrases for the full table).
		{"Stop texting me please", lead.InboundStop},
		{"STOP PLEASE", lead.InboundStop},
		{"please stop", lead.InboundStop},
		{"STOP ALL", lead.InboundStop},
		{"opt out", lead.InboundStop},
		{"S T O P", lead.InboundStop},
		{"STOP 🛑", lead.InboundStop},
		{"ＳＴＯＰ", lead.InboundStop}, // full-width: Twilio does not block it, so our list must

		// Only the keyword as the whole message, or a phrase: anything more
		// is a reply for the shop.
		{"Please cancel", lead.InboundReply}, // cancel what: the appointment, most likely
		{"STOPP", lead.InboundReply},
		{"stopping by tomorrow", lead.InboundReply},
		{"Yes please, Tuesday works", lead.InboundReply},
		{"yes, book me in", lead.InboundReply},
		{"I need help with my brakes", lead.InboundReply},
		{"Start the repair", lead.InboundReply},
		{"Hi, what time tomorrow?", lead.InboundReply},
		{"No", lead.InboundReply},
		{"ok", lead.InboundReply},

		// Nothing but padding, or nothing at all (a photo without text).
		{"", lead.InboundReply},
		{"   ", lead.InboundReply},
		{"\u00a0\u200b", lead.InboundReply},
		{"?!", lead.InboundReply},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, lead.ClassifyInbound(tt.body), "%q", tt.body)
		})
	}
}

func TestInboundKindLeadEvent(t *testing.T) {
	t.Parallel()

	statuses := []lead.Status{lead.StatusNew, lead.StatusContacted, lead.StatusReplied, lead.StatusBooked, lead.StatusOptedOut, lead.StatusClosed}
	tests := []struct {
		kind lead.InboundKind
		// want is the event for each status above; "" means none.
		want []lead.LeadEvent
	}{
		{lead.InboundStop, []lead.LeadEvent{lead.EventOptedOut, lead.EventOptedOut, lead.EventOptedOut, lead.EventOptedOut, lead.EventOptedOut, lead.EventOptedOut}},
		// "Yes" answers "Still need a hand?" unless the customer opted out.
		{lead.InboundStart, []lead.LeadEvent{lead.EventReplied, lead.EventReplied, lead.EventReplied, lead.EventReplied, lead.EventOptedIn, lead.EventReplied}},
		{lead.InboundHelp, []lead.LeadEvent{"", "", "", "", "", ""}},
		{lead.InboundReply, []lead.LeadEvent{lead.EventReplied, lead.EventReplied, lead.EventReplied, lead.EventReplied, lead.EventReplied, lead.EventReplied}},
		{"unknown", []lead.LeadEvent{"", "", "", "", "", ""}},
	}
	for _, tt := range tests {
		for i, st := range statuses {
			t.Run(string(tt.kind)+"/"+string(st), func(t *testing.T) {
				t.Parallel()

				got, ok := tt.kind.LeadEvent(st)
				require.Equal(t, tt.want[i] != "", ok)
				require.Equal(t, tt.want[i], got)
			})
		}
	}
}
