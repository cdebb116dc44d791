package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
)

// TestCrashedReplicaResumes: a live poll that was running on a replica
// killed mid-run (its river_job row left running, fetched by a client that
// is gone) is run again by the surviving replica on the shipped River
// settings within jobs.CrashResumeBound, about two minutes after the
// kill, and its lead is texted. On River's default rescue (1h, which
// config.yaml shipped) the bound was 1h0m35s: chaos found 21 leads still
// waiting three minutes after the last kill.
func TestCrashedReplicaResumes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	shop := b.addShop(t, "crashed")
	b.addLeads(t, shop, 1)

	cfg := config.Default()
	rescue := cfg.River.RescueStuckJobsAfter
	bound := jobs.CrashResumeBound(rescue)
	require.LessOrEqual(t, bound, 2*time.Minute+5*time.Second, "the README's promise: a dead replica's work resumes within about two minutes")

	opts := jobs.ClientOpts{
		FetchCooldown: cfg.River.FetchCooldown, FetchPollInterval: cfg.River.FetchPollInterval,
		JobTimeout: cfg.River.JobTimeout, RescueStuckJobsAfter: rescue, ID: "survivor",
	}
	// The killed replica's run: fetched rescue ago by a client that died
	// before finishing, so nothing handed it back.
	inserter, err := jobs.NewClient(b.deps, opts)
	require.NoError(t, err)
	res, err := inserter.Insert(ctx, jobs.PollCRMArgs{
		TenantID: shop.ID, Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute), Live: true, SendMessages: true,
	}, nil)
	require.NoError(t, err)
	killedAt := time.Now().Add(-rescue)
	_, err = b.pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $2,
		attempted_by = ARRAY['killed-replica'] WHERE id = $1`, res.Job.ID, killedAt)
	require.NoError(t, err)

	client := b.startClient(t, opts)
	var job *rivertype.JobRow
	require.Eventually(t, func() bool {
		job, err = client.JobGet(ctx, res.Job.ID)
		require.NoError(t, err)
		return job.FinalizedAt != nil
	}, time.Until(killedAt.Add(bound+10*time.Second)), 50*time.Millisecond, "the killed replica's poll is run again")
	require.Equal(t, rivertype.JobStateCompleted, job.State)
	require.LessOrEqual(t, job.FinalizedAt.Sub(killedAt), bound, "resumed and finished within the bound")
	require.Equal(t, "Stuck job rescued by JobRescuer", job.Errors[0].Error)
	require.Equal(t, 2, job.Attempt)

	// The run that died is recorded as abandoned, the rescued one as
	// completed, and the lead it found is texted.
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 }, 30*time.Second, 50*time.Millisecond, "the lead is texted")
	require.Equal(t, []string{"abandoned", "completed"}, b.outcomes(t, job.ID))
}
