// Package httpapi is the worker's HTTP surface: routes, auth and
// middleware only. Every route is in routes.go; handlers are functions
// that return http.Handler and middleware wraps them. The webhook routes
// know no CRM and no provider: each CRM kind's and provider's parser
// verifies and decodes its own requests (crm.Kind.ParseWebhook,
// messaging.SMSWebhooks, messaging.EmailEventWebhook), and the routes hand
// what verified to the ports in ports.go.
package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// Opts is what the routes need.
type Opts struct {
	Logger *slog.Logger
	// Ready reports whether this replica can take work: the database
	// answers and the River client has started.
	Ready func(r *http.Request) error
	// River UI is served on the operator listener (NewOperatorHandler),
	// never here on the public one.

	// Metrics counts webhooks accepted and refused by route and reason;
	// nil counts nothing.
	Metrics *metrics.Metrics

	// Intake takes every verified webhook; required with any webhook
	// route.
	Intake Intake
	// Tenants resolves the tenant a per-tenant webhook's path names; nil
	// serves no per-tenant webhook route (CRM or SMS).
	Tenants TenantLookup
	// CRMKinds are the CRMs whose webhooks are served: one route per kind
	// whose WebhookAuth is not crm.WebhookNone. Nil serves none.
	CRMKinds *crm.Registry
	// SMS verifies and decodes the SMS provider's webhooks; PublicURL is
	// this service's base URL as the provider calls it (scheme, host and
	// any path prefix a proxy strips), which its signatures cover. The SMS
	// routes are served only with both (and Tenants).
	SMS       messaging.SMSWebhooks
	PublicURL string
	// EmailEvents verifies and decodes the email provider's signed event
	// webhook; nil serves no event route.
	EmailEvents messaging.EmailEventWebhook
	// InboundEmail verifies and decodes the email provider's inbound
	// webhook (SendGrid Inbound Parse); nil: email replies are not taken.
	InboundEmail messaging.InboundEmailWebhook
	// Voice verifies and decodes the voice provider's webhooks of a shop's
	// number and writes its answers; Calls records the calls. The voice
	// routes are served only with both (and Tenants and PublicURL).
	Voice messaging.VoiceWebhooks
	Calls CallIntake

	// Now is the clock (webhook freshness checks, a text's received time);
	// nil means time.Now.
	Now func() time.Time

	// Booking serves the customers' booking page (/book/{token}); nil
	// serves no page.
	Booking BookingDesk
	// Unsubscribe serves the unsubscribe page of customer emails
	// (/unsubscribe/{token}); nil serves none.
	Unsubscribe UnsubscribeDesk

	// TracerProvider gives every webhook request a span (trace.go); nil
	// traces nothing.
	TracerProvider trace.TracerProvider
}

// NewHandler returns the worker's HTTP handler.
func NewHandler(opts Opts) (http.Handler, error) {
	redact := tokenRedactor(urlTokenKinds(opts.CRMKinds))
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(opts.Ready))
	if err := handleWebhooks(mux, opts); err != nil {
		return nil, err
	}
	if opts.Booking != nil {
		bp := &bookingPage{logger: opts.Logger, desk: opts.Booking, redact: redact, crossOrigin: http.NewCrossOriginProtection()}
		mux.Handle("GET /book/{token}", bp.handleOffer())
		mux.Handle("POST /book/{token}", bp.handleRequest())
		mux.Handle("POST /book/{token}/b/{id}", bp.handleRequest())
		mux.Handle("GET /book/{token}/b/{id}", bp.handleStatus())
	}
	if opts.Unsubscribe != nil {
		up := &unsubscribePage{logger: opts.Logger, desk: opts.Unsubscribe, redact: redact}
		mux.Handle("GET /unsubscribe/{token}", up.handleLook())
		mux.Handle("POST /unsubscribe/{token}", up.handleUnsubscribe())
	}
	return denyFraming(recoverPanics(opts.Logger, redact, traceRequests(opts.TracerProvider, mux))), nil
}

// handleWebhooks registers the webhook routes opts asks for.
func handleWebhooks(mux *http.ServeMux, opts Opts) error {
	perTenant := opts.Tenants != nil && (opts.CRMKinds != nil || (opts.SMS != nil && opts.PublicURL != ""))
	if opts.Intake == nil {
		if perTenant || opts.EmailEvents != nil || opts.InboundEmail != nil {
			return errors.New("httpapi: Opts.Intake must be set: a webhook route hands what it verified to the intake")
		}
		return nil
	}
	wr := &webhookRoutes{logger: opts.Logger, tenants: opts.Tenants, intake: opts.Intake, now: clock(opts.Now),
		sms: opts.SMS, publicURL: opts.PublicURL, email: opts.EmailEvents, inboundEmail: opts.InboundEmail, metrics: opts.Metrics,
		voice: opts.Voice, calls: opts.Calls}
	if opts.InboundEmail != nil {
		mux.Handle(webhookurl.SendGridInboundPattern, wr.counted(metrics.RouteSendGridInbound, wr.handleInboundEmail()))
	}
	if opts.EmailEvents != nil {
		mux.Handle(webhookurl.SendGridEventsPattern, wr.counted(metrics.RouteSendGridEvents, wr.handleEmailEvents()))
	}
	if opts.Tenants == nil {
		return nil
	}
	if opts.CRMKinds != nil {
		for _, name := range opts.CRMKinds.Kinds() {
			kind, _ := opts.CRMKinds.Kind(name)
			if kind.WebhookAuth == crm.WebhookNone {
				continue
			}
			mux.Handle(webhookurl.CRMPattern(name, kind.WebhookAuth == crm.WebhookURLToken),
				wr.counted(metrics.CRMWebhookRoute(name), wr.handleCRMWebhook(kind)))
		}
	}
	if opts.SMS != nil && opts.PublicURL != "" {
		mux.Handle(webhookurl.TwilioSMSPattern, wr.counted(metrics.RouteTwilioSMS, wr.handleSMSInbound()))
		mux.Handle(webhookurl.TwilioStatusPattern, wr.counted(metrics.RouteTwilioStatus, wr.handleSMSStatus()))
	}
	if opts.Voice != nil && opts.Calls != nil && opts.PublicURL != "" {
		mux.Handle(webhookurl.TwilioVoicePattern, wr.counted(metrics.RouteTwilioVoice, wr.handleVoiceCall()))
		mux.Handle(webhookurl.TwilioDialPattern, wr.counted(metrics.RouteTwilioDial, wr.handleVoiceDial()))
	}
	return nil
}

// urlTokenKinds are the kinds whose webhook paths end in a secret token.
func urlTokenKinds(reg *crm.Registry) []string {
	if reg == nil {
		return nil
	}
	var out []string
	for _, name := range reg.Kinds() {
		if k, _ := reg.Kind(name); k.WebhookAuth == crm.WebhookURLToken {
			out = append(out, name)
		}
	}
	return out
}

func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
