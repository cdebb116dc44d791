package crmset_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestRateLimit: a tenant's own crm_rate_limit wins; else each CRM's
// documented default: Tekmetric's 600 (300 on its sandbox host),
// ShopMonkey's conservative 300.
func TestRateLimit(t *testing.T) {
	t.Parallel()

	reg := crmset.NewRegistry(crmset.Opts{})
	tests := []struct {
		name   string
		tenant lead.Tenant
		want   int
	}{
		{"ShopMonkey", lead.Tenant{CRMKind: "shopmonkey"}, 300},
		{"ShopMonkeyOwn", lead.Tenant{CRMKind: "shopmonkey", CRMRateLimit: 90}, 90},
		{"Tekmetric", lead.Tenant{CRMKind: "tekmetric"}, 600},
		{"TekmetricSandbox", lead.Tenant{CRMKind: "tekmetric", CRMBaseURL: "https://sandbox.tekmetric.com"}, 300},
		{"TekmetricOwn", lead.Tenant{CRMKind: "tekmetric", CRMBaseURL: "https://sandbox.tekmetric.com", CRMRateLimit: 1200}, 1200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			k, ok := reg.Kind(tt.tenant.CRMKind)
			require.True(t, ok)
			require.Equal(t, tt.want, k.RateLimit(tt.tenant))
		})
	}
}
