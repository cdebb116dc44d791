package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// TestCRMs: each CRM's section is keyed by its crm_kind, so the worker
// hands the settings on without naming a CRM.
func TestCRMs(t *testing.T) {
	t.Parallel()

	cfg := config.Default()
	cfg.ShopMonkey.BaseURL = "http://127.0.0.1:8080/shopmonkey"
	cfg.Tekmetric.Timeout = 7 * time.Second
	require.Equal(t, map[string]crm.Settings{
		"shopmonkey": {BaseURL: "http://127.0.0.1:8080/shopmonkey", Timeout: 15 * time.Second},
		"tekmetric":  {Timeout: 7 * time.Second},
	}, cfg.CRMs())
}
