package jobs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

// TestRateLimitBackoff: a 429 that names no wait backs off 1s, 2s, 4s ...
// with each snooze of the job, up to 5 minutes, with at most a quarter of
// jitter on top.
func TestRateLimitBackoff(t *testing.T) {
	t.Parallel()
	for snoozes, base := range map[int]time.Duration{
		0: time.Second, 1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second,
		8: 256 * time.Second, 9: 5 * time.Minute, 40: 5 * time.Minute,
	} {
		meta, err := json.Marshal(map[string]int{"snoozes": snoozes})
		require.NoError(t, err)
		job := &rivertype.JobRow{Metadata: meta}
		for range 20 {
			d := rateLimitBackoff(job)
			require.GreaterOrEqual(t, d, base, "after %d snoozes", snoozes)
			require.LessOrEqual(t, d, base+base/4, "after %d snoozes", snoozes)
		}
	}
	// A job never snoozed before (no metadata) starts at a second.
	require.Less(t, rateLimitBackoff(&rivertype.JobRow{}), 2*time.Second)
}
