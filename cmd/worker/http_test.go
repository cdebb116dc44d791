package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// parkedArgs is a job on a queue no worker works, so it stays available
// until River UI cancels it.
type parkedArgs struct{}

func (parkedArgs) Kind() string { return "test_parked" }

const parkedQueue = "test_parked"

// TestWorkerRiverUIRefusesCrossOriginRequests drives the real River UI on
// the real River client the way a foreign page would: a no-cors POST with
// the operator's cached basic credentials. The browser marks such a request
// with Sec-Fetch-Site (or, if older, only with Origin); either is refused
// and the job stays as it was. River UI's own same-origin request still
// cancels it, webhooks are not subject to the check, and every answer
// forbids framing.
func TestWorkerRiverUIRefusesCrossOriginRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	w := startWorker(t, b)

	inserter, err := river.NewClient(riverpgxv5.New(b.db.App), &river.Config{})
	require.NoError(t, err)
	res, err := inserter.Insert(ctx, parkedArgs{}, &river.InsertOpts{Queue: parkedQueue})
	require.NoError(t, err)
	jobID := res.Job.ID
	jobState := func() string {
		var state string
		require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, jobID).Scan(&state))
		return state
	}
	require.Equal(t, "available", jobState())

	cancelJob := func(headers map[string]string) *http.Response {
		// text/plain is what a no-cors fetch may send without a preflight;
		// River UI parses the JSON body anyway.
		req, err := http.NewRequest(http.MethodPost, w.operator+"/riverui/api/jobs/cancel",
			strings.NewReader(fmt.Sprintf(`{"ids":["%d"]}`, jobID)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		req.SetBasicAuth("admin", riverUIPass)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	requireNoFraming := func(resp *http.Response) {
		t.Helper()
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
		require.Equal(t, "frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
	}

	for _, headers := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"},
		{"Sec-Fetch-Site": "same-site", "Origin": "https://evil.leads.example.com"},
		{"Origin": "https://attacker.example"}, // a browser without Sec-Fetch-Site
	} {
		resp := cancelJob(headers)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "headers %v", headers)
		requireNoFraming(resp)
		require.Equal(t, "available", jobState(), "a refused request must leave the job alone (headers %v)", headers)
	}
	require.Contains(t, w.out.String(), "refused a cross-origin request")

	// River UI reads whole bodies; an oversized one is refused, not read
	// into memory, even from the operator.
	oversized, err := http.NewRequest(http.MethodPost, w.operator+"/riverui/api/jobs/cancel",
		strings.NewReader(fmt.Sprintf(`{"ids":["%d"],"padding":"%s"}`, jobID, strings.Repeat("x", 2<<20))))
	require.NoError(t, err)
	oversized.Header.Set("Content-Type", "application/json")
	oversized.SetBasicAuth("admin", riverUIPass)
	oversizedResp, err := http.DefaultClient.Do(oversized)
	require.NoError(t, err)
	oversizedResp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, oversizedResp.StatusCode)
	require.Equal(t, "available", jobState())

	// River UI's own page sends same-origin requests: they work.
	resp := cancelJob(map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": w.operator})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requireNoFraming(resp)
	require.Equal(t, "cancelled", jobState())

	// The page itself cannot be framed.
	req, err := http.NewRequest(http.MethodGet, w.operator+"/riverui/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html")
	req.SetBasicAuth("admin", riverUIPass)
	page, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	page.Body.Close()
	require.Equal(t, http.StatusOK, page.StatusCode)
	requireNoFraming(page)

	// A webhook is a server-to-server POST: whatever its headers say, the
	// cross-origin check does not stand in front of it; its signature check
	// answers (401), not the 403 above.
	hook, err := http.NewRequest(http.MethodPost, webhookurl.URL(w.base, webhookurl.CRM("shopmonkey", uuid.NewString(), "")), strings.NewReader(`{}`))
	require.NoError(t, err)
	hook.Header.Set("Origin", "https://attacker.example")
	hookResp, err := http.DefaultClient.Do(hook)
	require.NoError(t, err)
	hookResp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, hookResp.StatusCode)
}

// sendGridWebhookKey is a fresh base64 P-256 public key for
// sendgrid.webhook_public_key, which serves the event route: an
// unauthenticated route that reads its body before it can check anything.
func sendGridWebhookKey(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(der)
}

// requireClosedByServer reads conn until the server closes it and returns
// how long that took from start. The read deadline only bounds the test: a
// connection still open when it passes fails it.
func requireClosedByServer(t *testing.T, conn net.Conn, r io.Reader, start time.Time) time.Duration {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(start.Add(30*time.Second)))
	_, err := io.Copy(io.Discard, r)
	elapsed := time.Since(start)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the server kept the connection open for %s", elapsed)
	// A close with unread input in the server's buffer arrives as a reset.
	if err != nil {
		require.ErrorIs(t, err, syscall.ECONNRESET)
	}
	return elapsed
}

// TestWorkerCutsOffSlowClients holds connections open the two ways the
// public port must not allow: a webhook body trickled a byte at a time, and
// a keep-alive connection that never sends its next request. The server
// closes both once http.read_timeout or http.idle_timeout has passed.
func TestWorkerCutsOffSlowClients(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["LEADORCH_HTTP_READ_TIMEOUT"] = "1s"
	b.env["LEADORCH_HTTP_WRITE_TIMEOUT"] = "3s"
	b.env["LEADORCH_HTTP_IDLE_TIMEOUT"] = "1s"
	b.env["LEADORCH_SENDGRID_WEBHOOK_PUBLIC_KEY"] = sendGridWebhookKey(t)
	startWorker(t, b)
	addr := b.env["LEADORCH_HTTP_ADDR"]

	t.Run("TrickledBody", func(t *testing.T) {
		t.Parallel()
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()

		start := time.Now()
		_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", webhookurl.SendGridEvents().Path(), addr, 1<<20)
		require.NoError(t, err)
		// One byte every 50 ms would take 14 hours to deliver the MiB the
		// headers announce.
		stopTrickle := make(chan struct{})
		defer close(stopTrickle)
		go func() {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stopTrickle:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte(" ")); err != nil {
						return
					}
				}
			}
		}()

		elapsed := requireClosedByServer(t, conn, conn, start)
		t.Logf("trickled body cut off after %s", elapsed)
		require.GreaterOrEqual(t, elapsed, time.Second, "cut off before http.read_timeout: by something else")
	})

	t.Run("IdleKeepAlive", func(t *testing.T) {
		t.Parallel()
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()

		_, err = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		require.NoError(t, err)
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.False(t, resp.Close, "the server should keep the connection alive, then time it out")

		start := time.Now()
		elapsed := requireClosedByServer(t, conn, r, start)
		t.Logf("idle keep-alive closed after %s", elapsed)
		// The server starts its idle clock a moment after we read the
		// answer, so allow for that moment.
		require.GreaterOrEqual(t, elapsed, 500*time.Millisecond, "closed before http.idle_timeout: by something else")
	})
}

// TestWorkerDrainsBeforeClosing stops a worker and watches it from outside
// as a load balancer would: /readyz turns 503 while the server still accepts
// new connections and answers them, for http.drain_delay; only then does
// the listener close and run return.
func TestWorkerDrainsBeforeClosing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["LEADORCH_HTTP_DRAIN_DELAY"] = "5s"
	w := startWorker(t, b)

	// Every probe on a new connection: a 503 on a connection opened before
	// the stop would not show that the listener is still open.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	status := func(path string) (int, error) {
		resp, err := probe.Get(w.base + path)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	w.cancel() // SIGTERM's stand-in
	require.Eventually(t, func() bool {
		code, err := status("/readyz")
		return err == nil && code == http.StatusServiceUnavailable
	}, 10*time.Second, 10*time.Millisecond, "readiness never went 503 on a new connection; output:\n%s", w.out)

	// Unready, yet still serving, and run has not returned.
	code, err := status("/healthz")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	select {
	case err := <-w.done:
		t.Fatalf("run returned during the drain delay: %v", err)
	default:
	}

	select {
	case err := <-w.done:
		require.NoError(t, err)
		w.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
	_, err = status("/healthz")
	require.Error(t, err, "the listener is closed once run has returned")

	logs := w.out.String()
	draining := strings.Index(logs, "stopping: unready, draining HTTP")
	closing := strings.Index(logs, "stopping: closing HTTP")
	require.GreaterOrEqual(t, draining, 0)
	require.Greater(t, closing, draining)
}
