package lead_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestClassifyInboundOptOutPhrases: consent is revoked by any reasonable
// means (FCC 2024), so a customer's own words opt out, while a reply that
// merely contains "stop" stays a reply the shop reads.
func TestClassifyInboundOptOutPhrases(t *testing.T) {
	t.Parallel()

	optOuts := []string{
		"stop texting me",
		"Stop texting me!!",
		"STOP TEXTING ME PLEASE",
		"OPT OUT",
		"opt-out",
		"Opt me out",
		"please don't text me",
		"Please don’t text me again", // a phone's curly apostrophe
		"dont text me",
		"Do not contact me",
		"Do not text this number",
		"never text me again",
		"unsubscribe me",
		"Unsubscribe me please",
		"leave me alone",
		"Leave me alone!!!",
		"remove me from your list",
		"Please remove my number from your list",
		"remove me",
		"no more texts",
		"No more messages please",
		"stop messaging me",
		"Stop sending me these messages",
		"stop with the texts",
		"take me off your list",
		"Take me off this list please",
		"take me off",
		"wrong number, stop",
		"Wrong number",
		"You have the wrong number",
		"wrong #",
		"quit texting me",
		"Stop sending",
		"you can stop texting me now thanks",
		"I never signed up for this, stop",
		"Nope, stop",
		"Stop contacting me",
		"STOP SPAMMING ME",
		"I don't want these texts",
		"I no longer want to receive messages",
		"I want to opt out",
		"I'd like to unsubscribe",
		"how do I stop these texts?",
		"delete my number",
		"lose my number",
		"Stop. Thanks",
		"ok stop",
		"stop stop stop",
		"Stop it",
		"Stop texting me, I already got it fixed elsewhere",
		"Thanks but please stop texting me",
		"I revoke my consent",
		"cease and desist",
		"Who is this? Stop texting me",
		"not interested, stop",
		"🛑 STOP 🛑",
		"stop texting me about this",
		"can u stop texting me",
		"can you stop texting me?",
		"PLEASE STOP",
		"Stop pls",
		"Stop texting and calling me",
	}
	replies := []string{
		"can you stop by at 3?",
		"my car won't stop squeaking",
		"stop light is on",
		"I'll stop in tomorrow",
		"don't stop, text me the quote",
		"Can I stop by after work?",
		"The check engine light won't stop flashing",
		"brakes grind when I stop",
		"I had to stop at a red light and it stalled",
		"Where should I stop to drop off the keys?",
		"Is there a bus stop nearby?",
		"the stop/start feature isn't working",
		"When can I stop in?",
		"I stopped by yesterday, nobody was there",
		"Why did you stop texting me?",
		"Did you stop working on my car?",
		"don't stop texting me, I like the reminders",
		"I don't want you to stop texting me",
		"You can stop the repair, I'll pick it up",
		"Stop! Don't do the brakes, just the oil change",
		"Please text me when it's ready",
		"text me the total",
		"Can you send me the quote by text?",
		"Cancel my appointment please",
		"I need to cancel Tuesday",
		"Please cancel",
		"End of the day works",
		"The end of the tailpipe is rattling",
		"I quit smoking so the car smells better lol",
		"Remove the old tires please",
		"Take the old battery off my bill?",
		"Leave the car outside, I'll pick it up",
		"leave the keys in the dropbox",
		"No more than $500 please",
		"no more noise after the fix, thanks!",
		"Wrong part was installed last time",
		"Not interested, went elsewhere",
		"Yes please, Tuesday works",
		"Opt for the cheaper pads",
		"could you drop me off at work?",
		"The stopper on the tailgate broke",
		"Stopping at 5 today?",
		"how do I get there?",
		"Is the number on your site the right number to call?",
		"Please call me instead of texting, my number is 555-201-3344",
		"stop calling me",       // the shop's people call: they read it
		"dont call me, text me", // the channel the customer asks for stays open
		"stop calling, text me instead",
		"No more calls please, texting is fine",
		"stop emailing me",                      // emails are unsubscribed by email (and List-Unsubscribe)
		"Stop. I already got it done elsewhere", // a bare stop among other words: a reply the shop reads
		"Stop everything",
		"Please stop the work on my car",
	}
	for _, body := range optOuts {
		t.Run("opt-out/"+body, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, lead.InboundStop, lead.ClassifyInbound(body), "%q", body)
		})
	}
	for _, body := range replies {
		t.Run("reply/"+body, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, lead.InboundReply, lead.ClassifyInbound(body), "%q", body)
		})
	}
	require.GreaterOrEqual(t, len(optOuts), 30)
	require.GreaterOrEqual(t, len(replies), 30)
}

// TestClassifyInboundOptOutPadding: what phones and keyboards put around
// or inside the words, unseen, changes nothing.
func TestClassifyInboundOptOutPadding(t *testing.T) {
	t.Parallel()

	tests := []struct {
		body string
		want lead.InboundKind
	}{
		{"stop\u00a0texting\u00a0me", lead.InboundStop},          // no-break spaces
		{"stop\u200b texting me", lead.InboundStop},              // zero-width space
		{"\ufeffstop texting me\u200e", lead.InboundStop},        // byte-order mark, left-to-right mark
		{"st\u200bop texting me", lead.InboundStop},              // inside the word
		{"\u2003stop   texting\t\tme\u3000", lead.InboundStop},   // em space, runs of space, ideographic space
		{"stop texting me\r\n", lead.InboundStop},                // a line ending
		{"ＳＴＯＰ ＴＥＸＴＩＮＧ ＭＥ", lead.InboundStop},                    // full-width letters
		{"stop texting me 🙏🏽", lead.InboundStop},                 // emoji with a skin-tone modifier
		{"don\u2019t text me\ufe0f", lead.InboundStop},           // curly apostrophe, variation selector
		{"OPT\u2011OUT", lead.InboundStop},                       // non-breaking hyphen
		{"opt\u00adout", lead.InboundStop},                       // soft hyphen (a format character)
		{"\u200bcan you stop by at 3?\u200b", lead.InboundReply}, // padding does not make a reply an opt-out
		{"my car won\u2019t stop squeaking", lead.InboundReply},  // curly apostrophe in a reply
		{"\u00a0\u200b", lead.InboundReply},                      // nothing but padding
		{"🛑", lead.InboundReply},                                 // an emoji alone says nothing we can read
		{"yes\u00a0please", lead.InboundReply},                   // opt-in stays exact
		{"START texting me", lead.InboundReply},                  // opt-in stays exact
		{"\u200bSTART\u200b", lead.InboundStart},                 // the exact word, padded
		{"stop\u2026", lead.InboundStop},                         // an ellipsis
		{"STOP\u3002", lead.InboundStop},                         // an ideographic full stop
		{"s\u200bt\u200bo\u200bp texting me", lead.InboundStop},  // zero-width spaces between letters
		{"leave\u2028me alone", lead.InboundStop},                // a line separator
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, lead.ClassifyInbound(tt.body), "%q", tt.body)
		})
	}
}

// TestProviderOptOutKeyword: only what Twilio blocks and confirms itself.
func TestProviderOptOutKeyword(t *testing.T) {
	t.Parallel()

	for _, body := range []string{"STOP", "stop", " Stop\n", "unsubscribe", "StopAll", "optout", "Cancel", "END", "quit", "revoke"} {
		require.True(t, lead.ProviderOptOutKeyword(body), "%q", body)
	}
	for _, body := range []string{"Stop.", "STOP!", "opt out", "stop texting me", "please stop", "ＳＴＯＰ", "START", "help", "\u200bSTOP"} {
		require.False(t, lead.ProviderOptOutKeyword(body), "%q", body)
	}
}

// TestOptOutConfirmation: the one confirmation goes past the opt-out it
// confirms, is owed only where the carrier did not confirm, and only once.
func TestOptOutConfirmation(t *testing.T) {
	t.Parallel()

	step := lead.Step{Name: lead.OptOutConfirmationStep("SM1"), Channel: lead.ChannelSMS}
	require.True(t, step.IsOptOutConfirmation())
	require.False(t, step.IsHelpAnswer())
	require.False(t, (lead.Step{Name: "day1"}).IsOptOutConfirmation())
	for _, st := range []lead.Status{lead.StatusNew, lead.StatusContacted, lead.StatusReplied, lead.StatusBooked, lead.StatusOptedOut, lead.StatusClosed} {
		l := lead.Lead{Status: st, Phone: "+15555550100"}
		require.Empty(t, lead.SkipReasonFor(l, step, true, lead.ConsentPolicy{}), st)
	}

	require.True(t, lead.ConfirmsOptOut("stop texting me", false))
	require.True(t, lead.ConfirmsOptOut("Stop.", false), "unsure whether Twilio took it: confirm")
	require.False(t, lead.ConfirmsOptOut("STOP", false), "Twilio confirms its keywords itself")
	require.False(t, lead.ConfirmsOptOut("stop texting me", true), "a second opt-out")

	// No sequence step may pass for one.
	seq := lead.Sequence{{Name: lead.OptOutConfirmationStep("x"), Channel: lead.ChannelSMS, Template: lead.Templates{SMS: "hi"}}}
	err := seq.Validate()
	require.ErrorContains(t, err, "reserved for opt-out confirmations")
}

// FuzzClassifyInboundPadding: invisible padding around a text (a
// zero-width space, a byte-order mark, a no-break space) never changes
// what it means.
func FuzzClassifyInboundPadding(f *testing.F) {
	for _, seed := range []string{"STOP", "stop texting me", "can you stop by at 3?", "YES", "help", "", "don't stop, text me the quote", "wrong number, stop"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		require.Equal(t, lead.ClassifyInbound(body), lead.ClassifyInbound("\ufeff\u200b"+body+"\u00a0\u200e"), "%q", body)
	})
}

// BenchmarkClassifyInbound is the cost of reading one reply that is not
// an opt-out (every clause tried against every phrase).
func BenchmarkClassifyInbound(b *testing.B) {
	for b.Loop() {
		lead.ClassifyInbound("Hi, can you stop by at 3? My car won't stop squeaking, and the stop light is on.")
	}
}
