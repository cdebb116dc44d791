package config

import (
	"fmt"
	"time"
)

// OperatorConfig is the worker's second HTTP listener, for the people and
// systems that run the fleet rather than for the internet: Prometheus
// metrics, River UI, health and readiness. It is separate from http.addr
// (the providers' webhooks) so that a scrape or the UI never shares a port,
// an ingress or a rate limit with the public surface.
type OperatorConfig struct {
	// Addr is where it listens. The default is loopback only: metrics name
	// queues, CRMs and error rates, and River UI can cancel any job, so
	// exposing them is a deliberate act (":9464" in a pod, behind a
	// NetworkPolicy that admits only the monitoring namespace).
	Addr string `mapstructure:"addr"`
}

// MetricsConfig shapes what /metrics on the operator listener exports.
type MetricsConfig struct {
	// TenantLabels adds the tenant's id as a label to the per-tenant series
	// (CRM budget waits and 429s, poll lag). Off by default: a fleet of a
	// thousand shops would multiply every such series by a thousand, and
	// Prometheus's own guidance keeps label values bounded.
	TenantLabels bool `mapstructure:"tenant_labels"`

	// DatabaseStatsInterval is how long the figures read from Postgres at
	// scrape time (queue depths, the oldest available job's age, outbox
	// counts, poll lag, tenants needing attention) are reused before they
	// are read again, so several scrapers (two Prometheus replicas, a
	// human with curl) cost one set of queries per interval per replica.
	DatabaseStatsInterval time.Duration `mapstructure:"database_stats_interval"`
}

// TracingConfig is OpenTelemetry tracing: off unless an OTLP endpoint is
// set.
type TracingConfig struct {
	// OTLPEndpoint is the OTLP/HTTP traces URL of a collector, for example
	// http://otel-collector.observability:4318/v1/traces. Empty turns
	// tracing off: no spans are recorded and nothing is exported.
	OTLPEndpoint string `mapstructure:"otlp_endpoint"`

	// SampleRatio is the share of new traces recorded (0..1); a trace
	// started upstream keeps its parent's decision.
	SampleRatio float64 `mapstructure:"sample_ratio"`

	// ServiceName is the service.name resource attribute of every span.
	ServiceName string `mapstructure:"service_name"`
}

// operatorProblems checks the operator listener, metrics and tracing keys.
func (c *Config) operatorProblems(check checker) {
	check.addr("operator.addr", c.Operator.Addr)
	if c.Operator.Addr != "" && c.Operator.Addr == c.HTTP.Addr {
		check.add("operator.addr", fmt.Sprintf("must differ from http.addr (%s): the operator listener serves metrics and River UI off the public webhook port", c.HTTP.Addr))
	}
	check.durationBetween("metrics.database_stats_interval", c.Metrics.DatabaseStatsInterval, time.Second, 10*time.Minute)
	check.baseURL("tracing.otlp_endpoint", c.Tracing.OTLPEndpoint)
	if c.Tracing.SampleRatio < 0 || c.Tracing.SampleRatio > 1 {
		check.add("tracing.sample_ratio", fmt.Sprintf("must be between 0 and 1, got %g", c.Tracing.SampleRatio))
	}
	if c.Tracing.ServiceName == "" {
		check.add("tracing.service_name", "must not be empty: it names this service in every trace")
	}
}
