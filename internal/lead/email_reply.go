package lead

import (
	"regexp"
	"strings"
)

// StripEmailReply is the part of an email reply's text the customer (or
// the shop) wrote: everything before the quoted history and the
// signature. It cuts at the first line that starts what mail programs put
// under a reply:
//
//   - a quoted line ("> ...") once something was written above it;
//   - "On <date>, <name> wrote:" (also split over two lines, and in the
//     other languages mail programs localise it to);
//   - Outlook's "-----Original Message-----", or its header block
//     ("From: ..." followed by "Sent:"/"Date:" and "To:"/"Subject:");
//   - a line of underscores or dashes ruling off a forwarded message;
//   - the signature separator "-- " and "Sent from my iPhone" and the
//     like.
//
// Line endings become "\n" and the result is trimmed. A reply that is all
// quote (a forward with nothing added) strips to "".
func StripEmailReply(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")
	cut := len(lines)
	for i := 0; i < len(lines); i++ {
		if startsHistory(lines, i) {
			cut = i
			break
		}
	}
	return strings.TrimSpace(strings.Join(lines[:cut], "\n"))
}

var (
	// "On Tue, Mar 3, 2026 at 9:14 AM Ann Lee <ann@example.com> wrote:",
	// and the localised forms of Gmail, Apple Mail and Outlook.
	wroteLine = regexp.MustCompile(`(?i)^\s*(on|am|le|el|il|op|em)\s.+\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu).*:\s*$`)
	// The first half of a "wrote:" line wrapped onto two.
	onLine       = regexp.MustCompile(`(?i)^\s*on\s.+\d`)
	wroteTail    = regexp.MustCompile(`(?i)\bwrote\s*:\s*$`)
	originalLine = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|forwarded message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$`)
	headerFrom   = regexp.MustCompile(`(?i)^\s*\*?(from|von|de)\s*:\*?\s+\S`)
	headerNext   = regexp.MustCompile(`(?i)^\s*\*?(sent|date|to|subject|gesendet|an|betreff|envoyé|à|objet)\s*:`)
	ruleLine     = regexp.MustCompile(`^\s*(_{5,}|-{5,})\s*$`)
	sentFrom     = regexp.MustCompile(`(?i)^\s*(sent from my |sent from (yahoo mail|outlook|mail) |get outlook for )`)
)

// startsHistory reports whether lines[i] begins the quoted history or the
// signature.
func startsHistory(lines []string, i int) bool {
	line := lines[i]
	switch {
	case line == "-- " || strings.TrimSpace(line) == "--":
		return true
	case wroteLine.MatchString(line), originalLine.MatchString(line), ruleLine.MatchString(line), sentFrom.MatchString(line):
		return true
	case onLine.MatchString(line) && !wroteTail.MatchString(line) && i+1 < len(lines) && wroteTail.MatchString(lines[i+1]):
		return true
	case headerFrom.MatchString(line) && i+1 < len(lines) && headerNext.MatchString(lines[i+1]):
		return true
	case strings.HasPrefix(strings.TrimLeft(line, " \t"), ">"):
		// A quote under what was written: the history. A quote at the top
		// (an inline reply) is kept with what follows.
		return wroteAbove(lines[:i])
	}
	return false
}

// wroteAbove reports whether any of lines is neither blank nor quoted.
func wroteAbove(lines []string) bool {
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, ">") {
			return true
		}
	}
	return false
}
