package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) newCRMMetrics() {
	m.crmReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "crm_requests_total",
		Help: "HTTP requests to the shops' CRMs by CRM kind and outcome (ok, retry = 5xx or no answer, permanent = another 4xx, rate_limited = 429).",
	}, []string{"crm", "outcome"})
	m.crmLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "crm_request_duration_seconds",
		Help:    "Seconds one HTTP request to a CRM took, answered or not (the wait for the tenant's budget excluded).",
		Buckets: httpBuckets(),
	}, []string{"crm"})
	m.crmBudgetWaits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "crm_budget_waits_total",
		Help: "CRM requests that had to wait for the tenant's request budget (tenant is \"all\" unless metrics.tenant_labels).",
	}, []string{"crm", "tenant"})
	m.crmRateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "crm_rate_limited_total",
		Help: "429 answers from a CRM (tenant is \"all\" unless metrics.tenant_labels).",
	}, []string{"crm", "tenant"})
	m.registry.MustRegister(m.crmReqs, m.crmLatency, m.crmBudgetWaits, m.crmRateLimited)
}

// ObserveCRMRequest records one HTTP request to a CRM (CRMOutcomes).
func (m *Metrics) ObserveCRMRequest(crm, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.crmReqs.WithLabelValues(crm, oneOf(outcome, CRMOutcomes())).Inc()
	m.crmLatency.WithLabelValues(crm).Observe(took.Seconds())
}

// CountCRMBudgetWait records a request that had to wait for tenant's CRM
// budget; the tenant's id is a label only when an operator opted in.
func (m *Metrics) CountCRMBudgetWait(crm, tenantID string) {
	if m == nil {
		return
	}
	m.crmBudgetWaits.WithLabelValues(crm, m.tenant(tenantID)).Inc()
}

// CountCRMRateLimited records a 429 from tenant's CRM.
func (m *Metrics) CountCRMRateLimited(crm, tenantID string) {
	if m == nil {
		return
	}
	m.crmRateLimited.WithLabelValues(crm, m.tenant(tenantID)).Inc()
}
