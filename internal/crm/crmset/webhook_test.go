package crmset_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
)

// TestWebhookKinds: each CRM of the registry says how its webhooks
// authenticate and brings its own parser, which the generic route calls.
func TestWebhookKinds(t *testing.T) {
	t.Parallel()
	reg := crmset.NewRegistry(crmset.Opts{})
	for name, auth := range map[string]crm.WebhookAuth{
		"shopmonkey": crm.WebhookSigned,
		"tekmetric":  crm.WebhookURLToken,
	} {
		k, ok := reg.Kind(name)
		require.True(t, ok, name)
		require.Equal(t, auth, k.WebhookAuth, name)
		require.NotNil(t, k.ParseWebhook, name)
	}
	// A ShopMonkey webhook that is not signed does not verify.
	k, _ := reg.Kind("shopmonkey")
	_, err := k.ParseWebhook(crm.WebhookRequest{Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", Body: []byte(`{}`)})
	require.ErrorIs(t, err, crm.ErrWebhookUnverified)
}
