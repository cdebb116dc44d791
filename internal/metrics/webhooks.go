package metrics

import "github.com/prometheus/client_golang/prometheus"

func (m *Metrics) newWebhookMetrics() {
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "webhooks_total",
		Help: "Webhook requests by route (crm_<kind>, twilio_sms, twilio_status, twilio_voice, twilio_voice_dial, sendgrid_events, sendgrid_inbound), result (accepted, refused) and reason (ok when accepted; unverified, stale, malformed, unknown_tenant, disabled, rate_limited, too_large, unavailable, unknown_address when refused).",
	}, []string{"route", "result", "reason"})
	m.registry.MustRegister(m.webhooks)
}

// CountWebhook records one webhook request. An accepted one has reason
// ReasonOK; a refused one one of RefusalReasons.
func (m *Metrics) CountWebhook(route, result, reason string) {
	if m == nil {
		return
	}
	if result == WebhookAccepted {
		reason = ReasonOK
	} else {
		result, reason = WebhookRefused, oneOf(reason, RefusalReasons())
	}
	m.webhooks.WithLabelValues(route, result, reason).Inc()
}
