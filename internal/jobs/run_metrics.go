package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// RunMetrics is River middleware that counts every run of every job by
// kind, queue and outcome and times it (leadorch_job_runs_total,
// leadorch_job_run_duration_seconds). It is registered before the
// execution recorder, so it sees what River sees: a run the recorder hands
// back on shutdown (a zero snooze) counts as snoozed, and a panic is
// counted before it goes on up to River.
type RunMetrics struct {
	river.MiddlewareDefaults
	metrics *metrics.Metrics
}

// NewRunMetrics returns the middleware; with no Deps.Metrics it records
// nothing.
func NewRunMetrics(deps *Deps) *RunMetrics { return &RunMetrics{metrics: deps.Metrics} }

// Work wraps one run. Durations are wall-clock time, not the Deps clock
// (which tests set to a fixed instant).
func (m *RunMetrics) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	start := time.Now()
	finished := false
	defer func() {
		if !finished {
			// doInner panicked: count it, and let the panic go on.
			m.metrics.ObserveJobRun(job.Kind, job.Queue, metrics.JobPanicked, time.Since(start))
		}
	}()
	err := doInner(ctx)
	finished = true
	m.metrics.ObserveJobRun(job.Kind, job.Queue, runOutcome(err), time.Since(start))
	return err
}

// runOutcome is the outcome label of a run that returned err.
func runOutcome(err error) string {
	var (
		cancel *rivertype.JobCancelError
		snooze *rivertype.JobSnoozeError
	)
	switch {
	case err == nil:
		return metrics.JobCompleted
	case errors.As(err, &snooze):
		return metrics.JobSnoozed
	case errors.As(err, &cancel):
		return metrics.JobCancelled
	}
	return metrics.JobFailed
}

// MetricJobKinds lists every job kind with each queue it runs on, for
// metrics to create their series before the first run.
func MetricJobKinds() []metrics.JobKind {
	args := []interface {
		river.JobArgs
		river.JobArgsWithInsertOpts
	}{
		SchedulePollsArgs{}, PollCRMArgs{Live: true}, PollCRMArgs{}, IngestLeadArgs{}, IngestLeadArgs{Historic: true},
		SendSMSArgs{}, SendEmailArgs{}, RecordJobExecutionArgs{}, RecordEmailEventsArgs{}, HandleInboundArgs{},
		NotifyShopArgs{}, RecordSMSStatusArgs{}, LegacyHandleInboundArgs{}, LegacyRecordEmailEventsArgs{},
		SweepOutboxArgs{}, PruneExpiredArgs{}, BookAppointmentArgs{}, ChangeBookingArgs{},
	}
	out := make([]metrics.JobKind, 0, len(args))
	for _, a := range args {
		out = append(out, metrics.JobKind{Kind: a.Kind(), Queue: a.InsertOpts().Queue})
	}
	return out
}
