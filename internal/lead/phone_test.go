package lead_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestParsePhoneNumber(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"(312) 201-3344":  "+13122013344",
		"312.201.3344":    "+13122013344",
		"1-312-201-3344":  "+13122013344",
		"+1 312 201 3344": "+13122013344",
		" 3122013344 ":    "+13122013344",
		"13122013344":     "+13122013344",
		"(416) 201-3344":  "+14162013344", // Toronto: Canada is a default region
		"+1 800 555 0199": "+18005550199", // toll-free, valid in both
		"(212) 555-0100":  "+12125550100", // 555-01xx: fictional, but in libphonenumber's ranges
	} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			got, err := lead.ParsePhoneNumber(raw)
			require.NoError(t, err)
			require.Equal(t, lead.PhoneNumber(want), got)
		})
	}
	// Each reason as a shop reads it: what is wrong, never the number.
	for raw, reason := range map[string]string{
		"":                 "is empty",
		"call me maybe":    `contains 'c', not a phone number`,
		"1-800-FLOWERS":    `contains 'F', not a phone number`,
		"312 201 3344 x12": `contains 'x', not a phone number`,
		"555-1234":         "has 7 digits, want 10 (or 11 starting with 1)",
		"123456789012":     "has 12 digits, want 10 (or 11 starting with 1)",
		"23122013344":      "has 11 digits, want 10 (or 11 starting with 1)",
		"+1 312 201 334":   "is not a valid North American number (+1 and 10 digits)",
		"+0 555":           "is not a valid international number (8 to 15 digits after +)",
		"+0 555 201 3344":  "does not start with a country code after +",
		"(155) 201-3344":   "has an area code starting with 1, which no North American number has",
		"(312) 123-4567":   "has an exchange (the 3 digits after the area code) starting with 1, which no North American number has",
		"(555) 201-3344":   "is not a number in use in North America (area code 555, or its exchange, is not in use)",
		"(123) 201-3344":   "has an area code starting with 1, which no North American number has",
		"+44 20 7946 0958": "is a number of GB, not of the shop's phone regions (US, CA)",
		"+1 876 201 3344":  "is a number of JM, not of the shop's phone regions (US, CA)",
		"+44 20 7946":      "has a length no number of +44 has",
	} {
		t.Run("Invalid/"+raw, func(t *testing.T) {
			t.Parallel()
			_, err := lead.ParsePhoneNumber(raw)
			require.EqualError(t, err, reason)
			if raw != "" {
				require.NotContains(t, err.Error(), strings.TrimSpace(raw)[1:], "a reason never quotes the number")
			}
		})
	}
}

func TestParsePhoneNumberIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw     string
		regions []string
		want    string
		reason  string
	}{
		{raw: "020 7946 0958", regions: []string{"GB"}, want: "+442079460958"},
		{raw: "+52 55 1234 5678", regions: []string{"US", "MX"}, want: "+525512345678"},
		// Read in each region in turn: not a British number, a US one.
		{raw: "312 201 3344", regions: []string{"GB", "US"}, want: "+13122013344"},
		{raw: "(416) 201-3344", regions: []string{"CA"}, want: "+14162013344"},
		{raw: "+1 800 555 0199", regions: []string{"CA"}, want: "+18005550199"},
		{raw: "(416) 201-3344", regions: []string{"US"}, reason: "is a number of CA, not of the shop's phone regions (US)"},
		{raw: "(312) 201-3344", regions: []string{"CA"}, reason: "is a number of US, not of the shop's phone regions (CA)"},
		// The reason is the first region's: a GB shop reads GB's words.
		{raw: "020 7946", regions: []string{"GB", "US"}, reason: "is not a number in use in GB (no such range after +44)"},
		// GB's international prefix, then +1 and too few digits.
		{raw: "00 1 23", regions: []string{"GB"}, reason: "is not a valid North American number (+1 and 10 digits)"},
		{raw: "00 1 312 201 3344", regions: []string{"GB", "US"}, want: "+13122013344"},
		{raw: "(312) 201-3344", regions: []string{"XX"}, reason: `cannot be read: the shop's phone region "XX" is not a region (such as US or CA)`},
	} {
		t.Run(tc.raw+"/"+strings.Join(tc.regions, ","), func(t *testing.T) {
			t.Parallel()
			got, err := lead.ParsePhoneNumberIn(tc.raw, tc.regions)
			if tc.reason != "" {
				require.EqualError(t, err, tc.reason)
				return
			}
			require.NoError(t, err)
			require.Equal(t, lead.PhoneNumber(tc.want), got)
		})
	}
}

// TestParseAnyPhoneNumber: a number we receive is normalised without being
// judged, so a STOP from a number the data does not know still finds the
// lead it was parsed for (under the rules of the day) and suppresses it.
func TestParseAnyPhoneNumber(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"+1 555 201 3344":  "+15552013344",
		"(312) 201-3344":   "+13122013344",
		"+44 20 7946 0958": "+442079460958",
	} {
		got, err := lead.ParseAnyPhoneNumber(raw)
		require.NoError(t, err, raw)
		require.Equal(t, lead.PhoneNumber(want), got, raw)
	}
	for raw, reason := range map[string]string{
		"anonymous":  `contains 'a', not a phone number`,
		"555-1234":   "has 7 digits, want 10 (or 11 starting with 1)",
		"+266696687": "is too short for a number of +266",
	} {
		_, err := lead.ParseAnyPhoneNumber(raw)
		require.EqualError(t, err, reason, raw)
	}
}

func TestComplianceRegions(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"US", "CA"}, lead.Compliance{}.Regions())
	c := lead.Compliance{PhoneRegions: []string{"GB"}}
	got := c.Regions()
	got[0] = "FR"
	require.Equal(t, []string{"GB"}, c.PhoneRegions, "Regions hands out a copy")

	tenant := lead.Tenant{Compliance: c}
	p, err := tenant.ParsePhoneNumber("020 7946 0958")
	require.NoError(t, err)
	require.Equal(t, lead.PhoneNumber("+442079460958"), p)
	_, err = tenant.ParsePhoneNumber("(312) 201-3344")
	require.EqualError(t, err, "is not a number in use in GB (no such range after +44)", "read as British")
	_, err = tenant.ParsePhoneNumber("+1 (312) 201-3344")
	require.EqualError(t, err, "is a number of US, not of the shop's phone regions (GB)")
}

func TestTenantValidatePhoneRegions(t *testing.T) {
	t.Parallel()
	valid := func(regions ...string) lead.Tenant {
		return lead.Tenant{
			Name: "Main Street Auto", CRMKind: "shopmonkey", CRMLocationID: "loc-1",
			CRMSecret: lead.SealedSecret{KeyID: "k1", Ciphertext: []byte("x")},
			TimeZone:  "America/Chicago", PollInterval: time.Minute, SMSFrom: "+13125550123",
			Compliance: lead.Compliance{PhoneRegions: regions},
		}
	}
	require.NoError(t, valid().Validate([]string{"shopmonkey"}))
	require.NoError(t, valid("US", "CA", "MX").Validate([]string{"shopmonkey"}))

	british := valid("GB")
	british.SMSFrom, british.ShopPhone = "+442079460958", "020 7946 0959"
	require.NoError(t, british.Validate([]string{"shopmonkey"}), "the shop's own numbers are read in its regions")

	for name, tc := range map[string]struct {
		tenant  lead.Tenant
		reasons []string
	}{
		"LowerCase": {valid("us"), []string{`invalid compliance.phone_regions: "us" must be written "US" (upper case, no spaces)`}},
		"Unknown": {valid("US", "XX"), []string{
			`invalid compliance.phone_regions: "XX" is not a region libphonenumber knows (an ISO 3166-1 alpha-2 code such as US or CA)`}},
		"Twice":   {valid("US", "CA", "US"), []string{`invalid compliance.phone_regions: "US" is listed twice`}},
		"TooMany": {valid("US", "CA", "MX", "GB", "FR", "DE", "ES", "IT", "PT", "NL", "BE"), []string{"invalid compliance.phone_regions: names 11 regions, at most 10 allowed"}},
		"SenderOutside": {valid("CA"), []string{
			"invalid sms_from: is a number of US, not of the shop's phone regions (CA)"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.tenant.Validate([]string{"shopmonkey"})
			require.Error(t, err)
			for _, r := range tc.reasons {
				require.Contains(t, err.Error(), r)
			}
		})
	}
}

func TestNewLeadInRegions(t *testing.T) {
	t.Parallel()
	in := lead.Inquiry{ExternalID: "order:1", Source: lead.SourceEstimate, CustomerID: "c1"}
	c := lead.Customer{FirstName: "Ann",
		Phones: []lead.CustomerPhone{{Number: "(416) 201-3344", Primary: true, OptIn: true}},
		Emails: []lead.CustomerEmail{{Address: "ann@example.com", Subscribed: true}}}

	l, err := lead.NewLead(uuid.New(), "shopmonkey", in, c, lead.Vehicle{})
	require.NoError(t, err)
	require.Equal(t, lead.PhoneNumber("+14162013344"), l.Phone, "Canada is a default region")

	l, err = lead.NewLeadIn([]string{"US"}, uuid.New(), "shopmonkey", in, c, lead.Vehicle{})
	require.NoError(t, err, "the lead is kept on its email")
	require.Empty(t, l.Phone)
	require.False(t, l.Consent.SMS)
	require.Equal(t, "invalid customer.phone: is a number of CA, not of the shop's phone regions (US)", l.ContactProblem)
}

func TestPhoneNumberPlace(t *testing.T) {
	t.Parallel()
	for number, want := range map[lead.PhoneNumber]lead.PhonePlace{
		"+13122013344":  {Region: "US", TimeZones: []string{"America/Chicago"}},
		"+14162013344":  {Region: "CA", TimeZones: []string{"America/Toronto"}},
		"+12085550100":  {Region: "US", TimeZones: []string{"America/Boise", "America/Los_Angeles"}}, // Idaho straddles
		"+18082013344":  {Region: "US", TimeZones: []string{"Pacific/Honolulu"}},
		"+442079460958": {Region: "GB", TimeZones: []string{"Europe/London"}},
	} {
		got, err := number.Place()
		require.NoError(t, err, number)
		require.Equal(t, want, got, number)
	}

	// Toll-free and unknown prefixes get the list for all of +1.
	for _, number := range []lead.PhoneNumber{"+18005550199", "+15552013344"} {
		got, err := number.Place()
		require.NoError(t, err, number)
		require.True(t, got.CountryWide, number)
		require.Greater(t, len(got.TimeZones), 30, number)
		require.Contains(t, got.TimeZones, "America/Adak")
	}
	china, err := lead.PhoneNumber("+8613800138000").Place()
	require.NoError(t, err)
	require.Equal(t, lead.PhonePlace{Region: "CN", TimeZones: []string{"Asia/Shanghai"}, CountryWide: true}, china, "one zone for all of +86")

	got, err := lead.PhoneNumber("+15552013344").Place()
	require.NoError(t, err)
	require.Empty(t, got.Region, "not in use anywhere")

	for _, bad := range []lead.PhoneNumber{"", "3122013344", "+0"} {
		_, err := bad.Place()
		require.EqualError(t, err, "is not a number in E.164 form (+ and the country code)", string(bad))
	}
}

// FuzzParsePhoneNumberIn: whatever a CRM writes, parsing never panics
// (it did on "00 1 23" read in GB: +1 with two digits), and a number it
// accepts is E.164 that parses again to itself and has a place.
func FuzzParsePhoneNumberIn(f *testing.F) {
	for _, seed := range []string{"(312) 201-3344", "+44 20 7946 0958", "00 1 23", "011 44 20 7946 0958", "+1", "1", "+0 555", "020 7946 0958", "+266696687", " 1-800-555-0199 "} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, raw string, british bool) {
		regions := []string{"US", "CA"}
		if british {
			regions = []string{"GB", "US"}
		}
		p, err := lead.ParsePhoneNumberIn(raw, regions)
		// Read as North American, as ParseAnyPhoneNumber reads a number
		// without a country code: what one accepts, so does the other.
		if _, anyErr := lead.ParseAnyPhoneNumber(raw); !british && err == nil && anyErr != nil {
			t.Fatalf("%q: valid for %v but refused as any number: %v", raw, regions, anyErr)
		}
		if err != nil {
			return
		}
		again, err := lead.ParsePhoneNumberIn(string(p), regions)
		require.NoError(t, err, raw)
		require.Equal(t, p, again, raw)
		_, err = p.Place()
		require.NoError(t, err, raw)
	})
}

func ExampleParsePhoneNumberIn() {
	for _, raw := range []string{"(416) 201-3344", "+44 20 7946 0958", "(555) 201-3344"} {
		p, err := lead.ParsePhoneNumberIn(raw, []string{"US", "CA"})
		fmt.Println(p, err)
	}
	// Output:
	// +14162013344 <nil>
	//  is a number of GB, not of the shop's phone regions (US, CA)
	//  is not a number in use in North America (area code 555, or its exchange, is not in use)
}

func ExamplePhoneNumber_Place() {
	for _, p := range []lead.PhoneNumber{"+13122013344", "+12085550100", "+18005550199"} {
		place, _ := p.Place()
		fmt.Println(p, place.Region, len(place.TimeZones), place.TimeZones[0], place.CountryWide)
	}
	// Output:
	// +13122013344 US 1 America/Chicago false
	// +12085550100 US 2 America/Boise false
	// +18005550199 US 42 America/Adak true
}
