package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
)

// OperatorOpts is what the operator listener's routes need: the people and
// systems that run the fleet, never the internet (operator.addr).
type OperatorOpts struct {
	Logger *slog.Logger
	// Ready is the replica's readiness, as on the public listener.
	Ready func(r *http.Request) error
	// Metrics serves Prometheus's scrape at /metrics; nil serves none.
	Metrics http.Handler
	// RiverUI is River UI's handler, served under /riverui/ behind basic
	// auth, with unsafe cross-origin requests refused. Nil serves no UI.
	RiverUI http.Handler
	// RiverUIUsername and RiverUIPassword guard River UI. A UI without a
	// password is refused: River UI can cancel, retry and delete jobs and
	// pause queues, and the operator listener may be reachable from a
	// whole cluster.
	RiverUIUsername string
	RiverUIPassword string
}

// maxRiverUIBody bounds a River UI API request: its largest, a cancel,
// retry or delete of the 1,000 jobs it accepts at once, is about 25 KB.
const maxRiverUIBody = 1 << 20

// NewOperatorHandler returns the operator listener's handler: /metrics,
// /healthz, /readyz and River UI. It is a second handler, not more routes
// on the public one, so that a scrape, the UI and the webhooks never share
// a port, an ingress or a NetworkPolicy.
func NewOperatorHandler(opts OperatorOpts) (http.Handler, error) {
	if opts.Logger == nil {
		return nil, errors.New("httpapi: OperatorOpts.Logger must be set")
	}
	redact := tokenRedactor(nil)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(opts.Ready))
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", opts.Metrics)
	}
	if opts.RiverUI != nil {
		auth, err := basicAuth(opts.RiverUIUsername, opts.RiverUIPassword, "River UI")
		if err != nil {
			return nil, err
		}
		mux.Handle("/riverui/", refuseCrossOrigin(opts.Logger, redact)(auth(limitBody(maxRiverUIBody)(opts.RiverUI))))
		mux.Handle("GET /riverui", http.RedirectHandler("/riverui/", http.StatusMovedPermanently))
	}
	return denyFraming(recoverPanics(opts.Logger, redact, mux)), nil
}
