package lead

import (
	"regexp"
	"strings"
)

// ReplyPurpose says whose answer a reply address receives.
type ReplyPurpose string

const (
	// ReplyCustomer is the Reply-To of every email to a lead's customer:
	// their answer is an inbound message of that lead.
	ReplyCustomer ReplyPurpose = "customer"
	// ReplyShop is the Reply-To of the shop's notices about a lead: the
	// shop's answer goes to that lead's customer as a text.
	ReplyShop ReplyPurpose = "shop"
)

// ReplyAddress is the address r+<token>@<domain>.
func ReplyAddress(token, domain string) string { return "r+" + token + "@" + domain }

var replyLocal = regexp.MustCompile(`^r\+([a-z2-7]{26})$`)

// ReplyToken is the token of a reply address (any case; ok false for
// an address that is not one).
func ReplyToken(address string) (token string, ok bool) {
	address = strings.ToLower(strings.TrimSpace(address))
	at := strings.LastIndexByte(address, '@')
	if at <= 0 {
		return "", false
	}
	m := replyLocal.FindStringSubmatch(address[:at])
	if m == nil {
		return "", false
	}
	return m[1], true
}
