package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// metricValue is the value of the counter, or the sample count of the
// histogram, name{labels} in m; zero when the series does not exist.
func metricValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	if s := findSeries(t, m, name, labels); s != nil {
		return seriesValue(s)
	}
	return 0
}

// histogram is the histogram name{labels} in m; an empty one when the
// series does not exist.
func histogram(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) *dto.Histogram {
	t.Helper()
	if s := findSeries(t, m, name, labels); s != nil {
		return s.GetHistogram()
	}
	return &dto.Histogram{}
}

// findSeries is the first series of name in m whose labels include
// labels; nil when there is none.
func findSeries(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue series
				}
			}
			return s
		}
	}
	return nil
}

func seriesValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.GetCounter().GetValue()
	case s.Histogram != nil:
		return float64(s.GetHistogram().GetSampleCount())
	}
	return s.GetGauge().GetValue()
}

// TestRunMetrics: every run is counted once by what it came to, in the
// order the middleware is registered in NewClient (before the recorder).
func TestRunMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := metrics.New(metrics.Opts{})
	b.deps.Metrics = m
	workers := jobs.NewWorkers(b.deps)
	river.AddWorker(workers, &scriptWorker{})
	client, err := river.NewClient(riverpgxv5.New(b.deps.Pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 5}, jobs.QueueBookkeeping: {MaxWorkers: 5}},
		Workers:           workers,
		Middleware:        []rivertype.Middleware{jobs.NewRunMetrics(b.deps), jobs.NewExecutionRecorder(b.deps)},
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            b.deps.Logger,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() { _ = client.StopAndCancel(context.Background()) })

	for _, script := range [][]string{{"ok"}, {"error", "ok"}, {"panic", "ok"}, {"snooze", "ok"}, {"cancel"}} {
		res, err := client.Insert(context.Background(), scriptArgs{Script: script}, &river.InsertOpts{MaxAttempts: 5})
		require.NoError(t, err)
		waitFinal(t, client, res.Job.ID)
	}
	runs := func(outcome string) float64 {
		return metricValue(t, m, "leadorch_job_runs_total", map[string]string{"kind": "test_script", "queue": "default", "outcome": outcome})
	}
	want := map[string]float64{"completed": 4, "failed": 1, "panicked": 1, "snoozed": 1, "cancelled": 1}
	for outcome, n := range want {
		require.Equal(t, n, runs(outcome), outcome)
	}
	require.Equal(t, 8.0, metricValue(t, m, "leadorch_job_run_duration_seconds", map[string]string{"kind": "test_script"}))
}

// TestProviderMetrics: provider calls are counted by the class of their
// answer, the class that decided what the send did.
func TestProviderMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := metrics.New(metrics.Opts{})
	b.deps.Metrics = m
	tenant := b.addShop(t, "counted")
	sent, optedOut := b.newLead(t, tenant, 11), b.newLead(t, tenant, 12)
	b.sandbox.Twilio.OptOut("+15125550012")
	client := b.startClient(t, jobs.ClientOpts{})

	insertAndWait(t, client, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: sent, Step: jobs.StepInitial})
	insertAndWait(t, client, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: optedOut, Step: jobs.StepInitial})
	insertAndWait(t, client, jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: sent, Step: jobs.StepInitial})

	for _, tc := range []struct {
		provider, outcome string
		want              float64
	}{
		{"twilio", "ok", 1}, {"twilio", "opted_out", 1}, {"twilio", "permanent", 0}, {"sendgrid", "ok", 1},
	} {
		require.Equal(t, tc.want, metricValue(t, m, "leadorch_provider_requests_total",
			map[string]string{"provider": tc.provider, "operation": "send", "outcome": tc.outcome}), fmt.Sprint(tc))
	}
	require.Equal(t, 2.0, metricValue(t, m, "leadorch_provider_request_duration_seconds", map[string]string{"provider": "twilio", "operation": "send"}))
	require.Equal(t, 1.0, metricValue(t, m, "leadorch_job_runs_total", map[string]string{"kind": "send_sms", "queue": "sms", "outcome": "cancelled"}))
}
