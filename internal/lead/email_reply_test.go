package lead_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestStripEmailReply: the replies of the mail programs customers and
// shops use, reduced to what they wrote.
func TestStripEmailReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"Plain", "Friday at 10 works for me.\r\n", "Friday at 10 works for me."},
		{"Gmail", "Friday at 10 works.\n\nOn Tue, Mar 3, 2026 at 9:14 AM Maple Street Auto <service@maple.example> wrote:\n> Hi Ann,\n> Thanks for contacting us.\n", "Friday at 10 works."},
		{"GmailWrapped", "Sure, see you then\n\nOn Tue, Mar 3, 2026 at 9:14 AM Maple Street Auto <\nservice@maple.example> wrote:\n> Hi Ann,", "Sure, see you then"},
		{"GmailWrappedBeforeWrote", "Yes\n\nOn Tue, Mar 3, 2026 at 9:14 AM Maple Street Auto <service@maple.example>\nwrote:\n> Hi", "Yes"},
		{"AppleMail", "Sounds good!\n\nSent from my iPhone\n\n> On Mar 3, 2026, at 09:14, Maple Street Auto <service@maple.example> wrote:\n> \n> Hi Ann,", "Sounds good!"},
		{"Outlook", "Please call me after 5.\r\n\r\n-----Original Message-----\r\nFrom: Maple Street Auto <service@maple.example>\r\nSent: Tuesday, March 3, 2026 9:14 AM\r\n", "Please call me after 5."},
		{"OutlookHeaderBlock", "How much for the brakes?\n\n________________________________\nFrom: Maple Street Auto <service@maple.example>\nSent: Tuesday, March 3, 2026 9:14 AM\nTo: Ann Lee\n", "How much for the brakes?"},
		{"OutlookHeaderBlockNoRule", "How much?\n\nFrom: Maple Street Auto <service@maple.example>\nSent: Tuesday, March 3, 2026 9:14 AM\n", "How much?"},
		{"German", "Passt, danke.\n\nAm 03.03.2026 um 09:14 schrieb Maple Street Auto <service@maple.example>:\n> Hallo", "Passt, danke."},
		{"French", "Parfait.\n\nLe mar. 3 mars 2026 à 09:14, Maple Street Auto <service@maple.example> a écrit :\n> Bonjour", "Parfait."},
		{"Spanish", "Perfecto.\n\nEl mar, 3 mar 2026 a las 9:14, Maple Street Auto (<service@maple.example>) escribió:\n> Hola", "Perfecto."},
		{"Signature", "Thursday morning please.\n-- \nAnn Lee\nAcme Corp", "Thursday morning please."},
		{"YahooSentFrom", "ok thanks\n\nSent from Yahoo Mail for iPhone\n", "ok thanks"},
		{"QuoteUnderReply", "Yes please\n> Can we book you for Friday?\n", "Yes please"},
		{"InlineReplyKeepsFirstAnswer", "> Can we book you for Friday?\nYes, Friday is fine\n\n> What time?\n10am", "> Can we book you for Friday?\nYes, Friday is fine"},
		{"AllQuote", "> Hi Ann,\n> Thanks for contacting us.", "> Hi Ann,\n> Thanks for contacting us."},
		{"ForwardOnly", "---------- Forwarded message ---------\nFrom: Maple Street Auto <service@maple.example>\nDate: Tue, Mar 3, 2026", ""},
		{"Stop", "STOP\n\nOn Tue, Mar 3, 2026 at 9:14 AM Maple Street Auto <service@maple.example> wrote:\n> Reply STOP to opt out.", "STOP"},
		{"OnInTextIsKept", "On second thought, Monday is better.\nThanks", "On second thought, Monday is better.\nThanks"},
		{"FromInTextIsKept", "From: my wife's account, sorry.\nMonday works.", "From: my wife's account, sorry.\nMonday works."},
		{"DashesInTextAreKept", "Price -- is it $200?", "Price -- is it $200?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, lead.StripEmailReply(tc.in))
		})
	}
}
