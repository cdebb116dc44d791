// Package metrics holds every Prometheus metric the fleet exports: their
// names, help, units and label sets are written once here, so the alert
// rules, the dashboard and the scrape test have one list to agree with. It
// imports nothing of ours; rooms record through the small methods of
// *Metrics, and a nil *Metrics records nothing (tests and CLIs that export
// no metrics pass none).
//
// Two kinds of figure live here. Process-local ones (job runs, provider and
// CRM calls, webhooks, speed to lead) are counted by the replica that did
// the work, so sum() across replicas is the fleet's. Fleet-wide ones (queue
// depths, the outbox, poll lag, tenants needing attention) are read from
// Postgres at scrape time through the DatabaseStats port: every replica
// exports the same value, so rules and dashboards take max(), never sum().
package metrics

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of ours.
const Namespace = "leadorch"

// TenantAll is the tenant label of per-tenant series when
// metrics.tenant_labels is off: one series per CRM, whatever the number of
// shops.
const TenantAll = "all"

// Opts shapes one process's metrics.
type Opts struct {
	// Version is the build's version for leadorch_build_info; empty reads
	// it from the binary's build information.
	Version string
	// TenantLabels puts the tenant's id in the tenant label of per-tenant
	// series instead of TenantAll (metrics.tenant_labels).
	TenantLabels bool
	// JobKinds are the job kinds with the queues they run on, and CRMs the
	// CRM kinds' names: their series are created at zero before the first
	// run, so a rate() or an alert sees them from the first scrape.
	JobKinds []JobKind
	CRMs     []string
	// Queues are River's queues, whose depth and oldest job are read
	// through DatabaseStats.
	Queues []string
	// DatabaseStats, when set, is read at scrape time for the fleet-wide
	// gauges, at most once per DatabaseStatsInterval (zero: 10s).
	DatabaseStats         DatabaseStats
	DatabaseStatsInterval time.Duration
	// Now is the clock of the stats cache; nil means time.Now.
	Now func() time.Time
}

// JobKind is a job kind and one queue it runs on.
type JobKind struct {
	Kind  string
	Queue string
}

// Metrics is one process's metrics, registered on a registry of its own
// (never Prometheus's global one, so two workers in one test process, or a
// test's own registry, never collide). Build it with New; cmd/worker serves
// Handler on the operator listener.
type Metrics struct {
	registry     *prometheus.Registry
	tenantLabels bool

	jobRuns         *prometheus.CounterVec
	jobDuration     *prometheus.HistogramVec
	providerReqs    *prometheus.CounterVec
	providerLatency *prometheus.HistogramVec
	crmReqs         *prometheus.CounterVec
	crmLatency      *prometheus.HistogramVec
	crmBudgetWaits  *prometheus.CounterVec
	crmRateLimited  *prometheus.CounterVec
	webhooks        *prometheus.CounterVec
	speedToLead     *prometheus.HistogramVec
	speedFromSeen   *prometheus.HistogramVec
	carrierVerdicts *prometheus.CounterVec
}

// New builds a process's metrics and registers them, with Go's runtime
// and the process's collectors, on a new registry.
func New(opts Opts) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), tenantLabels: opts.TenantLabels}
	m.newJobMetrics()
	m.newProviderMetrics()
	m.newCRMMetrics()
	m.newWebhookMetrics()
	m.newSpeedToLeadMetrics()
	m.newCarrierMetrics()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help: "Always 1; its labels say which build and Go version this replica runs.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(version(opts.Version), runtime.Version()).Set(1)
	m.registry.MustRegister(build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.DatabaseStats != nil {
		m.registry.MustRegister(newDatabaseCollector(opts))
	}
	m.preinitialise(opts)
	return m
}

// Registry is the registry every metric of m is on (tests gather it).
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves m's registry in Prometheus's text format, counting its
// own errors and in-flight scrapes.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry, Timeout: 20 * time.Second})
}

// preinitialise creates every bounded label combination at zero.
func (m *Metrics) preinitialise(opts Opts) {
	for _, k := range opts.JobKinds {
		for _, o := range JobOutcomes() {
			m.jobRuns.WithLabelValues(k.Kind, k.Queue, o)
		}
		m.jobDuration.WithLabelValues(k.Kind)
	}
	for _, p := range providerOperations() {
		for _, o := range ProviderOutcomes() {
			m.providerReqs.WithLabelValues(p.provider, p.operation, o)
		}
		m.providerLatency.WithLabelValues(p.provider, p.operation)
	}
	for _, c := range opts.CRMs {
		for _, o := range CRMOutcomes() {
			m.crmReqs.WithLabelValues(c, o)
		}
		m.crmLatency.WithLabelValues(c)
		if !opts.TenantLabels {
			m.crmBudgetWaits.WithLabelValues(c, TenantAll)
			m.crmRateLimited.WithLabelValues(c, TenantAll)
		}
		for _, path := range LeadPaths() {
			for _, ch := range Channels() {
				m.speedToLead.WithLabelValues(c, path, ch)
				m.speedFromSeen.WithLabelValues(c, path, ch)
			}
		}
	}
	for _, route := range webhookRoutes(opts.CRMs) {
		m.webhooks.WithLabelValues(route, WebhookAccepted, ReasonOK)
		for _, reason := range RefusalReasons() {
			m.webhooks.WithLabelValues(route, WebhookRefused, reason)
		}
	}
}

// tenant is the tenant label for tenantID: the id only when an operator
// opted in.
func (m *Metrics) tenant(tenantID string) string {
	if m.tenantLabels && tenantID != "" {
		return tenantID
	}
	return TenantAll
}

// version is v, else the main module's version from the binary.
func version(v string) string {
	if v != "" {
		return v
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "unknown"
}

// Buckets, in seconds. Speed to lead spans a webhook answered in a second
// to a lead found by the next morning's poll; calls to providers and CRMs
// span a fast 200 to a timeout; job runs span a bookkeeping insert to the
// one-minute job timeout and a bit beyond.
func speedToLeadBuckets() []float64 {
	return []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400}
}

func httpBuckets() []float64 { return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30} }

func jobBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
}
