package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) newProviderMetrics() {
	m.providerReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "provider_requests_total",
		Help: "Requests to the messaging providers by provider (twilio, sendgrid), operation (send, lookup) and outcome (ok, or the error's class: retry, permanent, opted_out, ambiguous).",
	}, []string{"provider", "operation", "outcome"})
	m.providerLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "provider_request_duration_seconds",
		Help:    "Seconds one request to a messaging provider took, answered or not.",
		Buckets: httpBuckets(),
	}, []string{"provider", "operation"})
	m.registry.MustRegister(m.providerReqs, m.providerLatency)
}

// ObserveProviderRequest records one request to a messaging provider:
// outcome is ProviderOK or the class of its error (ProviderOutcomes).
func (m *Metrics) ObserveProviderRequest(provider, operation, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.providerReqs.WithLabelValues(provider, operation, oneOf(outcome, ProviderOutcomes())).Inc()
	m.providerLatency.WithLabelValues(provider, operation).Observe(took.Seconds())
}
