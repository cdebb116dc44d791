package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// TestOperatorHandler: the operator listener serves the scrape, health and
// River UI behind basic auth with cross-origin writes refused; the public
// handler serves neither the scrape nor the UI.
func TestOperatorHandler(t *testing.T) {
	t.Parallel()
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "river ui") })
	opts := httpapi.OperatorOpts{
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:           func(*http.Request) error { return nil },
		Metrics:         metrics.New(metrics.Opts{}).Handler(),
		RiverUI:         ui,
		RiverUIUsername: "admin",
		RiverUIPassword: "secret",
	}
	h, err := httpapi.NewOperatorHandler(opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	do := func(method, path string, auth bool, header http.Header) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		for k, v := range header {
			req.Header[k] = v
		}
		if auth {
			req.SetBasicAuth("admin", "secret")
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	status, body := do(http.MethodGet, "/metrics", false, nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "leadorch_build_info{")
	require.Contains(t, body, "go_goroutines ")
	status, _ = do(http.MethodGet, "/healthz", false, nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = do(http.MethodGet, "/readyz", false, nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = do(http.MethodGet, "/riverui/", false, nil)
	require.Equal(t, http.StatusUnauthorized, status)
	status, body = do(http.MethodGet, "/riverui/", true, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "river ui", body)
	status, _ = do(http.MethodPost, "/riverui/api/jobs/cancel", true, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	require.Equal(t, http.StatusForbidden, status, "a cross-origin write is refused")

	opts.RiverUIPassword = ""
	_, err = httpapi.NewOperatorHandler(opts)
	require.Error(t, err, "River UI without a password is refused")

	b := setup(t)
	for _, path := range []string{"/metrics", "/riverui/"} {
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, "the public handler serves no %s", path)
	}
}
