package twilio

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxErrorBody caps how much of an error answer is kept for the SDK to
// decode.
const maxErrorBody = 64 << 10

// callTransport is the RoundTripper of one SDK call. twilio-go has neither
// a base-URL option nor context support, and it hides the status and
// headers of error answers, so this is where all three are handled:
//   - it sends the request with the call's context (cancellation, deadline);
//   - it moves the request to base, keeping base's path as a prefix;
//   - it records in seen whether the request was written and the status and
//     Retry-After of the answer, for classify.
type callTransport struct {
	ctx  context.Context
	base *url.URL // nil leaves the SDK's https://api.twilio.com alone
	next http.RoundTripper
	seen *observer
}

// RoundTrip implements http.RoundTripper.
func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.seen.begin()
	ctx := httptrace.WithClientTrace(t.ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				t.seen.wroteRequest()
			}
		},
	})
	out := req.Clone(ctx)
	if t.base != nil {
		// Rewrite after the SDK built the URL: its region/edge logic would
		// mangle a dotted host such as 127.0.0.1.
		out.URL.Scheme = t.base.Scheme
		out.URL.Host = t.base.Host
		prefix := strings.TrimSuffix(t.base.Path, "/")
		out.URL.RawPath = strings.TrimSuffix(t.base.EscapedPath(), "/") + req.URL.EscapedPath()
		out.URL.Path = prefix + req.URL.Path
		out.Host = ""
	}

	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	t.seen.answered(resp)
	if resp.StatusCode >= http.StatusBadRequest {
		// twilio-go returns without closing the body of an error answer,
		// which would leak the connection: read it here and hand the SDK a
		// copy.
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		if readErr != nil {
			body = nil
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

// observer is what the transport saw of the latest request of one call.
type observer struct {
	mu   sync.Mutex
	seen observed
}

// observed is a snapshot of an observer.
type observed struct {
	// wrote says the request was written in full: from then on Twilio may
	// have acted on it even if no answer arrives.
	wrote bool
	// status is the HTTP status of the answer, zero if none arrived.
	status int
	// retryAfter is the answer's Retry-After, zero if absent.
	retryAfter time.Duration
}

func (o *observer) begin() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = observed{}
}

func (o *observer) wroteRequest() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen.wrote = true
}

func (o *observer) answered(resp *http.Response) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen.wrote = true // an answer means the request got there
	o.seen.status = resp.StatusCode
	o.seen.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

func (o *observer) last() observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen
}

// parseRetryAfter reads a Retry-After header in either of its forms: delay
// seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}
