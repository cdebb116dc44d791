package lead

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// MaxPhoneRegions bounds compliance.phone_regions: a shop texts customers
// near it, and every region is one more country whose law it answers to.
const MaxPhoneRegions = 10

// Regions are the regions the shop's numbers are parsed for and must be
// valid in: PhoneRegions, or DefaultPhoneRegions when it names none. Pass
// them to ParsePhoneNumberIn.
func (c Compliance) Regions() []string {
	if len(c.PhoneRegions) == 0 {
		return DefaultPhoneRegions()
	}
	return slices.Clone(c.PhoneRegions)
}

// ParsePhoneNumber reads a number for this tenant: valid in one of its
// phone regions, in E.164.
func (t Tenant) ParsePhoneNumber(raw string) (PhoneNumber, error) {
	return ParsePhoneNumberIn(raw, t.Compliance.Regions())
}

// checkPhoneRegions checks compliance.phone_regions: each an upper-case
// region libphonenumber has data for, once, at most MaxPhoneRegions. A
// region it does not know would refuse every number of the shop's leads.
func (t Tenant) checkPhoneRegions(p *tenantProblems) {
	const field = "compliance.phone_regions"
	regions := t.Compliance.PhoneRegions
	if len(regions) > MaxPhoneRegions {
		p.bad(field, fmt.Sprintf("names %d regions, at most %d allowed", len(regions), MaxPhoneRegions))
		return
	}
	supported := phonenumbers.GetSupportedRegions()
	for i, r := range regions {
		switch {
		case r != strings.ToUpper(strings.TrimSpace(r)) && supported[strings.ToUpper(strings.TrimSpace(r))]:
			p.bad(field, fmt.Sprintf("%s must be written %s (upper case, no spaces)", quote(r), quote(strings.ToUpper(strings.TrimSpace(r)))))
		case !supported[r]:
			p.bad(field, quote(r)+" is not a region libphonenumber knows (an ISO 3166-1 alpha-2 code such as US or CA)")
		case slices.Index(regions, r) < i:
			p.bad(field, quote(r)+" is listed twice")
		}
	}
}
