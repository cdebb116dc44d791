package metrics_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// TestCarrierVerdicts: every verdict's series exists at zero from the
// first scrape, counts go to their verdict and an unknown one to "other";
// tenants flagged for carrier filtering are their own attention reason.
func TestCarrierVerdicts(t *testing.T) {
	t.Parallel()
	m, b := setup(t, false)
	b.snap.NeedingAttention[metrics.AttentionCarrierFiltering] = 3 // before the first scrape reads it
	for _, v := range metrics.CarrierVerdicts() {
		require.Zero(t, gauge(t, m, "leadorch_sms_carrier_verdicts_total", map[string]string{"verdict": v}))
	}
	require.Equal(t, 3.0, gauge(t, m, "leadorch_tenants_needing_attention", map[string]string{"reason": "carrier_filtering"}))
	require.Equal(t, 2.0, gauge(t, m, "leadorch_tenants_needing_attention", map[string]string{"reason": "crm_credentials"}))

	m.CountCarrierVerdict("filtered")
	m.CountCarrierVerdict("filtered")
	m.CountCarrierVerdict("landline")
	m.CountCarrierVerdict("made-up")
	m.CountCarrierVerdict("")
	require.Equal(t, 2.0, gauge(t, m, "leadorch_sms_carrier_verdicts_total", map[string]string{"verdict": "filtered"}))
	require.Equal(t, 1.0, gauge(t, m, "leadorch_sms_carrier_verdicts_total", map[string]string{"verdict": "landline"}))
	require.Equal(t, 1.0, gauge(t, m, "leadorch_sms_carrier_verdicts_total", map[string]string{"verdict": "other"}))

	var nilMetrics *metrics.Metrics
	nilMetrics.CountCarrierVerdict("filtered")
}
