package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestIngestExternalIDOfTheTenantsCRM: --external-id is read in the format
// of the tenant's own CRM, so a Tekmetric repair order can be re-ingested
// (it was refused as "not order: or appointment:", and a bare id became a
// ShopMonkey order id that Tekmetric's adapter cancelled).
func TestIngestExternalIDOfTheTenantsCRM(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.addTenant(t, "Maple Auto")
	b.addTekmetricTenant(t, "Oak Garage", 238)

	tests := []struct {
		tenant, in, want string
	}{
		{"Maple Auto", "order:5f3a", "order:5f3a"},
		{"Maple Auto", "5f3a", "order:5f3a"},
		{"Maple Auto", "appointment:ap1", "appointment:ap1"},
		{"Oak Garage", "repair-order:1520", "repair-order:1520"},
		{"Oak Garage", "1520", "repair-order:1520"},
		{"Oak Garage", "appointment:77", "appointment:77"},
	}
	for _, tt := range tests {
		stdout, _, err := b.run(t, "ingest", "--tenant", tt.tenant, "--external-id", tt.in)
		require.NoError(t, err, "%s %s", tt.tenant, tt.in)
		require.Contains(t, stdout, ", "+tt.want+" (send messages: false)")
	}
	got := jobArgs[jobs.IngestLeadArgs](t, b, "ingest_lead")
	require.Len(t, got, len(tests))
	for i, tt := range tests {
		require.Equal(t, tt.want, got[i].ExternalID)
	}

	// Another CRM's id is refused, naming the tenant's CRM, and inserts nothing.
	for _, tt := range []struct{ tenant, in, want string }{
		{"Oak Garage", "order:1520", `--external-id "order:1520" is not a tekmetric id of tenant Oak Garage: prefix "order:"`},
		{"Oak Garage", "repair-order:R-9", `id "R-9" after "repair-order:" is not a Tekmetric id`},
		{"Maple Auto", "repair-order:1520", `is not a shopmonkey id of tenant Maple Auto: prefix "repair-order:"`},
	} {
		_, _, err := b.run(t, "ingest", "--tenant", tt.tenant, "--external-id", tt.in)
		require.ErrorContains(t, err, tt.want)
		var uErr *usageError
		require.True(t, errors.As(err, &uErr), "a bad --external-id is a usage error")
	}
	require.Len(t, jobArgs[jobs.IngestLeadArgs](t, b, "ingest_lead"), len(tests))
}

// addTekmetricTenant creates an enabled Tekmetric tenant of shop shopID
// directly in the store, its client id "cid-" and its secret "secret-" and
// its name, sealed with b.keys.
func (b *testBundle) addTekmetricTenant(t *testing.T, name string, shopID int64) lead.Tenant {
	t.Helper()
	secret := "secret-" + name
	b.secrets = append(b.secrets, secret)
	return fixture.Create(t, b.store, b.keys, fixture.TekmetricTenant(name, shopID, fixture.DefaultQuietHours), secret)
}
