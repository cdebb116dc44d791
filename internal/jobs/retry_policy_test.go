package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// TestCRMBlipRetriedWithinAMinute: a live poll whose CRM answers 500 four
// times in a row is tried a fifth time within seconds of the CRM coming
// back, not minutes, and its lead is texted. A chaos run (10m, seed 1)
// failed on River's default policy: a Tekmetric lead's ingest met four CRM
// 500s and its fifth try was set 4m16s later (attempt^4 seconds), still
// waiting when the drain ended three minutes after the faults cleared.
func TestCRMBlipRetriedWithinAMinute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	shop := b.addShop(t, "blip")
	b.addLeads(t, shop, 1)
	b.sandbox.ShopMonkey.AddFault(fake.Fault{Status: 500, Count: 4})

	client := b.startClient(t, jobs.ClientOpts{})
	res, err := client.Insert(ctx, jobs.PollCRMArgs{
		TenantID: shop.ID, Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute), Live: true, SendMessages: true,
	}, nil)
	require.NoError(t, err)

	// On the old policy the fifth try came 256s after the fourth error;
	// this waits long enough to see a retry within a minute of it.
	var job *rivertype.JobRow
	require.Eventually(t, func() bool {
		job, err = client.JobGet(ctx, res.Job.ID)
		require.NoError(t, err)
		return job.FinalizedAt != nil
	}, 90*time.Second, 50*time.Millisecond, "the poll finishes once the CRM is back")
	require.Equal(t, rivertype.JobStateCompleted, job.State)
	require.Len(t, job.Errors, 4, "four 500s, then the CRM answered")
	require.Equal(t, 5, job.Attempt)
	require.Less(t, job.FinalizedAt.Sub(job.Errors[3].At), time.Minute, "the fifth try came within a minute of the fourth error")
	// Each wait was its backoff: 1s, 2s, 4s, 8s, each with at most a
	// quarter more, plus the time a run and a fetch take.
	for i := 1; i < len(job.Errors); i++ {
		gap := job.Errors[i].At.Sub(job.Errors[i-1].At)
		require.Less(t, gap, time.Duration(1<<(i-1))*time.Second*5/4+2*time.Second, "wait after error %d", i)
	}
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 }, 30*time.Second, 50*time.Millisecond, "the lead is texted")
}
