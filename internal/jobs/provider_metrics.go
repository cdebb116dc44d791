package jobs

import (
	"time"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// observeProvider records one call to a messaging provider that started
// at start and returned err, by the class of its error: the same class
// that decides what the send does next (retry, fail for good, suppress,
// reconcile), so the metric and the outbox tell one story.
func (d *Deps) observeProvider(provider, operation string, start time.Time, err error) {
	d.Metrics.ObserveProviderRequest(provider, operation, providerOutcome(err), time.Since(start))
}

// providerOutcome is the outcome label of a provider call's error.
func providerOutcome(err error) string {
	if err == nil {
		return metrics.ProviderOK
	}
	switch messaging.ClassOf(err) {
	case messaging.ClassRetry:
		return metrics.ProviderRetry
	case messaging.ClassPermanent:
		return metrics.ProviderPermanent
	case messaging.ClassOptedOut:
		return metrics.ProviderOptedOut
	}
	return metrics.ProviderAmbiguous
}

// smsProvider and emailProvider name the providers in metrics: Deps'
// SMSProvider and EmailProvider, else the fleet's only ones.
func (d *Deps) smsProvider() string {
	if d.SMSProvider != "" {
		return d.SMSProvider
	}
	return metrics.ProviderTwilio
}

func (d *Deps) emailProvider() string {
	if d.EmailProvider != "" {
		return d.EmailProvider
	}
	return metrics.ProviderSendGrid
}
