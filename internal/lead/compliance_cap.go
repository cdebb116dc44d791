package lead

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The default text cap is the strictest state rule encoded: Florida's
// Telemarketing Act (Fla. Stat. 501.616(6)) allows no more than 3
// commercial telephone solicitations in 24 hours on the same subject, from
// any number (Oklahoma's 15 O.S. 775C and Maryland's Com. Law 14-4501 say
// the same). A shop whose customers all live elsewhere may raise it; a
// shop never needs to lower it below one.
const (
	DefaultCapTexts       = 3
	DefaultCapWindowHours = 24
)

// Bounds of a tenant's text cap: at least one text (a cap of none would
// stop every follow-up, which is disabling the tenant), at most 50 (more
// is no cap), over at most a week.
const (
	MaxCapTexts       = 50
	MaxCapWindowHours = 168
)

// TextCapHeldPrefix starts the reason on the outbox row of a text the
// cap holds back (pending until the window has room), so an operator, and
// the chaos harness, tell it from a text stuck for another reason.
const TextCapHeldPrefix = "held by the text cap"

// WindowHeldPrefix starts the reason on the outbox row of a text the
// sending window closed on between the job's first look and its claim:
// the row stays pending and the job snoozes to the opening.
const WindowHeldPrefix = "waiting for the sending window"

// Effective is the cap with its defaults filled in: each zero field
// takes its default, so a tenant that set only the window keeps 3 texts.
func (c TextCap) Effective() TextCap {
	if c.Texts == 0 {
		c.Texts = DefaultCapTexts
	}
	if c.WindowHours == 0 {
		c.WindowHours = DefaultCapWindowHours
	}
	return c
}

// Window is the rolling window the cap counts texts in, with defaults.
func (c TextCap) Window() time.Duration {
	return time.Duration(c.Effective().WindowHours) * time.Hour
}

// String reads like the enqueue flag: "3/24h".
func (c TextCap) String() string {
	e := c.Effective()
	return fmt.Sprintf("%d/%dh", e.Texts, e.WindowHours)
}

// checkTextCap checks the tenant's text cap: zero (the default) or within
// the bounds above.
func (t Tenant) checkTextCap(p *tenantProblems) {
	c := t.Compliance.TextCap
	if c.Texts < 0 || c.Texts > MaxCapTexts {
		p.bad("compliance.text_cap.texts", fmt.Sprintf("is %d, must be 1 to %d texts (or 0 for the default, %d)", c.Texts, MaxCapTexts, DefaultCapTexts))
	}
	if c.WindowHours < 0 || c.WindowHours > MaxCapWindowHours {
		p.bad("compliance.text_cap.window_hours", fmt.Sprintf("is %d, must be 1 to %d hours (or 0 for the default, %d)", c.WindowHours, MaxCapWindowHours, DefaultCapWindowHours))
	}
}

// CountsTowardTextCap reports whether a text of this step is a
// solicitation the cap counts and holds back. The state rules cap
// solicitations, and a text the customer asked for is none (Maryland's
// 14-4502 exempts answering the customer's own inquiry by name):
//   - counted: the steps of the sequence (the first answer to an inquiry
//     included: it opens the count, and a CRM lead is an inquiry made
//     through the shop, not a text the customer sent us) and a missed
//     caller's text (the shop texts first);
//   - exempt: the answer to a HELP, an opt-out's one confirmation, the
//     shop's own answer to a customer who texted it, and a booking's
//     confirmation. They neither count nor wait: each answers what the
//     customer just did, and holding one back would be worse than
//     sending it (an opt-out unconfirmed, a question unanswered).
//
// Notices go to the shop, by email, and are never texts to a customer.
func (s Step) CountsTowardTextCap() bool {
	_, answer := s.ShopAnswerInbound()
	switch {
	case s.IsHelpAnswer(), s.IsOptOutConfirmation(), answer, s.IsBookingText(), s.IsNotice():
		return false
	}
	return true
}

// ParseTextCap reads a cap as operators write it, "3/24h" (texts per
// hours), or "default" (or "") for the default. It checks only the
// shape; Tenant.Validate checks the bounds.
func ParseTextCap(s string) (TextCap, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "default" {
		return TextCap{}, nil
	}
	texts, hours, ok := strings.Cut(s, "/")
	hours, hasH := strings.CutSuffix(strings.TrimSpace(hours), "h")
	if !ok || !hasH {
		return TextCap{}, fmt.Errorf("%q is not texts per hours, such as 3/24h", s)
	}
	n, errN := strconv.Atoi(strings.TrimSpace(texts))
	h, errH := strconv.Atoi(strings.TrimSpace(hours))
	if errN != nil || errH != nil || n <= 0 || h <= 0 {
		return TextCap{}, fmt.Errorf("%q is not texts per hours, such as 3/24h (both whole numbers above 0)", s)
	}
	return TextCap{Texts: n, WindowHours: h}, nil
}
