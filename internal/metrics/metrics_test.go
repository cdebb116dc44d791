package metrics_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

type testBundle struct {
	reads atomic.Int32
	fail  atomic.Bool
	now   atomic.Int64
	snap  metrics.Snapshot
}

func setup(t *testing.T, tenantLabels bool) (*metrics.Metrics, *testBundle) {
	t.Helper()
	b := &testBundle{snap: metrics.Snapshot{
		Queues:           []metrics.QueueStats{{Queue: "sms", Available: 3, OldestAvailableAge: 90 * time.Second}},
		Outbox:           []metrics.OutboxCount{{Channel: "email", Status: "ambiguous", Count: 40}},
		PollLag:          []metrics.PollLag{{CRM: "shopmonkey", TenantID: "t1", Lag: time.Minute}, {CRM: "shopmonkey", TenantID: "t2", Lag: 5 * time.Minute}},
		PollsFailing:     map[string]int{"shopmonkey": 1},
		NeedingAttention: map[string]int{metrics.AttentionCRMCredentials: 2},
		PollScheduleAge:  7 * time.Second, PollScheduled: true,
	}}
	b.now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	m := metrics.New(metrics.Opts{
		Version: "test", TenantLabels: tenantLabels,
		JobKinds: []metrics.JobKind{{Kind: "send_sms", Queue: "sms"}},
		CRMs:     []string{"shopmonkey", "tekmetric"},
		Queues:   []string{"crm", "sms"},
		DatabaseStats: metrics.DatabaseStatsFunc(func(context.Context) (metrics.Snapshot, error) {
			b.reads.Add(1)
			if b.fail.Load() {
				return metrics.Snapshot{}, errors.New("database down")
			}
			return b.snap, nil
		}),
		DatabaseStatsInterval: 10 * time.Second,
		Now:                   func() time.Time { return time.Unix(0, b.now.Load()) },
	})
	return m, b
}

// gauge returns the value of the series name{labels}, failing when it is
// absent.
func gauge(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if labelsMatch(s.GetLabel(), labels) {
				switch {
				case s.Gauge != nil:
					return s.GetGauge().GetValue()
				case s.Counter != nil:
					return s.GetCounter().GetValue()
				case s.Histogram != nil:
					return float64(s.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	require.Failf(t, "series missing", "%s%v", name, labels)
	return 0
}

func labelsMatch(got []*dto.LabelPair, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, l := range got {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	require.NotPanics(t, func() {
		m.ObserveJobRun("k", "q", metrics.JobCompleted, time.Second)
		m.ObserveProviderRequest(metrics.ProviderTwilio, metrics.OperationSend, metrics.ProviderOK, time.Second)
		m.ObserveCRMRequest("shopmonkey", metrics.CRMOK, time.Second)
		m.CountCRMBudgetWait("shopmonkey", "t")
		m.CountCRMRateLimited("shopmonkey", "t")
		m.CountWebhook("twilio_sms", metrics.WebhookAccepted, metrics.ReasonOK)
		m.ObserveFirstMessage(metrics.FirstMessage{CRM: "shopmonkey", Path: "webhook", Channel: "sms"})
	})
}

func TestSeriesExistFromTheFirstScrape(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, false)
	require.Zero(t, gauge(t, m, "leadorch_job_runs_total", map[string]string{"kind": "send_sms", "queue": "sms", "outcome": "panicked"}))
	require.Zero(t, gauge(t, m, "leadorch_provider_requests_total", map[string]string{"provider": "twilio", "operation": "lookup", "outcome": "ambiguous"}))
	require.Zero(t, gauge(t, m, "leadorch_crm_requests_total", map[string]string{"crm": "tekmetric", "outcome": "rate_limited"}))
	require.Zero(t, gauge(t, m, "leadorch_crm_budget_waits_total", map[string]string{"crm": "tekmetric", "tenant": "all"}))
	require.Zero(t, gauge(t, m, "leadorch_webhooks_total", map[string]string{"route": "crm_tekmetric", "result": "refused", "reason": "stale"}))
	require.Zero(t, gauge(t, m, "leadorch_speed_to_lead_seconds", map[string]string{"crm": "shopmonkey", "path": "poll", "channel": "email"}))
	require.Zero(t, gauge(t, m, "leadorch_queue_jobs", map[string]string{"queue": "crm", "state": "retryable"}))
	require.Equal(t, 1.0, gauge(t, m, "leadorch_build_info", map[string]string{"version": "test", "goversion": runtime.Version()}))
}

func TestRecording(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, false)
	m.ObserveJobRun("send_sms", "sms", metrics.JobFailed, 2*time.Second)
	m.CountCRMRateLimited("shopmonkey", "3c1d5d36-0000-4000-8000-000000000001")
	m.CountWebhook(metrics.CRMWebhookRoute("shopmonkey"), metrics.WebhookRefused, "a reason nobody listed")
	m.ObserveFirstMessage(metrics.FirstMessage{CRM: "shopmonkey", Path: "webhook", Channel: "sms", SinceFirstSeen: 3 * time.Second})

	require.Equal(t, 1.0, gauge(t, m, "leadorch_job_runs_total", map[string]string{"kind": "send_sms", "queue": "sms", "outcome": "failed"}))
	require.Equal(t, 1.0, gauge(t, m, "leadorch_job_run_duration_seconds", map[string]string{"kind": "send_sms"}))
	require.Equal(t, 1.0, gauge(t, m, "leadorch_crm_rate_limited_total", map[string]string{"crm": "shopmonkey", "tenant": "all"}),
		"the tenant id is not a label by default")
	require.Equal(t, 1.0, gauge(t, m, "leadorch_webhooks_total", map[string]string{"route": "crm_shopmonkey", "result": "refused", "reason": "other"}))
	require.Equal(t, 1.0, gauge(t, m, "leadorch_speed_to_lead_from_first_seen_seconds", map[string]string{"crm": "shopmonkey", "path": "webhook", "channel": "sms"}))
	require.Zero(t, gauge(t, m, "leadorch_speed_to_lead_seconds", map[string]string{"crm": "shopmonkey", "path": "webhook", "channel": "sms"}),
		"no CRM creation time: not counted as instant")
}

func TestTenantLabelsOptIn(t *testing.T) {
	t.Parallel()
	m, _ := setup(t, true)
	m.CountCRMBudgetWait("shopmonkey", "t9")
	require.Equal(t, 1.0, gauge(t, m, "leadorch_crm_budget_waits_total", map[string]string{"crm": "shopmonkey", "tenant": "t9"}))
	require.Equal(t, 300.0, gauge(t, m, "leadorch_poll_lag_seconds", map[string]string{"crm": "shopmonkey", "tenant": "t2"}))
	require.Equal(t, 60.0, gauge(t, m, "leadorch_poll_lag_seconds", map[string]string{"crm": "shopmonkey", "tenant": "t1"}))
}

func TestDatabaseStats(t *testing.T) {
	t.Parallel()

	t.Run("Exported", func(t *testing.T) {
		t.Parallel()
		m, _ := setup(t, false)
		require.Equal(t, 1.0, gauge(t, m, "leadorch_database_stats_up", map[string]string{}))
		require.Equal(t, 3.0, gauge(t, m, "leadorch_queue_jobs", map[string]string{"queue": "sms", "state": "available"}))
		require.Equal(t, 90.0, gauge(t, m, "leadorch_queue_oldest_available_age_seconds", map[string]string{"queue": "sms"}))
		require.Zero(t, gauge(t, m, "leadorch_queue_oldest_available_age_seconds", map[string]string{"queue": "crm"}))
		require.Equal(t, 40.0, gauge(t, m, "leadorch_outbox_messages", map[string]string{"channel": "email", "status": "ambiguous"}))
		require.Zero(t, gauge(t, m, "leadorch_outbox_messages", map[string]string{"channel": "sms", "status": "failed"}))
		require.Equal(t, 300.0, gauge(t, m, "leadorch_poll_lag_seconds", map[string]string{"crm": "shopmonkey", "tenant": "all"}),
			"the largest lag over the CRM's tenants")
		require.Zero(t, gauge(t, m, "leadorch_poll_lag_seconds", map[string]string{"crm": "tekmetric", "tenant": "all"}))
		require.Equal(t, 1.0, gauge(t, m, "leadorch_tenants_polls_failing", map[string]string{"crm": "shopmonkey"}))
		require.Equal(t, 2.0, gauge(t, m, "leadorch_tenants_needing_attention", map[string]string{"reason": "crm_credentials"}))
		require.Zero(t, gauge(t, m, "leadorch_tenants_needing_attention", map[string]string{"reason": "ambiguous_messages"}))
		require.Equal(t, 7.0, gauge(t, m, "leadorch_poll_schedule_age_seconds", map[string]string{}))
	})

	t.Run("CachedForTheInterval", func(t *testing.T) {
		t.Parallel()
		m, b := setup(t, false)
		for range 3 {
			_, err := testutil.GatherAndCount(m.Registry(), "leadorch_queue_jobs")
			require.NoError(t, err)
		}
		require.EqualValues(t, 1, b.reads.Load(), "three scrapes within the interval read once")
		b.now.Add(int64(10 * time.Second))
		_, err := testutil.GatherAndCount(m.Registry(), "leadorch_queue_jobs")
		require.NoError(t, err)
		require.EqualValues(t, 2, b.reads.Load(), "a scrape after the interval reads again")
	})

	t.Run("FailedReadIsDownAndKeepsTheLastGoodFigures", func(t *testing.T) {
		t.Parallel()
		m, b := setup(t, false)
		require.Equal(t, 1.0, gauge(t, m, "leadorch_database_stats_up", map[string]string{}))
		b.fail.Store(true)
		b.now.Add(int64(time.Minute))
		require.Zero(t, gauge(t, m, "leadorch_database_stats_up", map[string]string{}))
		require.Equal(t, 40.0, gauge(t, m, "leadorch_outbox_messages", map[string]string{"channel": "email", "status": "ambiguous"}))
	})

	t.Run("NeverScheduledIsInfinitelyOld", func(t *testing.T) {
		t.Parallel()
		m, b := setup(t, false)
		b.fail.Store(true)
		require.True(t, math.IsInf(gauge(t, m, "leadorch_poll_schedule_age_seconds", map[string]string{}), 1))
	})
}
