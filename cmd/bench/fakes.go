package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// fakes is the provider sandbox of one measurement, served in the bench's
// own process on a loopback listener, with a thin wrapper that counts
// accepted texts and emails and timestamps each text to the nanosecond.
// (The Twilio fake, like Twilio, stamps messages to the whole second, too
// coarse for a latency figure.)
type fakes struct {
	*sandbox.Server
	urls sandbox.BaseURLs
	srv  *http.Server

	texts  atomic.Int64
	emails atomic.Int64
	// requests and conns count what the fakes served and the TCP
	// connections clients opened for it; handling is the server-side time
	// spent answering, in nanoseconds.
	requests atomic.Int64
	conns    atomic.Int64
	handling atomic.Int64

	mu     sync.Mutex
	textAt map[string]time.Time // first accepted text per To number
	// shops are ShopMonkey accounts of their own, by API key (addShop).
	shops map[string]*fakeshopmonkey.API
}

func startFakes() (*fakes, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &fakes{Server: sandbox.NewServer(sandbox.ServerOpts{}), textAt: map[string]time.Time{}, shops: map[string]*fakeshopmonkey.API{}}
	f.urls = sandbox.URLs("http://" + ln.Addr().String())
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				f.conns.Add(1)
			}
		}}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *fakes) close() { _ = f.srv.Close() }

// addShop gives a tenant a ShopMonkey account of its own, served at the
// same base URL and told apart by API key, and returns it. One shared fake
// holding every shop's leads costs the bench's own CPU in proportion to all
// the leads seeded (its customer reads scan every contact of every
// location), which a real CRM account does not; an account per shop keeps
// the fakes' share of the machine small.
func (f *fakes) addShop(apiKey, locationID string) *fakeshopmonkey.API {
	sm := fakeshopmonkey.New()
	sm.AddLocation(apiKey, locationID)
	f.mu.Lock()
	defer f.mu.Unlock()
	// Ids come from a seeded generator: a seed per shop keeps them
	// distinct across shops, as real ids are.
	sm.Seed(int64(len(f.shops) + 1))
	f.shops[apiKey] = sm
	return sm
}

func (f *fakes) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	f.requests.Add(1)
	defer func() { f.handling.Add(int64(time.Since(start))) }()
	if rest, ok := strings.CutPrefix(r.URL.Path, "/shopmonkey/"); ok {
		key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		sm := f.shops[strings.TrimSpace(key)]
		f.mu.Unlock()
		if sm != nil {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/" + rest
			r2.URL.RawPath = ""
			sm.ServeHTTP(w, r2)
			return
		}
	}
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/twilio/") && strings.HasSuffix(r.URL.Path, "/Messages.json"):
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w}
		f.Server.ServeHTTP(rec, r)
		if rec.status == http.StatusCreated {
			at := time.Now()
			f.texts.Add(1)
			if form, err := url.ParseQuery(string(body)); err == nil {
				to := form.Get("To")
				f.mu.Lock()
				if _, seen := f.textAt[to]; !seen {
					f.textAt[to] = at
				}
				f.mu.Unlock()
			}
		}
	case r.Method == http.MethodPost && r.URL.Path == "/sendgrid/v3/mail/send":
		rec := &statusRecorder{ResponseWriter: w}
		f.Server.ServeHTTP(rec, r)
		if rec.status == http.StatusAccepted {
			f.emails.Add(1)
		}
	default:
		f.Server.ServeHTTP(w, r)
	}
}

// textTimes returns when the first text to each number was accepted.
func (f *fakes) textTimes() map[string]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]time.Time, len(f.textAt))
	for k, v := range f.textAt {
		out[k] = v
	}
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// httpStats is what the fakes served during a measurement.
type httpStats struct {
	Requests int64 `json:"requests"`
	// Conns is TCP connections opened: near Requests means clients do not
	// reuse connections.
	Conns int64 `json:"connections"`
	// MeanHandlingMS is the fakes' own time per request.
	MeanHandlingMS float64 `json:"mean_handling_ms"`
}

func (f *fakes) stats() httpStats {
	s := httpStats{Requests: f.requests.Load(), Conns: f.conns.Load()}
	if s.Requests > 0 {
		s.MeanHandlingMS = float64(f.handling.Load()) / float64(s.Requests) / 1e6
	}
	return s
}

func (s httpStats) String() string {
	return fmt.Sprintf("%d requests on %d new TCP connections (%.0f%%), %.2f ms each at the fakes", s.Requests, s.Conns, 100*float64(s.Conns)/float64(max(s.Requests, 1)), s.MeanHandlingMS)
}
