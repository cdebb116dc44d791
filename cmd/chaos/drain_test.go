package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
)

// TestDrainBound: the drain waits as long as the replicas' settings
// promise, and follows them: a longer rescue or confirm wait lengthens it
// by as much. A fixed 3m was shorter than a rescue of 1h (what
// config.yaml shipped) and longer than anything the shipped settings
// need to wait for.
func TestDrainBound(t *testing.T) {
	t.Parallel()

	cfg := config.Default()
	cfg.SendGrid.ConfirmWait = 30 * time.Second // as the harness sets it
	bound := drainBound(&cfg)
	require.Equal(t, 3*time.Minute+37500*time.Millisecond, bound,
		"2m05s to resume a killed replica's jobs, 42.5s for a last retry, 30s confirm wait, 20s nudge")
	require.Greater(t, bound, jobs.CrashResumeBound(cfg.River.RescueStuckJobsAfter)+jobs.MaxCallRetryWait())

	cfg.River.RescueStuckJobsAfter += time.Minute
	cfg.SendGrid.ConfirmWait += time.Minute
	require.Equal(t, bound+2*time.Minute, drainBound(&cfg))
}
