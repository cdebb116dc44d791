package lead_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func zoneNames(r lead.Recipient) []string {
	names := make([]string, len(r.Zones))
	for i, z := range r.Zones {
		names[i] = z.String()
	}
	return names
}

// TestRecipientOf: the CRM address first, else the number's area code
// (its zones, and its state for the state's rule), else nothing known.
func TestRecipientOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		region  string
		phone   lead.PhoneNumber
		zones   []string
		state   string // ISO 3166-2, "" none
		rule    lead.QuietRule
		fromHas string
	}{
		{"AddressWinsOverTheNumber", "US-FL", "+12085550100", []string{"America/New_York", "America/Chicago"}, "US-FL", lead.QuietRuleFlorida, "address in the CRM (Florida)"},
		{"AddressAlone", "US-CT", "", []string{"America/New_York"}, "US-CT", lead.QuietRuleConnecticut, "address"},
		{"AddressOfAStateWithoutARule", "CA-ON", "+15125550100", []string{"America/Toronto", "America/Winnipeg"}, "CA-ON", "", "Ontario"},
		{"AreaCodeStraddlingAZoneLine", "", "+12085550100", []string{"America/Boise", "America/Los_Angeles"}, "US-ID", "", "area code (Idaho)"},
		{"AreaCodeOfAStateWithARule", "", "+15122013344", []string{"America/Chicago"}, "US-TX", lead.QuietRuleTexas, "area code (Texas)"},
		{"OklahomaAreaCode", "", "+14052013344", []string{"America/Chicago"}, "US-OK", lead.QuietRuleOklahoma, "Oklahoma"},
		{"TownAndStateOfAPrefix", "", "+13122015555", []string{"America/Chicago"}, "US-IL", "", "area code (Illinois)"},
		// A street, town and state: the state is after the last comma (it
		// read "US-Houston, TX", and the Texas rule was lost).
		{"StreetTownAndState", "", "+17132764567", []string{"America/Chicago"}, "US-TX", lead.QuietRuleTexas, "area code (Texas)"},
		{"StreetTownAndStatePlano", "", "+12147784567", []string{"America/Chicago"}, "US-TX", lead.QuietRuleTexas, "Texas"},
		{"TownAndStateWithARule", "", "+13052015555", []string{"America/New_York"}, "US-FL", lead.QuietRuleFlorida, "area code (Florida)"},
		{"Hawaii", "", "+18082013344", []string{"Pacific/Honolulu"}, "US-HI", "", "Hawaii"},
		{"Canada", "", "+16042013344", []string{"America/Vancouver"}, "CA-BC", "", "British Columbia"},
		{"OneZoneCountry", "", "+442079460958", []string{"Europe/London"}, "", "", "area code (Europe/London)"},
		{"TollFreeSaysNothing", "", "+18005550199", nil, "", "", "shop's time zone"},
		{"NoNumberNoAddress", "", "", nil, "", "", "shop's time zone"},
		{"AnAddressCodeWeDoNotKnowFallsBackToTheNumber", "US-XX", "+18082013344", []string{"Pacific/Honolulu"}, "US-HI", "", "area code (Hawaii)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := lead.RecipientOf(tt.region, tt.phone)
			if tt.zones == nil {
				require.Empty(t, got.Zones)
			} else {
				require.Equal(t, tt.zones, zoneNames(got))
			}
			require.Equal(t, tt.state, got.Subdivision.Code)
			require.Equal(t, tt.rule, got.Subdivision.Rule)
			require.Contains(t, got.From, tt.fromHas)
		})
	}
}

// TestParseSubdivision: a state as CRMs write it, code or name, with or
// without a country; anything else is named, never guessed.
func TestParseSubdivision(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ state, country, want, err string }{
		{"TX", "", "US-TX", ""},
		{" tx ", "US", "US-TX", ""},
		{"Texas", "United States", "US-TX", ""},
		{"new  york", "USA", "US-NY", ""},
		{"D.C.", "", "US-DC", ""},
		{"ON", "Canada", "CA-ON", ""},
		{"Quebec", "CA", "CA-QC", ""},
		{"", "US", "", ""},
		{"", "", "", ""},
		{"Tejas", "", "", `"Tejas" is not a US state or Canadian province`},
		{"ON", "US", "", `"ON" is not a US state`},
		{"TX", "Canada", "", `"TX" is not a Canadian province`},
		{"Bavaria", "Germany", "", `the country "Germany" is not the United States or Canada`},
	} {
		got, err := lead.ParseSubdivision(tt.state, tt.country)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, "%q %q", tt.state, tt.country)
			continue
		}
		require.NoError(t, err, "%q %q", tt.state, tt.country)
		require.Equal(t, tt.want, got.Code, "%q %q", tt.state, tt.country)
	}
}

// TestNewLeadReadsTheAddressState: the state becomes CustomerRegion; one
// we cannot read is a contact problem, and the lead is kept on its phone.
func TestNewLeadReadsTheAddressState(t *testing.T) {
	t.Parallel()
	in := lead.Inquiry{ExternalID: "order:1", Source: lead.SourceEstimate}
	c := lead.Customer{FirstName: "Ann", Phones: []lead.CustomerPhone{{Number: "512-201-3344", Primary: true}}, Address: lead.CustomerAddress{State: "Florida"}}
	l, err := lead.NewLead(uuid.New(), "shopmonkey", in, c, lead.Vehicle{})
	require.NoError(t, err)
	require.Equal(t, "US-FL", l.CustomerRegion)
	require.Empty(t, l.ContactProblem)

	c.Address.State = "Tejas"
	l, err = lead.NewLead(uuid.New(), "shopmonkey", in, c, lead.Vehicle{})
	require.NoError(t, err)
	require.Empty(t, l.CustomerRegion)
	require.Equal(t, lead.PhoneNumber("+15122013344"), l.Phone)
	require.Contains(t, l.ContactProblem, `invalid customer.address.state: "Tejas" is not a US state or Canadian province`)

	// An address the adapter could not read at all: named, lead kept.
	c.Address = lead.CustomerAddress{State: "TX", Problem: &lead.ValidationError{Field: "customer.state", Reason: "is not a string: 48"}}
	l, err = lead.NewLead(uuid.New(), "shopmonkey", in, c, lead.Vehicle{})
	require.NoError(t, err)
	require.Empty(t, l.CustomerRegion)
	require.Equal(t, "invalid customer.state: is not a string: 48", l.ContactProblem)
}

// The legal hours a window must hold, written out here rather than taken
// from the rules, so that the walk below checks the rules too.
var (
	federalHours = func(time.Weekday) (int, int) { return 8 * 60, 21 * 60 }
	eightToEight = func(time.Weekday) (int, int) { return 8 * 60, 20 * 60 }
	texasHours   = func(d time.Weekday) (int, int) {
		if d == time.Sunday {
			return 12 * 60, 21 * 60
		}
		return 9 * 60, 21 * 60
	}
)

// clock is one wall clock a text must wait for, and its hours there.
type clock struct {
	zone  string
	hours func(time.Weekday) (int, int)
}

// TestTextWindowEveryMinute walks DST weeks minute by minute, for a shop
// and customers on other clocks (a zone-straddling area code, a state
// with its own rule, a zone without DST against one with it), and checks
// Allows against the wall clocks the zone database reports and
// NextOpening against the walk itself: from any closed minute, the next
// open one.
func TestTextWindowEveryMinute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		shop   string
		rule   lead.QuietRule
		region string
		phone  lead.PhoneNumber
		clocks []clock // every clock the window must hold on, the shop's included
	}{
		{"IdahoNumberOfANewYorkShop", "America/New_York", "", "", "+12085550100",
			[]clock{{"America/New_York", federalHours}, {"America/Boise", federalHours}, {"America/Los_Angeles", federalHours}}},
		{"FloridaAddressOfAChicagoShop", "America/Chicago", "", "US-FL", "+12085550100",
			[]clock{{"America/Chicago", federalHours}, {"America/New_York", eightToEight}, {"America/Chicago", eightToEight}}},
		{"TexasAddressOfALosAngelesShop", "America/Los_Angeles", "", "US-TX", "",
			[]clock{{"America/Los_Angeles", federalHours}, {"America/Chicago", texasHours}, {"America/Denver", texasHours}}},
		{"IdahoNumberOfAPhoenixShop", "America/Phoenix", "", "", "+12085550100",
			[]clock{{"America/Phoenix", federalHours}, {"America/Boise", federalHours}, {"America/Los_Angeles", federalHours}}},
		{"HawaiiNumberOfAConnecticutRuleShop", "America/New_York", lead.QuietRuleConnecticut, "", "+18082013344",
			[]clock{{"America/New_York", func(time.Weekday) (int, int) { return 9 * 60, 20 * 60 }}, {"Pacific/Honolulu", func(time.Weekday) (int, int) { return 9 * 60, 20 * 60 }}}},
		{"TollFreeNumberKeepsTheShopsClock", "America/Denver", "", "", "+18005550199",
			[]clock{{"America/Denver", federalHours}}},
		{"QuietRuleNoneKeepsOnlyTheShopsHours", "America/New_York", lead.QuietRuleNone, "", "+18082013344",
			[]clock{{"America/New_York", func(time.Weekday) (int, int) { return 7 * 60, 22 * 60 }}}},
	}
	weeks := []struct{ name, start string }{
		{"SpringForward", "2026-03-05T00:00:00Z"},
		{"FallBack", "2026-10-29T00:00:00Z"},
	}
	for _, tt := range tests {
		for _, week := range weeks {
			t.Run(tt.name+"/"+week.name, func(t *testing.T) {
				t.Parallel()
				shop := closedShop(t, tt.shop, tt.rule, hours(t, "07:00", "22:00"))
				w, err := shop.TextWindow(lead.RecipientOf(tt.region, tt.phone))
				require.NoError(t, err)
				locs := make([]*time.Location, len(tt.clocks))
				for i, c := range tt.clocks {
					locs[i] = location(t, c.zone)
				}
				start := instant(t, week.start)
				end := start.Add(7 * 24 * time.Hour)
				opened := 0
				var pending []time.Time // closed minutes waiting for the next opening
				for at := start; at.Before(end); at = at.Add(time.Minute) {
					want := true
					for i, c := range tt.clocks {
						local := at.In(locs[i])
						minute := local.Hour()*60 + local.Minute()
						open, close := c.hours(local.Weekday())
						want = want && minute >= open && minute < close
					}
					require.Equal(t, want, w.Allows(at), "%s (%s)", at.UTC(), w)
					if !want {
						pending = append(pending, at)
						continue
					}
					opened++
					for _, p := range pending {
						got, err := w.NextOpening(p)
						require.NoError(t, err)
						require.True(t, at.Equal(got), "from %s want %s got %s", p.UTC(), at.UTC(), got.UTC())
					}
					pending = pending[:0]
				}
				require.Positive(t, opened, "the window opens in the week")
			})
		}
	}
}

// TestTextWindowNeverOpens: a shop's morning hours on the east coast and
// a customer in Guam (who is asleep then) never overlap; the error says
// so, names the customer's clock, and wraps ErrWindowNeverOpens so the job
// stops instead of snoozing for ever.
func TestTextWindowNeverOpens(t *testing.T) {
	t.Parallel()
	shop := closedShop(t, "America/New_York", "", hours(t, "08:00", "10:00"))
	_, err := shop.NextSendTime(followUpText, lead.RecipientOf("", "+16714772000"), instant(t, "2026-07-01T12:00:00Z"))
	require.True(t, errors.Is(err, lead.ErrWindowNeverOpens), "%v", err)
	require.ErrorContains(t, err, "Pacific/Guam")
}

// TestNextSendTimeWaitsForTheCustomersClock: at 09:30 in Chicago a Chicago
// customer is texted at once and a Hawaiian one (05:30 there) waits for
// 08:00 in Honolulu; an email, which keeps no hours, goes at once to both.
func TestNextSendTimeWaitsForTheCustomersClock(t *testing.T) {
	t.Parallel()
	shop := closedShop(t, "America/Chicago", "", lead.QuietHours{})
	now := instant(t, "2026-11-25T09:30:00-06:00")
	next, err := shop.NextSendTime(followUpText, lead.RecipientOf("US-IL", "+18082013344"), now)
	require.NoError(t, err)
	require.Equal(t, now, next, "the address (Illinois) wins over the Hawaiian number")
	next, err = shop.NextSendTime(followUpText, lead.RecipientOf("", "+18082013344"), now)
	require.NoError(t, err)
	require.True(t, instant(t, "2026-11-25T08:00:00-10:00").Equal(next), "%s", next)
	next, err = shop.NextSendTime(followUpEmail, lead.RecipientOf("", "+18082013344"), now)
	require.NoError(t, err)
	require.Equal(t, now, next)
}

// TestTextWindowDescribe says where the customer is and by what, and the
// hours on each of their clocks, for tenant show and the logs.
func TestTextWindowDescribe(t *testing.T) {
	t.Parallel()
	shop := closedShop(t, "America/Chicago", "", lead.QuietHours{})
	w, err := shop.TextWindow(lead.RecipientOf("", "+12085550100"))
	require.NoError(t, err)
	got := w.Describe()
	for _, want := range []string{
		"the shop's 08:00-21:00 every day (America/Chicago)",
		"08:00-21:00 every day America/Boise; 08:00-21:00 every day America/Los_Angeles where the customer is",
		"by the number's area code (Idaho)",
	} {
		require.Contains(t, got, want)
	}
	w, err = shop.TextWindow(lead.RecipientOf("US-TX", ""))
	require.NoError(t, err)
	require.Contains(t, w.Describe(), "09:00-21:00, Sunday 12:00-21:00 America/Chicago")
	require.Contains(t, w.Describe(), "under Texas's law (TX rule)")
	require.False(t, strings.Contains(fmt.Sprint(w), "%!"), "String is Describe")
}

// BenchmarkRecipientOf is what a send job pays to learn where a customer
// is: by the address (a table lookup) or by the number (libphonenumber's
// zones and geocoding).
func BenchmarkRecipientOf(b *testing.B) {
	for _, bc := range []struct {
		name, region string
		phone        lead.PhoneNumber
	}{
		{"Address", "US-TX", "+15122013344"},
		{"AreaCode", "", "+12085550100"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if r := lead.RecipientOf(bc.region, bc.phone); len(r.Zones) == 0 {
					b.Fatal("no zones")
				}
			}
		})
	}
}
