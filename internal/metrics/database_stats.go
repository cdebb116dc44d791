package metrics

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DatabaseStats is the port the fleet-wide gauges are read through; the
// store implements it (cmd/worker adapts store.FleetStats to it). It is
// called at scrape time, at most once per Opts.DatabaseStatsInterval.
type DatabaseStats interface {
	FleetStats(ctx context.Context) (Snapshot, error)
}

// DatabaseStatsFunc lets a function be a DatabaseStats.
type DatabaseStatsFunc func(ctx context.Context) (Snapshot, error)

// FleetStats calls f.
func (f DatabaseStatsFunc) FleetStats(ctx context.Context) (Snapshot, error) { return f(ctx) }

// Snapshot is the fleet-wide figures of one read of Postgres.
type Snapshot struct {
	Queues []QueueStats
	Outbox []OutboxCount
	// PollLag is one entry per enabled tenant.
	PollLag []PollLag
	// PollsFailing counts, by CRM kind, the enabled tenants whose latest
	// live poll failed.
	PollsFailing map[string]int
	// NeedingAttention counts tenants flagged for an operator, by one of
	// AttentionReasons.
	NeedingAttention map[string]int
	// PollScheduleAge is the time since schedule_polls last completed;
	// PollScheduled is false when it never has.
	PollScheduleAge time.Duration
	PollScheduled   bool
}

// QueueStats is one River queue's work still to do.
type QueueStats struct {
	Queue                           string
	Available, Scheduled, Retryable int64
	// OldestAvailableAge is how long the oldest available job has waited
	// since it was due; zero when none is available.
	OldestAvailableAge time.Duration
}

// OutboxCount is the number of messages on channel in status (one of
// OutboxStatuses).
type OutboxCount struct {
	Channel, Status string
	Count           int64
}

// PollLag is how far behind now one enabled tenant's polled window ends.
type PollLag struct {
	CRM, TenantID string
	Lag           time.Duration
}

// databaseCollector exports a Snapshot, read again only when the cached
// one is older than the interval: Prometheus's replicas and a person with
// curl then cost one set of queries per interval per replica.
type databaseCollector struct {
	stats        DatabaseStats
	interval     time.Duration
	now          func() time.Time
	tenantLabels bool
	queues, crms []string

	up, queueJobs, oldest, outbox, pollLag, pollsFailing, attention, scheduleAge *prometheus.Desc

	mu       sync.Mutex
	readAt   time.Time
	snapshot Snapshot
	ok       bool
}

func newDatabaseCollector(opts Opts) *databaseCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
	}
	c := &databaseCollector{
		stats: opts.DatabaseStats, interval: opts.DatabaseStatsInterval, now: opts.Now,
		tenantLabels: opts.TenantLabels, queues: opts.Queues, crms: opts.CRMs,
		up: desc("database_stats_up", "1 when the last read of the fleet-wide figures from Postgres succeeded, else 0 (the other fleet-wide gauges then hold the last good read)."),
		queueJobs: desc("queue_jobs", "River jobs per queue in a state still to run (available, scheduled, retryable); fleet-wide: aggregate with max(), not sum().",
			"queue", "state"),
		oldest: desc("queue_oldest_available_age_seconds", "Seconds the oldest available job of a queue has waited since it was due; 0 when none is available. Fleet-wide: use max().",
			"queue"),
		outbox: desc("outbox_messages", "Outbox messages by channel and status: pending, sending and ambiguous count rows now in that status, failed counts rows that failed in the last 24 h. Fleet-wide: use max().",
			"channel", "status"),
		pollLag: desc("poll_lag_seconds", "Seconds between now and the end of the window an enabled tenant's polls have covered (the largest over tenants when tenant=\"all\"). Fleet-wide: use max().",
			"crm", "tenant"),
		pollsFailing: desc("tenants_polls_failing", "Enabled tenants whose latest live poll_crm run failed, by CRM. Fleet-wide: use max().",
			"crm"),
		attention: desc("tenants_needing_attention", "Tenants flagged for an operator, by reason (crm_credentials: the CRM rejected the tenant's credentials; ambiguous_messages: messages no one can tell were sent). Fleet-wide: use max().",
			"reason"),
		scheduleAge: desc("poll_schedule_age_seconds", "Seconds since schedule_polls last completed on any replica (+Inf when it never has). Fleet-wide: use max()."),
	}
	if c.interval <= 0 {
		c.interval = 10 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Describe sends every descriptor.
func (c *databaseCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.queueJobs, c.oldest, c.outbox, c.pollLag, c.pollsFailing, c.attention, c.scheduleAge} {
		ch <- d
	}
}

// Collect sends the cached snapshot, reading it first when it is stale.
func (c *databaseCollector) Collect(ch chan<- prometheus.Metric) {
	s, ok := c.read()
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, boolValue(ok))
	c.collectQueues(ch, s)
	c.collectOutbox(ch, s)
	c.collectTenants(ch, s)
}

// read returns the snapshot, read again when the cached one is older than
// the interval. A failed read is cached too: a database in trouble is not
// asked again by every scrape.
func (c *databaseCollector) read() (Snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.readAt.IsZero() && now.Sub(c.readAt) < c.interval {
		return c.snapshot, c.ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.stats.FleetStats(ctx)
	c.readAt, c.ok = now, err == nil
	if err == nil {
		c.snapshot = s
	}
	return c.snapshot, c.ok
}

func (c *databaseCollector) collectQueues(ch chan<- prometheus.Metric, s Snapshot) {
	byQueue := map[string]QueueStats{}
	for _, q := range s.Queues {
		byQueue[q.Queue] = q
	}
	for _, name := range union(c.queues, keys(byQueue)) {
		q := byQueue[name]
		for state, n := range map[string]int64{"available": q.Available, "scheduled": q.Scheduled, "retryable": q.Retryable} {
			ch <- prometheus.MustNewConstMetric(c.queueJobs, prometheus.GaugeValue, float64(n), name, state)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, max(q.OldestAvailableAge, 0).Seconds(), name)
	}
}

func (c *databaseCollector) collectOutbox(ch chan<- prometheus.Metric, s Snapshot) {
	counts := map[[2]string]int64{}
	for _, o := range s.Outbox {
		counts[[2]string{o.Channel, o.Status}] += o.Count
	}
	for _, channel := range Channels() {
		for _, status := range OutboxStatuses() {
			ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(counts[[2]string{channel, status}]), channel, status)
		}
	}
}

func (c *databaseCollector) collectTenants(ch chan<- prometheus.Metric, s Snapshot) {
	lags := map[[2]string]time.Duration{}
	for _, crm := range c.crms {
		if !c.tenantLabels {
			lags[[2]string{crm, TenantAll}] = 0
		}
	}
	for _, l := range s.PollLag {
		key := [2]string{l.CRM, TenantAll}
		if c.tenantLabels {
			key[1] = l.TenantID
		}
		lags[key] = max(lags[key], l.Lag)
	}
	for key, lag := range lags {
		ch <- prometheus.MustNewConstMetric(c.pollLag, prometheus.GaugeValue, max(lag, 0).Seconds(), key[0], key[1])
	}
	for _, crm := range union(c.crms, keys(s.PollsFailing)) {
		ch <- prometheus.MustNewConstMetric(c.pollsFailing, prometheus.GaugeValue, float64(s.PollsFailing[crm]), crm)
	}
	for _, reason := range AttentionReasons() {
		ch <- prometheus.MustNewConstMetric(c.attention, prometheus.GaugeValue, float64(s.NeedingAttention[reason]), reason)
	}
	age := math.Inf(1)
	if s.PollScheduled {
		age = max(s.PollScheduleAge, 0).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.scheduleAge, prometheus.GaugeValue, age)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// union is a followed by the members of b not in a.
func union(a, b []string) []string {
	out := append([]string(nil), a...)
	seen := map[string]bool{}
	for _, v := range a {
		seen[v] = true
	}
	for _, v := range b {
		if !seen[v] {
			out, seen[v] = append(out, v), true
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
