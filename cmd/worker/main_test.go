package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// syncBuffer is a bytes.Buffer safe for the worker's log writes and the
// test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Secrets the tests configure; none may ever appear in the output.
const (
	twilioToken    = "tokentokentoken1234567890abcdef"
	sendgridKey    = "SG.secret-sendgrid-key-42"
	riverUIPass    = "river-ui-password-99"
	databasePasswd = "db-password-77"
)

// credentialsKeys is the test's credentials.keys; it must never be printed
// either.
var credentialsKeys = func() string {
	spec, err := credentials.NewKeySpec("test")
	if err != nil {
		panic(err)
	}
	return spec
}()

type testBundle struct {
	db  testdb.DB
	env map[string]string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := testdb.NewApp(t)
	u, err := url.Parse(db.AppURL)
	require.NoError(t, err)
	// The test server trusts local connections, so a password is accepted
	// and ignored: it is here to prove it is never printed.
	u.User = url.UserPassword(u.User.Username(), databasePasswd)
	return &testBundle{db: db, env: map[string]string{
		"LEADORCH_DATABASE_URL":            u.String(),
		"LEADORCH_DATABASE_MIGRATE_URL":    db.OwnerURL,
		"LEADORCH_CREDENTIALS_KEYS":        credentialsKeys,
		"LEADORCH_HTTP_ADDR":               freeAddr(t),
		"LEADORCH_OPERATOR_ADDR":           freeAddr(t),
		"LEADORCH_TWILIO_ACCOUNT_SID":      "ACtest",
		"LEADORCH_TWILIO_AUTH_TOKEN":       twilioToken,
		"LEADORCH_TWILIO_BASE_URL":         "http://127.0.0.1:1/twilio",
		"LEADORCH_SENDGRID_API_KEY":        sendgridKey,
		"LEADORCH_SENDGRID_BASE_URL":       "http://127.0.0.1:1/sendgrid",
		"LEADORCH_SHOPMONKEY_BASE_URL":     "http://127.0.0.1:1/shopmonkey",
		"LEADORCH_RIVERUI_USERNAME":        "admin",
		"LEADORCH_RIVERUI_PASSWORD":        riverUIPass,
		"LEADORCH_RIVER_SOFT_STOP_TIMEOUT": "2s",
		"LEADORCH_LOG_LEVEL":               "debug",
		// Eight engineers' tests share one Postgres's 100 connections.
		"LEADORCH_DATABASE_MAX_CONNS": "6",
		// A stop drains only in the test about draining.
		"LEADORCH_HTTP_DRAIN_DELAY": "0s",
	}}
}

// worker is a `worker run` started by startWorker.
type worker struct {
	base     string // http://host:port of the public listener
	operator string // http://host:port of the operator listener
	out      *syncBuffer
	cancel   context.CancelFunc // SIGTERM's stand-in
	done     chan error         // run's result
}

// startWorker migrates b's database, runs `worker run` on it and waits until
// /readyz answers 200. The run is stopped when the test ends, if the test
// has not stopped it.
func startWorker(t *testing.T, b *testBundle) *worker {
	t.Helper()
	out := &syncBuffer{}
	require.NoError(t, run(context.Background(), []string{"worker", "migrate"}, b.getenv, out))

	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{base: "http://" + b.env["LEADORCH_HTTP_ADDR"], operator: "http://" + b.env["LEADORCH_OPERATOR_ADDR"],
		out: out, cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- run(ctx, []string{"worker", "run"}, b.getenv, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(30 * time.Second):
			t.Error("worker did not stop")
		}
	})

	require.Eventually(t, func() bool {
		resp, err := http.Get(w.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "worker never became ready; output:\n%s", out)
	return w
}

// stop cancels the run and returns its error.
func (w *worker) stop(t *testing.T) error {
	t.Helper()
	w.cancel()
	select {
	case err := <-w.done:
		w.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
		return nil
	}
}

func (b *testBundle) getenv(k string) string { return b.env[k] }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func requireNoSecrets(t *testing.T, out string) {
	t.Helper()
	_, key, _ := strings.Cut(credentialsKeys, "=")
	for _, s := range []string{twilioToken, sendgridKey, riverUIPass, databasePasswd, key} {
		require.NotContains(t, out, s)
	}
}

func TestWorkerRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := startWorker(t, b)
	for _, base := range []string{w.base, w.operator} {
		resp, err := http.Get(base + "/healthz")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	// River UI is on the operator listener only.
	resp, err := http.Get(w.base + "/riverui/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	base := w.operator

	get := func(path, user, pass, accept string) int {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	// River UI is never served without the configured credentials.
	require.Equal(t, http.StatusUnauthorized, get("/riverui/", "", "", "text/html"))
	require.Equal(t, http.StatusUnauthorized, get("/riverui/", "admin", "wrong", "text/html"))
	require.Equal(t, http.StatusUnauthorized, get("/riverui/api/jobs?state=available", "", "", ""))
	require.Equal(t, http.StatusOK, get("/riverui/", "admin", riverUIPass, "text/html"))
	require.Equal(t, http.StatusOK, get("/riverui/api/jobs?state=available", "admin", riverUIPass, ""))
	// The job list hides args until asked (they carry ids only anyway).
	req, err := http.NewRequest(http.MethodGet, base+"/riverui/api/features", nil)
	require.NoError(t, err)
	req.SetBasicAuth("admin", riverUIPass)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var features struct {
		HideArgs bool `json:"job_list_hide_args_by_default"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&features))
	resp.Body.Close()
	require.True(t, features.HideArgs)

	// The shipped configuration runs the outbox sweep and the retention
	// prune on the leader, each once at start, with config.yaml's retention.
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE state = 'completed' AND (kind = 'sweep_outbox'
			OR kind = 'prune_expired' AND args = '{"webhook_receipts": "720h0m0s", "inbound_messages": "2160h0m0s"}')`).Scan(&n))
		return n == 2
	}, 20*time.Second, 50*time.Millisecond, "the leader's sweeps never ran; output:\n%s", w.out)

	// SIGTERM's stand-in: run returns cleanly.
	require.NoError(t, w.stop(t))
	logs := w.out.String()
	require.Contains(t, logs, "worker stopped")
	requireNoSecrets(t, logs)
}

func TestWorkerMigrateConcurrently(t *testing.T) {
	t.Parallel()
	_, dbURL := testdb.NewEmpty(t)
	env := map[string]string{"LEADORCH_DATABASE_URL": dbURL}
	getenv := func(k string) string { return env[k] }

	errs := make(chan error, 2)
	for range 2 {
		go func() {
			var out syncBuffer
			errs <- run(context.Background(), []string{"worker", "migrate"}, getenv, &out)
		}()
	}
	for range 2 {
		require.NoError(t, <-errs)
	}
	var out syncBuffer
	require.NoError(t, run(context.Background(), []string{"worker", "migrate"}, getenv, &out))
	require.Contains(t, out.String(), "database is up to date")
}

func TestWorkerConfigErrors(t *testing.T) {
	t.Parallel()

	t.Run("RunNeedsProviderCredentials", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		err := run(context.Background(), []string{"worker", "run"}, func(string) string { return "" }, &out)
		require.Error(t, err)
		for _, key := range []string{"twilio.account_sid", "twilio.auth_token", "sendgrid.api_key", "riverui.password"} {
			require.Contains(t, err.Error(), key)
		}
	})

	t.Run("BadValueNamesTheKey", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		env := map[string]string{"LEADORCH_QUEUES_SMS_MAX_WORKERS": "0"}
		err := run(context.Background(), []string{"worker", "migrate"}, func(k string) string { return env[k] }, &out)
		require.ErrorContains(t, err, "queues.sms.max_workers")
	})

	t.Run("RunRefusesAnUnmigratedDatabase", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, emptyURL := testdb.NewEmpty(t)
		b.env["LEADORCH_DATABASE_URL"] = emptyURL
		var out syncBuffer
		err := run(context.Background(), []string{"worker", "run"}, b.getenv, &out)
		require.ErrorContains(t, err, "run `worker migrate`")
	})

	t.Run("RunRefusesARoleThatBypassesRowSecurity", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var out syncBuffer
		require.NoError(t, run(context.Background(), []string{"worker", "migrate"}, b.getenv, &out))
		b.env["LEADORCH_DATABASE_URL"] = b.db.OwnerURL
		err := run(context.Background(), []string{"worker", "run"}, b.getenv, &out)
		require.ErrorContains(t, err, "row-level security would not keep tenants apart")
	})

	t.Run("UnknownCommand", func(t *testing.T) {
		t.Parallel()
		var out syncBuffer
		err := run(context.Background(), []string{"worker", "dance"}, func(string) string { return "" }, &out)
		require.ErrorContains(t, err, `unknown command "dance"`)
	})

	t.Run("ConfigIsPrintedMasked", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var out syncBuffer
		require.NoError(t, run(context.Background(), []string{"worker", "config"}, b.getenv, &out))
		requireNoSecrets(t, out.String())
		require.True(t, strings.Contains(out.String(), "ACtest"), out.String())
	})
}

// TestWorkerMigrateSealsPlaintextKeys: a CRM key stored in plaintext before
// secrets were sealed is sealed by `worker migrate` and the plaintext is
// gone; without credentials.keys, migrate refuses and says why.
func TestWorkerMigrateSealsPlaintextKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	var id uuid.UUID
	require.NoError(t, b.db.Owner.QueryRow(ctx, `INSERT INTO tenants (name, crm_kind, crm_location_id, crm_api_key)
		VALUES ('legacy', 'shopmonkey', 'loc-1', 'sm_plaintext_key_123') RETURNING id`).Scan(&id))

	noKeys := func(k string) string {
		if k == "LEADORCH_CREDENTIALS_KEYS" {
			return ""
		}
		return b.env[k]
	}
	var out syncBuffer
	err := run(ctx, []string{"worker", "migrate"}, noKeys, &out)
	require.ErrorContains(t, err, "1 tenants have a plaintext CRM key to seal: set credentials.keys")

	require.NoError(t, run(ctx, []string{"worker", "migrate"}, b.getenv, &out))
	require.NotContains(t, out.String(), "sm_plaintext_key_123")
	var (
		plain, keyID string
		sealed       []byte
	)
	require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT crm_api_key, crm_secret_key_id, crm_secret_sealed FROM tenants WHERE id = $1`, id).
		Scan(&plain, &keyID, &sealed))
	require.Empty(t, plain)
	require.Equal(t, "test", keyID)
	require.NotContains(t, string(sealed), "sm_plaintext_key_123")
	keys, err := credentials.ParseKeyring(credentialsKeys)
	require.NoError(t, err)
	secret, err := keys.Open(id, lead.SealedSecret{KeyID: keyID, Ciphertext: sealed})
	require.NoError(t, err)
	require.Equal(t, "sm_plaintext_key_123", secret.Reveal())
}
