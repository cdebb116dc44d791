package httpapi

import (
	"net/http"
	"time"
)

// ServerOpts are the public HTTP server's timeouts (http.* in config.yaml).
// Every one must be set: a zero timeout in net/http means none, and one
// port serves both the providers' webhooks and River UI to the internet.
type ServerOpts struct {
	// ReadTimeout bounds reading a whole request, body included, so a
	// client trickling a body is cut off.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its response (net/http counts the body's reading in it).
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections that send nothing more.
	IdleTimeout time.Duration
}

// readHeaderTimeout bounds the request line and headers (a few hundred
// bytes that any honest client sends at once), or ReadTimeout when that is
// shorter.
const readHeaderTimeout = 10 * time.Second

// NewServer returns the worker's HTTP server for handler. It is the one
// place the server is built, so the tests that trickle a body or idle a
// connection exercise the server production runs.
func NewServer(handler http.Handler, opts ServerOpts) *http.Server {
	headerTimeout := readHeaderTimeout
	if opts.ReadTimeout > 0 {
		headerTimeout = min(headerTimeout, opts.ReadTimeout)
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       opts.IdleTimeout,
	}
}
