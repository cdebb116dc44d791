package lead

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPostalAddressLen bounds a shop's postal address: one line of a
// footer, not a letter.
const MaxPostalAddressLen = 200

// MaxASMGroupID bounds a SendGrid unsubscribe group id (an integer id
// SendGrid assigns; ours are stored as int and sent as JSON numbers).
const MaxASMGroupID = 1<<31 - 1

// checkEmailCompliance checks what the shop's customer email carries: its
// postal address (CAN-SPAM: a street address, a USPS box or a registered
// private mailbox) and its SendGrid unsubscribe group.
func (t Tenant) checkEmailCompliance(p *tenantProblems) {
	if reason := postalAddressProblem(t.Compliance.PostalAddress); reason != "" {
		p.bad("compliance.postal_address", reason)
	}
	if g := t.Compliance.ASMGroupID; g < 0 || g > MaxASMGroupID {
		p.bad("compliance.asm_group_id", fmt.Sprintf("is %d, must be a SendGrid unsubscribe group id (1 to %d), or 0 for none", g, MaxASMGroupID))
	}
}

// postalAddressProblem says what is wrong with a postal address, "" when
// nothing is (an empty one is no address, which only follow-up email
// needs). It cannot tell a real address from an invented one; it refuses
// what cannot be one: blank, a second line (the footer prints it on
// one), no number at all (every street address, box and ZIP has one).
func postalAddressProblem(a string) string {
	switch {
	case a == "":
		return ""
	case strings.TrimSpace(a) != a:
		return "must not start or end with spaces"
	case utf8.RuneCountInString(a) > MaxPostalAddressLen:
		return fmt.Sprintf("is %d characters long, at most %d allowed", utf8.RuneCountInString(a), MaxPostalAddressLen)
	case strings.ContainsFunc(a, unicode.IsControl):
		return "must be one line (write it with commas: 12 Main St, Springfield, IL 62701)"
	case !strings.ContainsFunc(a, unicode.IsDigit):
		return "has no number: a postal address has a street number, box number or ZIP code (such as 12 Main St, Springfield, IL 62701)"
	}
	return ""
}

// ToCustomerByEmail reports whether step is an email to the customer (a
// step of the sequence, the first answer included), which carries an
// unsubscribe link, rather than a notice to the shop.
func (s Step) ToCustomerByEmail() bool {
	return s.Channel == ChannelEmail && !s.IsNotice()
}

// IsFollowUpEmail reports whether step is a follow-up email: an email to
// the customer after the first answer. Every one needs the shop's postal
// address and a working unsubscribe (CAN-SPAM; Gmail's and Yahoo's
// rules for subscription mail). The first answer replies to the
// customer's own inquiry and goes without a postal address (it carries
// the address, and the unsubscribe, when there are).
func (s Step) IsFollowUpEmail() bool {
	return s.ToCustomerByEmail() && !s.IsInitial()
}

// EmailSkipReason says why step's email must not go under the shop's
// compliance settings, "" when it may: a follow-up email without the
// shop's postal address, or without an unsubscribe link (canUnsubscribe
// false: the fleet has no public URL for the unsubscribe endpoint). It is
// recorded on the message as an operator reads it.
func (c Compliance) EmailSkipReason(step Step, canUnsubscribe bool) string {
	if !step.IsFollowUpEmail() {
		return ""
	}
	switch {
	case c.PostalAddress == "":
		return "the shop has no postal address (compliance.postal_address, `enqueue tenant update --postal-address`), which every follow-up email must carry"
	case !canUnsubscribe:
		return "the fleet has no public URL (http.public_url) for the unsubscribe link every follow-up email must carry"
	}
	return ""
}

// EmailFooter is what every email to a customer ends with: the shop and
// its postal address (when it has one), and the link that unsubscribes
// the address from the shop's email ("" for none: the fleet has no
// public URL). With neither an address nor a link it is empty.
func EmailFooter(shopName string, c Compliance, unsubscribeURL string) string {
	if c.PostalAddress == "" && unsubscribeURL == "" {
		return ""
	}
	// No "-- " line above it: mail programs fold a signature away, and
	// this must stay visible.
	var b strings.Builder
	b.WriteString(shopName)
	if c.PostalAddress != "" {
		b.WriteString(", " + c.PostalAddress)
	}
	b.WriteString("\n")
	if unsubscribeURL != "" {
		b.WriteString("To stop emails from " + shopName + ", unsubscribe here: " + unsubscribeURL + "\n")
	}
	return b.String()
}

// ErrUnsubscribeLinkUnknown is every unsubscribe link that does not
// unsubscribe: malformed, forged, signed by a retired key, for an email or
// tenant that is gone. The page answers them all alike (404, naming
// nothing), so it tells a forger nothing.
var ErrUnsubscribeLinkUnknown = errors.New("unknown unsubscribe link")

// Unsubscription is what the unsubscribe page shows of a link: the shop
// and the address (masked: the link may be forwarded), and whether the
// address is already unsubscribed.
type Unsubscription struct {
	Shop    string
	Address string
	Done    bool
}
