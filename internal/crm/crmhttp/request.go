package crmhttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// MaxResponseBytes bounds what one answer may make us read.
const MaxResponseBytes = 16 << 20

// Request is one API call.
type Request struct {
	// Client makes the call (the tenant's budgeted client).
	Client *http.Client
	// Timeout bounds the whole call, reading the answer included.
	Timeout time.Duration
	Method  string
	// URL is the API root and path; Query, when not empty, is added.
	URL   string
	Query url.Values
	// Bearer is sent as the Authorization token. Being a header, it never
	// appears in the *url.Error of a failed call.
	Bearer string
	// Payload is a JSON body; nil sends none.
	Payload []byte
}

// Answer is one HTTP answer, read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK says whether the answer is a 2xx.
func (a Answer) OK() bool { return a.Status >= 200 && a.Status <= 299 }

// Send makes the call and reads its answer, up to MaxResponseBytes.
func Send(ctx context.Context, r Request) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	u := r.URL
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var body io.Reader
	if r.Payload != nil {
		body = bytes.NewReader(r.Payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return Answer{}, fmt.Errorf("error building request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+r.Bearer)
	req.Header.Set("Accept", "application/json")
	if r.Payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return Answer{}, err // a *url.Error: method and URL, never the token (it is a header)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return Answer{}, fmt.Errorf("error reading HTTP %d answer: %w", resp.StatusCode, err)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// DefaultTimeout bounds one call of an adapter configured with none.
const DefaultTimeout = 30 * time.Second

// Client is an adapter's HTTP client and per-call timeout, as its Opts
// gave them: a nil client is a new http.Client, a zero timeout is
// DefaultTimeout, and a negative one is refused, naming the CRM's field.
func Client(crmName string, hc *http.Client, timeout time.Duration) (*http.Client, time.Duration, error) {
	if timeout < 0 {
		return nil, 0, fmt.Errorf("%s: Timeout must not be negative, got %s", crmName, timeout)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return hc, timeout, nil
}
