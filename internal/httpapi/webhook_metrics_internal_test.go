package httpapi

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// TestUnverifiedReasonStale: a signed timestamp out of its window, as
// ShopMonkey's and SendGrid's verifiers word it, is counted as stale, not
// as a bad signature (the difference between a clock and an attacker).
func TestUnverifiedReasonStale(t *testing.T) {
	t.Parallel()
	sm := fmt.Errorf("%w: %w: %s", crm.ErrWebhookUnverified, shopmonkey.ErrWebhookStale, "timestamp 1 is more than 5m0s from now")
	require.Equal(t, metrics.ReasonStale, unverifiedReason(sm.Error()))
	require.Equal(t, metrics.ReasonStale, unverifiedReason("sendgrid event webhook: timestamp is 1h0m0s away from now (more than "+sendgrid.MaxEventAge.String()+")"))
	require.Equal(t, metrics.ReasonUnverified, unverifiedReason("signature does not verify"))
}
