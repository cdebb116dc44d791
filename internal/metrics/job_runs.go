package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) newJobMetrics() {
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "job_runs_total",
		Help: "Runs of River jobs by kind, queue and outcome (completed, failed = returned an error and will be retried or discarded, cancelled, snoozed, panicked).",
	}, []string{"kind", "queue", "outcome"})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "job_run_duration_seconds",
		Help:    "Seconds one run of a River job took, by kind, whatever its outcome.",
		Buckets: jobBuckets(),
	}, []string{"kind"})
	m.registry.MustRegister(m.jobRuns, m.jobDuration)
}

// ObserveJobRun records one run of a job: its outcome (one of
// JobOutcomes) and how long it took.
func (m *Metrics) ObserveJobRun(kind, queue, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.jobRuns.WithLabelValues(kind, queue, oneOf(outcome, JobOutcomes())).Inc()
	m.jobDuration.WithLabelValues(kind).Observe(took.Seconds())
}
