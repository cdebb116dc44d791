package metrics

import "github.com/prometheus/client_golang/prometheus"

// CarrierVerdicts are the verdicts leadorch_sms_carrier_verdicts_total
// counts: the values of messaging.Verdict other than none (this package
// imports nothing of ours, so the list is written here too).
func CarrierVerdicts() []string {
	return []string{"landline", "unreachable", "opted_out", "filtered", "unregistered"}
}

// newCarrierMetrics registers the verdict counter with every verdict at
// zero, so a rate() over it works from the first scrape.
func (m *Metrics) newCarrierMetrics() {
	m.carrierVerdicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "sms_carrier_verdicts_total",
		Help: "Texts a carrier (through the SMS provider) refused with a verdict beyond the one message, by verdict: " +
			"landline (texts to the number stop), unreachable, opted_out, filtered (spam), unregistered (10DLC or toll-free). " +
			"A rise in filtered or unregistered precedes leadorch_tenants_needing_attention{reason=\"carrier_filtering\"}.",
	}, []string{"verdict"})
	for _, v := range CarrierVerdicts() {
		m.carrierVerdicts.WithLabelValues(v)
	}
	m.registry.MustRegister(m.carrierVerdicts)
}

// CountCarrierVerdict counts one verdict; a value outside CarrierVerdicts
// counts as "other".
func (m *Metrics) CountCarrierVerdict(verdict string) {
	if m == nil || verdict == "" {
		return
	}
	m.carrierVerdicts.WithLabelValues(oneOf(verdict, CarrierVerdicts())).Inc()
}
