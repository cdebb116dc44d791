package crm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestEscapeID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, id, want string }{
		{"UUID", "5f3a9c2e-1b7d-4e8a-9f0c-2d6b8e1a4c3f", "5f3a9c2e-1b7d-4e8a-9f0c-2d6b8e1a4c3f"},
		{"Unicode", "commande-é", "commande-é"},
		{"NUL", "ord\x00er", "ord%00er"},
		{"InvalidByte", "ord\xffer", "ord%FFer"},
		{"Percent", "50%off", "50%25off"},
		{"Empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := crm.EscapeID(tc.id)
			require.Equal(t, tc.want, got)
			require.False(t, lead.InvalidText(got))
			back, err := crm.UnescapeID(got)
			require.NoError(t, err)
			require.Equal(t, tc.id, back, "the escape is reversible")
		})
	}
	for _, bad := range []string{"ab%", "ab%0", "ab%zz"} {
		_, err := crm.UnescapeID(bad)
		require.Error(t, err, bad)
	}
}
