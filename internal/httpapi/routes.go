// Package httpapi is the worker's HTTP surface. Every route is in routes.go;
// handlers are functions that return http.Handler and middleware wraps them.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
)

// Opts is what the routes need.
type Opts struct {
	Logger *slog.Logger
	// Ready reports whether this replica can take work: the database
	// answers and the River client has started.
	Ready func(r *http.Request) error
	// RiverUI is River UI's handler, served under /riverui/ behind basic
	// auth, with unsafe cross-origin requests refused. Nil serves no UI.
	RiverUI http.Handler
	// RiverUIUsername and RiverUIPassword guard River UI. A UI without a
	// password is refused by NewHandler: River UI can cancel, retry and
	// delete jobs and pause queues.
	RiverUIUsername string
	RiverUIPassword string

	// SendGridEvents verifies SendGrid's signed event webhook; nil serves no
	// event route. EnqueueEmailEvents stores verified events as a job, in
	// one transaction, so the handler answers in milliseconds and a
	// failure makes SendGrid redeliver.
	SendGridEvents     *sendgrid.EventVerifier
	EnqueueEmailEvents func(ctx context.Context, events []messaging.EmailEvent) error

	// Webhooks serves the per-tenant CRM and Twilio webhooks when its
	// Tenant lookup is set.
	Webhooks TenantWebhooks

	// Now is the clock (webhook freshness checks); nil means time.Now.
	Now func() time.Time
}

// maxRiverUIBody bounds a River UI API request: its largest, a cancel,
// retry or delete of the 1,000 jobs it accepts at once, is about 25 KB.
const maxRiverUIBody = 1 << 20

// NewHandler returns the worker's HTTP handler.
func NewHandler(opts Opts) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(opts.Ready))
	if opts.RiverUI != nil {
		auth, err := basicAuth(opts.RiverUIUsername, opts.RiverUIPassword, "River UI")
		if err != nil {
			return nil, err
		}
		mux.Handle("/riverui/", refuseCrossOrigin(opts.Logger)(auth(limitBody(maxRiverUIBody)(opts.RiverUI))))
		mux.Handle("GET /riverui", http.RedirectHandler("/riverui/", http.StatusMovedPermanently))
	}
	if opts.SendGridEvents != nil {
		mux.Handle("POST /webhooks/sendgrid/events", handleSendGridEvents(opts.Logger, opts.SendGridEvents, opts.EnqueueEmailEvents, clock(opts.Now)))
	}
	if wh := opts.Webhooks; wh.Tenant != nil {
		if wh.AdmitIngest == nil {
			return nil, errors.New("httpapi: Webhooks.AdmitIngest must be set: CRM webhooks are never taken without a per-tenant limit")
		}
		now := clock(opts.Now)
		mux.Handle("POST /webhooks/shopmonkey/{tenant}", handleShopMonkeyWebhook(opts.Logger, wh, now))
		mux.Handle("POST /webhooks/tekmetric/{tenant}/{token}", handleTekmetricWebhook(opts.Logger, wh))
		if wh.TwilioAuthToken != "" && wh.PublicURL != "" {
			mux.Handle("POST /webhooks/twilio/{tenant}/sms", handleTwilioInbound(opts.Logger, wh, now))
			mux.Handle("POST /webhooks/twilio/{tenant}/status", handleTwilioStatus(opts.Logger, wh))
		}
	}
	return denyFraming(recoverPanics(opts.Logger, mux)), nil
}

func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
