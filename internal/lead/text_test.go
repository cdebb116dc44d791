package lead_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"Plain", "Brakes squeal", "Brakes squeal", true},
		{"Unicode", "Frédéric’s 2019 Škoda", "Frédéric’s 2019 Škoda", true},
		{"Empty", "", "", true},
		{"NULDropped", "Bra\x00kes", "Brakes", false},
		{"TrailingNUL", "(312) 201-3344\x00", "(312) 201-3344", false},
		{"InvalidByteMarked", "Fr\xe9d\xe9ric", "Fr\uFFFDd\uFFFDric", false},
		{"TruncatedRune", "caf\xc3", "caf\uFFFD", false},
		{"ReplacementAlready", "Fr\uFFFDd", "Fr\uFFFDd", false},
		{"Both", "\x00a\xffb", "a\uFFFDb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := lead.CleanText(tc.in)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.ok, ok)
			require.False(t, lead.InvalidText(got), "the cleaned text is storable")
		})
	}
}

// TestNewLeadRecordsEveryProblem: the problems found before the join (a
// missing vehicle), the cleaned fields and a bad phone are all recorded,
// not the first; a customer nobody can reach gets an error naming them all.
func TestNewLeadRecordsEveryProblem(t *testing.T) {
	t.Parallel()
	in := lead.Inquiry{ExternalID: "order:1", Source: lead.SourceEstimate, CustomerID: "c1", VehicleID: "v1", Cleaned: []string{"order.complaint"}}
	c := lead.Customer{FirstName: "Ann", Phones: []lead.CustomerPhone{{Number: "555-0100", Primary: true}},
		Emails: []lead.CustomerEmail{{Address: "ann@example.com", Primary: true}}, Cleaned: []string{"customer.lastName"}}
	missing := &lead.ValidationError{Field: "vehicle", Reason: "v1 is not in the CRM"}

	l, err := lead.NewLead(uuid.New(), "shopmonkey", in, c, lead.Vehicle{}, missing)
	require.NoError(t, err)
	require.Equal(t, lead.Email("ann@example.com"), l.Email)
	for _, field := range []string{"vehicle", "order.complaint", "customer.lastName", "customer.phone"} {
		require.Contains(t, l.ContactProblem, "invalid "+field+":")
	}

	c.Emails = nil
	_, err = lead.NewLead(uuid.New(), "shopmonkey", in, c, lead.Vehicle{}, missing)
	var vErr *lead.ValidationError
	require.ErrorAs(t, err, &vErr)
	require.Equal(t, "customer.phone", vErr.Field)
	for _, field := range []string{"vehicle", "order.complaint", "customer.lastName"} {
		require.Contains(t, err.Error(), "invalid "+field+":")
	}
}

// TestLeadInvalidTextField names the column Postgres would refuse.
func TestLeadInvalidTextField(t *testing.T) {
	t.Parallel()
	l := lead.Lead{ExternalID: "order:1", FirstName: "Ann", Summary: "Brakes"}
	require.Empty(t, l.InvalidTextField())
	l.Summary = "Bra\x00kes"
	require.Equal(t, "summary", l.InvalidTextField())
	l.Vehicle.Make = "Hon\xffda"
	l.Summary = "Brakes"
	require.Equal(t, "vehicle.make", l.InvalidTextField())
}

// TestParseEmailRefusesReplacementCharacter: net/mail takes UTF-8 local
// parts, so an address whose byte CleanText marked would pass and bounce.
func TestParseEmailRefusesReplacementCharacter(t *testing.T) {
	t.Parallel()
	_, err := lead.ParseEmail("leila\uFFFD@example.com")
	require.ErrorContains(t, err, "U+FFFD")
	got, err := lead.ParseEmail("léa@example.com")
	require.NoError(t, err)
	require.Equal(t, lead.Email("léa@example.com"), got)
}
