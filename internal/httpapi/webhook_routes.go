package httpapi

import (
	"log/slog"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// webhookRoutes is what every webhook handler shares: the ports it hands
// verified events to, and the clock.
type webhookRoutes struct {
	logger  *slog.Logger
	tenants TenantLookup
	intake  Intake
	now     func() time.Time
	// sms and publicURL serve the SMS provider's routes: signatures cover
	// the public URL the provider called, as configured.
	sms       messaging.SMSWebhooks
	publicURL string
	email     messaging.EmailEventWebhook
	// voice and calls serve the voice provider's routes (voice_webhooks.go).
	// inboundEmail serves Inbound Parse (email replies).
	inboundEmail messaging.InboundEmailWebhook
	voice        messaging.VoiceWebhooks
	calls        CallIntake
	metrics      *metrics.Metrics
}
