package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) newSpeedToLeadMetrics() {
	m.speedToLead = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "speed_to_lead_seconds",
		Help:    "Seconds from a lead's creation in its CRM to the provider accepting the lead's first message on a channel, by CRM, path (webhook, poll, backfill, operator) and channel (sms, email).",
		Buckets: speedToLeadBuckets(),
	}, []string{"crm", "path", "channel"})
	m.speedFromSeen = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "speed_to_lead_from_first_seen_seconds",
		Help:    "Seconds from our first sight of a lead (its row's creation) to the provider accepting its first message on a channel, by CRM, path and channel.",
		Buckets: speedToLeadBuckets(),
	}, []string{"crm", "path", "channel"})
	m.registry.MustRegister(m.speedToLead, m.speedFromSeen)
}

// FirstMessage is a lead's first message on a channel that the provider
// accepted: the figure a shop buys us for (speed to lead).
type FirstMessage struct {
	// CRM is the lead's CRM kind ("shopmonkey").
	CRM string
	// Path is how we found the lead: "webhook", "poll", "backfill" or
	// "operator" (enqueue ingest).
	Path string
	// Channel is "sms" or "email".
	Channel string
	// SinceCRMCreated is from the lead's creation in the CRM to the
	// provider's acceptance; zero when the CRM gave no creation time.
	SinceCRMCreated time.Duration
	// SinceFirstSeen is from the lead row's creation (our first sight of
	// it) to the provider's acceptance.
	SinceFirstSeen time.Duration
}

// ObserveFirstMessage records a lead's first accepted message on a
// channel. A zero SinceCRMCreated (the CRM gave no creation time) is left
// out of leadorch_speed_to_lead_seconds rather than counted as instant.
func (m *Metrics) ObserveFirstMessage(f FirstMessage) {
	if m == nil {
		return
	}
	path, channel := oneOf(f.Path, LeadPaths()), oneOf(f.Channel, Channels())
	if f.SinceCRMCreated > 0 {
		m.speedToLead.WithLabelValues(f.CRM, path, channel).Observe(f.SinceCRMCreated.Seconds())
	}
	m.speedFromSeen.WithLabelValues(f.CRM, path, channel).Observe(max(f.SinceFirstSeen, 0).Seconds())
}
