package crmtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// PolledRules are what a CRM's ids look like, for CheckPolled.
type PolledRules struct {
	// Prefixes are the CRM's external id prefixes ("order:").
	Prefixes []string
	// CustomerID says whether id is one of the CRM's customer ids.
	CustomerID func(id string) bool
}

// CheckPoll polls a for [since, until) and fails t unless the poll either
// failed with a *crm.StatusError (the answer was not the CRM's JSON) or
// passes CheckPolled: what a fuzzed answer may do.
func CheckPoll(t *testing.T, a crm.Adapter, since, until time.Time, rules PolledRules) {
	t.Helper()
	leads, err := a.FetchNewLeads(context.Background(), since, until)
	if err != nil {
		var status *crm.StatusError
		if !errors.As(err, &status) {
			t.Fatalf("poll failed with %v", err)
		}
		return
	}
	CheckPolled(t, leads, since, until, rules)
}

// CheckPolled fails t unless leads is what FetchNewLeads promises for
// [since, until), whatever the CRM answered (the fuzz tests feed it
// anything): each lead once; a lead with a Problem has a
// *crm.InvalidRecordError and, if named at all, a name of the CRM's; every
// other lead a CRM external id, a customer and an update time in the window.
func CheckPolled(t *testing.T, leads []lead.Inquiry, since, until time.Time, rules PolledRules) {
	t.Helper()
	named := func(id string) bool {
		for _, p := range rules.Prefixes {
			if len(id) > len(p) && strings.HasPrefix(id, p) {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	for _, in := range leads {
		if in.ExternalID != "" {
			if seen[in.ExternalID] {
				t.Fatalf("%s listed twice", in.ExternalID)
			}
			seen[in.ExternalID] = true
		}
		if in.Problem != nil {
			var invalid *crm.InvalidRecordError
			if !errors.As(in.Problem, &invalid) {
				t.Fatalf("problem is not an InvalidRecordError: %v", in.Problem)
			}
			if in.ExternalID != "" && !named(in.ExternalID) {
				t.Fatalf("invalid inquiry named %q", in.ExternalID)
			}
			continue
		}
		if !named(in.ExternalID) || !rules.CustomerID(in.CustomerID) {
			t.Fatalf("lead %+v", in)
		}
		if in.UpdatedAt.Before(since) || !in.UpdatedAt.Before(until) {
			t.Fatalf("lead updated %v outside [%v, %v)", in.UpdatedAt, since, until)
		}
	}
}
