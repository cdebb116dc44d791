// Package metrics holds every Prometheus metric the fleet exports: their
// names, help, units and label sets are written once here, so the alert
// rules, the dashboard and the scrape test have one list to agree with. It
// imports nothing of ours; rooms record through the small methods of
// *Metrics, and a nil *Metrics records nothing (tests and CLIs that export
// no metrics pass none).
package metrics

import "time"

// Metrics is one process's metrics. Build it with New; cmd/worker serves
// its registry on the operator listener.
type Metrics struct{}

// New returns a process's metrics.
func New() *Metrics { return &Metrics{} }

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

// ObserveFirstMessage records a lead's first accepted message on a channel.
func (m *Metrics) ObserveFirstMessage(FirstMessage) {}
