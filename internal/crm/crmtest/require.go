package crmtest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// Poll is a's poll of [since, until), which must succeed.
func Poll(t *testing.T, a crm.Adapter, since, until time.Time) []lead.Inquiry {
	t.Helper()
	got, err := a.FetchNewLeads(t.Context(), since, until)
	require.NoError(t, err)
	return got
}

// SplitProblems splits polled leads into those with a Problem and the
// rest, in order: a bad record must not hold up the window, so a poll
// returns both.
func SplitProblems(polled []lead.Inquiry) (bad, good []lead.Inquiry) {
	for _, in := range polled {
		if in.Problem != nil {
			bad = append(bad, in)
		} else {
			good = append(good, in)
		}
	}
	return bad, good
}

// RequireLeadsNotFound asserts a has no lead of any of ids.
func RequireLeadsNotFound(t *testing.T, a crm.Adapter, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, err := a.GetLead(t.Context(), id)
		require.ErrorIs(t, err, crm.ErrNotFound, id)
	}
}

// RequireStatus asserts err is a *crm.StatusError of HTTP code and
// returns it, for the CRM's own code or message.
func RequireStatus(t *testing.T, err error, code int) *crm.StatusError {
	t.Helper()
	var status *crm.StatusError
	require.ErrorAs(t, err, &status)
	require.Equal(t, code, status.StatusCode)
	return status
}

// RequireNamesFields asserts err, a config error, names every field.
func RequireNamesFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	require.Error(t, err)
	for _, field := range fields {
		require.Contains(t, err.Error(), field)
	}
}

// PrintPolled returns a printer of a poll's answer for the adapters'
// examples: the error, or each lead's source, update time in loc and
// summary.
func PrintPolled(loc *time.Location) func(leads []lead.Inquiry, err error) {
	return func(leads []lead.Inquiry, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, l := range leads {
			fmt.Println(l.Source, l.UpdatedAt.In(loc).Format(time.Kitchen), l.Summary)
		}
	}
}

// InquiryOf is the inquiry of the seeded lead ref from source, with its
// ids; a case adds what its CRM's record says.
func InquiryOf(ref fake.LeadRef, source lead.Source) lead.Inquiry {
	return lead.Inquiry{ExternalID: ref.ExternalID, Source: source, CustomerID: ref.CustomerID, VehicleID: ref.VehicleID}
}

// EachBool runs f as the parallel subtests name=true and name=false, for
// a case that must hold both ways.
func EachBool(t *testing.T, name string, f func(t *testing.T, on bool)) {
	t.Helper()
	for _, on := range []bool{true, false} {
		t.Run(name+"="+strconv.FormatBool(on), func(t *testing.T) {
			t.Parallel()
			f(t, on)
		})
	}
}

// Customer is a's customer id, which must be read.
func Customer(t *testing.T, a crm.Adapter, id string) lead.Customer {
	t.Helper()
	c, err := a.GetCustomer(t.Context(), id)
	require.NoError(t, err)
	return c
}

// AnnLee is the customer the adapters' tests seed, with id and her one
// phone and email as the CRM records them.
func AnnLee(id string, phone lead.CustomerPhone, email lead.CustomerEmail) lead.Customer {
	return lead.Customer{ExternalID: id, FirstName: "Ann", LastName: "Lee", Phones: []lead.CustomerPhone{phone}, Emails: []lead.CustomerEmail{email}}
}

// RequireLead asserts the lead a poll would make of ref with customer c
// (see NewLead) has phone and consent.
func RequireLead(t *testing.T, a crm.Adapter, kind string, ref fake.LeadRef, c lead.Customer, phone lead.PhoneNumber, consent lead.Consent) {
	t.Helper()
	l := NewLead(t, a, kind, ref, c)
	require.Equal(t, phone, l.Phone)
	require.Equal(t, consent, l.Consent)
	// Every CRM names the field each channel's consent came from, and
	// its value says what the consent is ("why did you text me").
	for ch, yes := range map[lead.Channel]bool{lead.ChannelSMS: l.Consent.SMS, lead.ChannelEmail: l.Consent.Email} {
		if (ch == lead.ChannelSMS && l.Phone == "") || (ch == lead.ChannelEmail && l.Email == "") {
			continue
		}
		ev := l.ConsentEvidence.Of(ch)
		require.NotEmpty(t, ev.Field, "the %s consent's field", ch)
		require.Equal(t, yes, ev.Value == "true", "the %s consent's evidence %s", ch, ev)
	}
}
