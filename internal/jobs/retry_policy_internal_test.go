package jobs

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

// failedJob is a job of kind that has failed errors times before the
// failure being handled now.
func failedJob(kind string, errors int) *rivertype.JobRow {
	return &rivertype.JobRow{Kind: kind, Errors: make([]rivertype.AttemptError, errors)}
}

// TestRetryPolicy: every kind waits 1s, 2s, 4s ... after its errors, never
// more than its cap with a quarter of jitter, and never less than the wait
// without jitter.
func TestRetryPolicy(t *testing.T) {
	t.Parallel()

	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	policy := NewRetryPolicy(func() time.Time { return now })

	callKinds := []string{"poll_crm", "ingest_lead", "send_sms", "send_email", "notify_shop"}
	bookkeepingKinds := []string{"schedule_polls", "record_job_execution", "record_email_events", "record_sms_status", "handle_inbound"}
	for _, tc := range []struct {
		kinds []string
		cap   time.Duration
	}{{callKinds, 30 * time.Second}, {bookkeepingKinds, 5 * time.Minute}} {
		for _, kind := range tc.kinds {
			for errors := range 300 {
				floor := min(time.Second<<min(errors, 30), tc.cap)
				for range 5 {
					wait := policy.NextRetry(failedJob(kind, errors)).Sub(now)
					require.GreaterOrEqual(t, wait, floor, "%s after %d errors", kind, errors+1)
					require.LessOrEqual(t, wait, floor+floor/4, "%s after %d errors: jitter is at most a quarter", kind, errors+1)
					require.LessOrEqual(t, wait, tc.cap+tc.cap/4, "%s after %d errors: capped", kind, errors+1)
				}
			}
		}
	}

	t.Run("FifthTryOfCRMJobWithinAMinute", func(t *testing.T) {
		t.Parallel()
		// The chaos run that failed: an ingest_lead met four CRM 500s in
		// a row and River's default policy set its fifth try 4m16s later.
		// Every wait of a CRM job is now under a minute, however many
		// errors came before.
		for _, kind := range []string{"ingest_lead", "poll_crm"} {
			for errors := range callMaxAttempts {
				wait := policy.NextRetry(failedJob(kind, errors)).Sub(now)
				require.Less(t, wait, time.Minute, "%s after %d errors", kind, errors+1)
				if errors == 3 {
					require.LessOrEqual(t, wait, 10*time.Second, "the fifth try, after four errors: 8s plus jitter")
				}
			}
		}
		require.Equal(t, 37500*time.Millisecond, MaxCallRetryWait())
	})

	t.Run("JitterSpreadsJobsThatFailedTogether", func(t *testing.T) {
		t.Parallel()
		seen := map[time.Duration]bool{}
		for range 50 {
			seen[policy.NextRetry(failedJob("ingest_lead", 10)).Sub(now)] = true
		}
		require.Greater(t, len(seen), 40, "50 jobs failing together come back at different times")
	})

	t.Run("CallJobsOutlastTwoHoursOfFailures", func(t *testing.T) {
		t.Parallel()
		// The shortest total wait a CRM or provider job can have before
		// River discards it: the waits after each of its first
		// callMaxAttempts-1 errors, without jitter.
		var total time.Duration
		for n := 1; n < callMaxAttempts; n++ {
			total += callBackoff().floor(n)
		}
		require.GreaterOrEqual(t, total, 2*time.Hour)
		for _, opts := range []int{
			PollCRMArgs{}.InsertOpts().MaxAttempts, IngestLeadArgs{}.InsertOpts().MaxAttempts,
			SendSMSArgs{}.InsertOpts().MaxAttempts, SendEmailArgs{}.InsertOpts().MaxAttempts, NotifyShopArgs{}.InsertOpts().MaxAttempts,
		} {
			require.Equal(t, callMaxAttempts, opts)
		}
	})

	t.Run("BookkeepingJobsOutlastADayOfFailures", func(t *testing.T) {
		t.Parallel()
		var total time.Duration
		for n := 1; n < bookkeepingMaxAttempts; n++ {
			total += bookkeepingBackoff().floor(n)
		}
		require.GreaterOrEqual(t, total, 24*time.Hour)
		for _, opts := range []int{
			HandleInboundArgs{}.InsertOpts().MaxAttempts, RecordEmailEventsArgs{}.InsertOpts().MaxAttempts,
			RecordSMSStatusArgs{}.InsertOpts().MaxAttempts, RecordJobExecutionArgs{}.InsertOpts().MaxAttempts,
		} {
			require.Equal(t, bookkeepingMaxAttempts, opts)
		}
	})

	t.Run("RateLimitSnoozesShareTheBackoff", func(t *testing.T) {
		t.Parallel()
		b := Backoff{Base: time.Second, Cap: 5 * time.Minute}
		require.Equal(t, b.floor(1), time.Second)
		require.Equal(t, b.floor(10), 5*time.Minute)
		require.Equal(t, b.floor(1000), 5*time.Minute, "no overflow past 30 doublings")
		require.Equal(t, b.floor(0), 5*time.Minute, "a nonsense count waits the longest, not zero")
	})
}
