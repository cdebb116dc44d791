// Package webhookurl names every webhook route the worker serves. The
// patterns httpapi registers and the URLs the providers are given (by
// cmd/worker for Twilio's status callbacks, by cmd/enqueue for a shop's
// CRM settings, by the sandbox's simulator) are all built here, so a path
// is typed out once. It imports nothing of ours: the fakes use it too.
package webhookurl

import (
	"net/url"
	"strings"
)

// Path segments the routes' patterns bind; httpapi reads them with
// r.PathValue.
const (
	TenantSegment = "tenant"
	TokenSegment  = "token"
)

// Route is one webhook endpoint of one tenant (or of the fleet, for
// SendGrid's event webhook, which names tenants in its events).
type Route struct {
	path string
}

// Path is the route's path, its segments escaped.
func (r Route) Path() string { return r.path }

// URL is the one function that builds a webhook URL: base is this
// service's public URL as the provider calls it (scheme, host and any path
// prefix a proxy strips; a trailing slash is ignored), followed by the
// route's path. Twilio signs exactly this URL, so it must be the one
// configured, never one rebuilt from a request.
func URL(base string, r Route) string {
	return strings.TrimRight(base, "/") + r.path
}

// CRM is a tenant's webhook from its CRM of kind. token is the secret
// path segment of CRMs that sign nothing (crm.WebhookURLToken); empty for
// CRMs that sign their requests.
func CRM(kind, tenant, token string) Route {
	p := "/webhooks/" + url.PathEscape(kind) + "/" + url.PathEscape(tenant)
	if token != "" {
		p += "/" + url.PathEscape(token)
	}
	return Route{path: p}
}

// TwilioSMS is the tenant's incoming-message webhook, set on its Twilio
// number.
func TwilioSMS(tenant string) Route {
	return Route{path: "/webhooks/twilio/" + url.PathEscape(tenant) + "/sms"}
}

// TwilioStatus is the tenant's delivery status callback, which send jobs
// give Twilio with every message.
func TwilioStatus(tenant string) Route {
	return Route{path: "/webhooks/twilio/" + url.PathEscape(tenant) + "/status"}
}

// TwilioVoice is the tenant's incoming-call webhook, the Voice URL of its
// Twilio number.
func TwilioVoice(tenant string) Route {
	return Route{path: "/webhooks/twilio/" + url.PathEscape(tenant) + "/voice"}
}

// TwilioVoiceDial is the tenant's <Dial action> callback: where Twilio
// reports how forwarding a call to the shop's phone ended. The voice
// route names it in the TwiML it answers with.
func TwilioVoiceDial(tenant string) Route {
	return Route{path: "/webhooks/twilio/" + url.PathEscape(tenant) + "/voice/dial"}
}

// SendGridEvents is the fleet's one SendGrid event webhook.
func SendGridEvents() Route {
	return Route{path: "/webhooks/sendgrid/events"}
}

// SendGridInbound is the route of SendGrid Inbound Parse: email replies to
// reply addresses, for every tenant.
func SendGridInbound() Route {
	return Route{path: "/webhooks/sendgrid/inbound"}
}

// CRMPattern is the ServeMux pattern of kind's webhook route, with a
// {token} segment when the CRM authenticates by URL token.
func CRMPattern(kind string, withToken bool) string {
	p := "POST /webhooks/" + kind + "/{" + TenantSegment + "}"
	if withToken {
		p += "/{" + TokenSegment + "}"
	}
	return p
}

// Patterns of the provider routes.
const (
	TwilioSMSPattern      = "POST /webhooks/twilio/{" + TenantSegment + "}/sms"
	TwilioStatusPattern   = "POST /webhooks/twilio/{" + TenantSegment + "}/status"
	TwilioVoicePattern    = "POST /webhooks/twilio/{" + TenantSegment + "}/voice"
	TwilioDialPattern     = "POST /webhooks/twilio/{" + TenantSegment + "}/voice/dial"
	SendGridEventsPattern = "POST /webhooks/sendgrid/events"
	// SendGridInboundPattern is Inbound Parse's one URL for every shop:
	// the reply address routes each mail.
	SendGridInboundPattern = "POST /webhooks/sendgrid/inbound"
)
