// Package httpapi is the worker's HTTP surface. Every route is in routes.go;
// handlers are functions that return http.Handler and middleware wraps them.
package httpapi

import (
	"log/slog"
	"net/http"
)

// Opts is what the routes need.
type Opts struct {
	Logger *slog.Logger
	// Ready reports whether this replica can take work: the database
	// answers and the River client has started.
	Ready func(r *http.Request) error
	// RiverUI is River UI's handler, served under /riverui/ behind basic
	// auth. Nil serves no UI.
	RiverUI http.Handler
	// RiverUIUsername and RiverUIPassword guard River UI. A UI without a
	// password is refused by NewHandler: River UI can cancel, retry and
	// delete jobs and pause queues.
	RiverUIUsername string
	RiverUIPassword string
}

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
		mux.Handle("/riverui/", auth(opts.RiverUI))
		mux.Handle("GET /riverui", http.RedirectHandler("/riverui/", http.StatusMovedPermanently))
	}
	return recoverPanics(opts.Logger, mux), nil
}
