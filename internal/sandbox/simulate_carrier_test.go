package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSimulatorCarrierRoute: the control route refuses a request without
// a number (400) and a number no text went to (404), naming what is
// wrong. (The verdict reaching a worker is TestCarrierVerdictFromSimulator
// in internal/jobs.)
func TestSimulatorCarrierRoute(t *testing.T) {
	t.Parallel()
	b := setupSimulate(t)
	status, body := b.call(t, http.MethodPost, "/_sandbox/simulate/carrier", `{"code": 30006}`)
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "number: is required")
	status, body = b.call(t, http.MethodPost, "/_sandbox/simulate/carrier", `{"number": "+15125550100", "code": 30006}`)
	require.Equal(t, http.StatusNotFound, status, body)
	require.Contains(t, body, "no text to +15125550100")
}
