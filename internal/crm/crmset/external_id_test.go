package crmset_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
)

// TestParseExternalID: every CRM of the registry reads its own external
// ids, as its adapter writes them and as operators type them, and refuses
// another CRM's.
func TestParseExternalID(t *testing.T) {
	t.Parallel()

	reg := crmset.NewRegistry(crmset.Opts{})
	tests := []struct {
		kind, in, want string
		// problem is part of the error when want is empty.
		problem string
	}{
		{"shopmonkey", "order:5f3a9c", "order:5f3a9c", ""},
		{"shopmonkey", " appointment:ap_1 ", "appointment:ap_1", ""},
		{"shopmonkey", "5f3a9c", "order:5f3a9c", ""},
		{"shopmonkey", "repair-order:1520", "", `prefix "repair-order:" is not "order:" or "appointment:"`},
		{"shopmonkey", "order:", "", `no id after "order:"`},
		{"shopmonkey", "order:a/b", "", "is not a ShopMonkey id"},
		{"tekmetric", "repair-order:1520", "repair-order:1520", ""},
		{"tekmetric", "appointment:77", "appointment:77", ""},
		{"tekmetric", "1520", "repair-order:1520", ""},
		{"tekmetric", "order:1520", "", `prefix "order:" is not "repair-order:" or "appointment:"`},
		{"tekmetric", "repair-order:abc", "", `id "abc" after "repair-order:" is not a Tekmetric id`},
		{"tekmetric", "repair-order:0", "", "is not a Tekmetric id"},
		{"tekmetric", "appointment:", "", `no id after "appointment:"`},
		{"mitchell1", "order:1", "", `CRM kind "mitchell1" has no external id format`},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := reg.ParseExternalID(tt.kind, tt.in)
			if tt.want == "" {
				require.ErrorContains(t, err, tt.problem)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("EveryKindHasAFormat", func(t *testing.T) {
		t.Parallel()

		for _, kind := range reg.Kinds() {
			_, err := reg.ParseExternalID(kind, "appointment:1")
			require.NoError(t, err, kind)
		}
	})
}
