package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

type testBundle struct {
	dir string
	env map[string]string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{dir: t.TempDir(), env: map[string]string{}}
}

func (b *testBundle) getenv(key string) string { return b.env[key] }

// writeFile writes content as a config file and returns its path.
func (b *testBundle) writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(b.dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// requireValidationError asserts err is a *ValidationError and returns the
// keys it names, in order.
func requireValidationError(t *testing.T, err error) (*config.ValidationError, []string) {
	t.Helper()
	require.Error(t, err)
	var verr *config.ValidationError
	require.ErrorAs(t, err, &verr)
	keys := make([]string, 0, len(verr.Problems))
	for _, p := range verr.Problems {
		keys = append(keys, p.Key)
	}
	return verr, keys
}

func problemFor(t *testing.T, verr *config.ValidationError, key string) string {
	t.Helper()
	for _, p := range verr.Problems {
		if p.Key == key {
			return p.Problem
		}
	}
	require.Failf(t, "no problem for key", "key %s not in %v", key, verr.Problems)
	return ""
}

// envVar is the documented naming rule, written out independently of the
// package so that the tests pin the contract.
func envVar(key string) string {
	return "LEADORCH_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// flatKeys returns the dotted keys of a nested map such as Redacted's.
func flatKeys(prefix string, m map[string]any) []string {
	var keys []string
	for k, v := range m {
		if inner, ok := v.(map[string]any); ok {
			keys = append(keys, flatKeys(prefix+k+".", inner)...)
			continue
		}
		keys = append(keys, prefix+k)
	}
	slices.Sort(keys)
	return keys
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("DefaultsWithoutFile", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		cfg, err := config.Load("", bundle.getenv)
		require.NoError(t, err)
		require.Equal(t, config.Default(), *cfg)
		require.Equal(t, 50, cfg.Queues.SMS.MaxWorkers)
		require.Equal(t, 20*time.Millisecond, cfg.River.FetchCooldown)
	})

	t.Run("DefaultsFromEmptyFile", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		cfg, err := config.Load(bundle.writeFile(t, ""), bundle.getenv)
		require.NoError(t, err)
		require.Equal(t, config.Default(), *cfg)
	})

	t.Run("EmptySectionKeepsDefaults", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		cfg, err := config.Load(bundle.writeFile(t, "riverui:\nqueues:\n"), bundle.getenv)
		require.NoError(t, err)
		require.Equal(t, "admin", cfg.RiverUI.Username)
		require.Equal(t, 20, cfg.Queues.CRM.MaxWorkers)
	})

	t.Run("NilGetenvReadsNoEnvironment", func(t *testing.T) {
		t.Parallel()

		cfg, err := config.Load("", nil)
		require.NoError(t, err)
		require.Equal(t, config.Default(), *cfg)
	})

	t.Run("FileValues", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		path := bundle.writeFile(t, `
database:
  url: postgres://app@db.internal:5432/leads
  max_conns: 7
http:
  addr: 127.0.0.1:9090
  public_url: https://leads.example.com
river:
  fetch_cooldown: 5ms
  fetch_poll_interval: 2s
  schedule_interval: 1m
queues:
  sms:
    max_workers: 3
poll:
  overlap: 30s
  max_window: 6h
twilio:
  base_url: http://127.0.0.1:4010
  account_sid: AC123
sendgrid:
  sandbox_mode: true
templates:
  email_text: |
    Hello {{.Lead.FirstName}},
    bye
log:
  level: debug
  format: text
`)
		cfg, err := config.Load(path, bundle.getenv)
		require.NoError(t, err)

		require.Equal(t, "postgres://app@db.internal:5432/leads", cfg.Database.URL)
		require.Equal(t, 7, cfg.Database.MaxConns)
		require.Equal(t, "127.0.0.1:9090", cfg.HTTP.Addr)
		require.Equal(t, "https://leads.example.com", cfg.HTTP.PublicURL)
		require.Equal(t, 5*time.Millisecond, cfg.River.FetchCooldown)
		require.Equal(t, 2*time.Second, cfg.River.FetchPollInterval)
		require.Equal(t, time.Minute, cfg.River.ScheduleInterval)
		require.Equal(t, 3, cfg.Queues.SMS.MaxWorkers)
		require.Equal(t, 30*time.Second, cfg.Poll.Overlap)
		require.Equal(t, 6*time.Hour, cfg.Poll.MaxWindow)
		require.Equal(t, "http://127.0.0.1:4010", cfg.Twilio.BaseURL)
		require.Equal(t, "AC123", cfg.Twilio.AccountSID)
		require.True(t, cfg.SendGrid.SandboxMode)
		require.Equal(t, "Hello {{.Lead.FirstName}},\nbye\n", cfg.Templates.EmailText)
		require.Equal(t, "debug", cfg.Log.Level)
		require.Equal(t, "text", cfg.Log.Format)

		// Keys the file leaves out keep their defaults.
		require.Equal(t, 20, cfg.Queues.CRM.MaxWorkers)
		require.Equal(t, 15*time.Second, cfg.River.SoftStopTimeout)
	})

	t.Run("MissingFileIsError", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		_, err := config.Load(filepath.Join(bundle.dir, "nope.yaml"), bundle.getenv)
		require.ErrorIs(t, err, fs.ErrNotExist)
		require.Contains(t, err.Error(), "nope.yaml")
	})

	t.Run("MalformedYAMLIsError", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		_, err := config.Load(bundle.writeFile(t, "database: [unclosed\n"), bundle.getenv)
		require.Error(t, err)
		require.Contains(t, err.Error(), "config.yaml")
	})

	t.Run("EnvOverridesEverySection", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			env   string
			value string
			got   func(*config.Config) any
			want  any
		}{
			{"LEADORCH_DATABASE_URL", "postgres://env@db.env:5432/envdb", func(c *config.Config) any { return c.Database.URL }, "postgres://env@db.env:5432/envdb"},
			{"LEADORCH_DATABASE_MAX_CONNS", "33", func(c *config.Config) any { return c.Database.MaxConns }, 33},
			{"LEADORCH_HTTP_ADDR", ":9999", func(c *config.Config) any { return c.HTTP.Addr }, ":9999"},
			{"LEADORCH_HTTP_PUBLIC_URL", "https://public.example", func(c *config.Config) any { return c.HTTP.PublicURL }, "https://public.example"},
			{"LEADORCH_HTTP_SHUTDOWN_TIMEOUT", "3s", func(c *config.Config) any { return c.HTTP.ShutdownTimeout }, 3 * time.Second},
			{"LEADORCH_HTTP_READ_TIMEOUT", "7s", func(c *config.Config) any { return c.HTTP.ReadTimeout }, 7 * time.Second},
			{"LEADORCH_HTTP_WRITE_TIMEOUT", "2m", func(c *config.Config) any { return c.HTTP.WriteTimeout }, 2 * time.Minute},
			{"LEADORCH_HTTP_IDLE_TIMEOUT", "75s", func(c *config.Config) any { return c.HTTP.IdleTimeout }, 75 * time.Second},
			{"LEADORCH_HTTP_DRAIN_DELAY", "0s", func(c *config.Config) any { return c.HTTP.DrainDelay }, time.Duration(0)},
			{"LEADORCH_RIVERUI_USERNAME", "operator", func(c *config.Config) any { return c.RiverUI.Username }, "operator"},
			{"LEADORCH_RIVERUI_PASSWORD", "correct-horse-battery", func(c *config.Config) any { return c.RiverUI.Password }, "correct-horse-battery"},
			{"LEADORCH_RIVER_FETCH_COOLDOWN", "50ms", func(c *config.Config) any { return c.River.FetchCooldown }, 50 * time.Millisecond},
			{"LEADORCH_RIVER_SCHEDULE_INTERVAL", "30s", func(c *config.Config) any { return c.River.ScheduleInterval }, 30 * time.Second},
			{"LEADORCH_QUEUES_CRM_MAX_WORKERS", "4", func(c *config.Config) any { return c.Queues.CRM.MaxWorkers }, 4},
			{"LEADORCH_QUEUES_SMS_MAX_WORKERS", "7", func(c *config.Config) any { return c.Queues.SMS.MaxWorkers }, 7},
			{"LEADORCH_QUEUES_BOOKKEEPING_MAX_WORKERS", "9", func(c *config.Config) any { return c.Queues.Bookkeeping.MaxWorkers }, 9},
			{"LEADORCH_POLL_OVERLAP", "5m", func(c *config.Config) any { return c.Poll.Overlap }, 5 * time.Minute},
			{"LEADORCH_POLL_MAX_WINDOW", "12h", func(c *config.Config) any { return c.Poll.MaxWindow }, 12 * time.Hour},
			{"LEADORCH_OUTBOX_SWEEP_INTERVAL", "30s", func(c *config.Config) any { return c.Outbox.SweepInterval }, 30 * time.Second},
			{"LEADORCH_RETENTION_WEBHOOK_RECEIPTS", "168h", func(c *config.Config) any { return c.Retention.WebhookReceipts }, 168 * time.Hour},
			{"LEADORCH_RETENTION_INBOUND_MESSAGES", "8760h", func(c *config.Config) any { return c.Retention.InboundMessages }, 8760 * time.Hour},
			{"LEADORCH_RETENTION_PRUNE_INTERVAL", "15m", func(c *config.Config) any { return c.Retention.PruneInterval }, 15 * time.Minute},
			{"LEADORCH_SHOPMONKEY_BASE_URL", "http://127.0.0.1:4001", func(c *config.Config) any { return c.ShopMonkey.BaseURL }, "http://127.0.0.1:4001"},
			{"LEADORCH_SHOPMONKEY_TIMEOUT", "2s", func(c *config.Config) any { return c.ShopMonkey.Timeout }, 2 * time.Second},
			{"LEADORCH_TWILIO_ACCOUNT_SID", "ACenv", func(c *config.Config) any { return c.Twilio.AccountSID }, "ACenv"},
			{"LEADORCH_TWILIO_AUTH_TOKEN", "envtoken1", func(c *config.Config) any { return c.Twilio.AuthToken }, "envtoken1"},
			{"LEADORCH_SENDGRID_API_KEY", "SG.env.key", func(c *config.Config) any { return c.SendGrid.APIKey }, "SG.env.key"},
			{"LEADORCH_SENDGRID_SANDBOX_MODE", "true", func(c *config.Config) any { return c.SendGrid.SandboxMode }, true},
			{"LEADORCH_TEMPLATES_SMS", "Hi {{.Lead.FirstName}}, reply STOP to opt out", func(c *config.Config) any { return c.Templates.SMS }, "Hi {{.Lead.FirstName}}, reply STOP to opt out"},
			{"LEADORCH_LOG_LEVEL", "warn", func(c *config.Config) any { return c.Log.Level }, "warn"},
			{"LEADORCH_LOG_FORMAT", "text", func(c *config.Config) any { return c.Log.Format }, "text"},
		}

		for _, tt := range tests {
			t.Run(tt.env, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				bundle.env[tt.env] = tt.value
				cfg, err := config.Load("", bundle.getenv)
				require.NoError(t, err)
				require.Equal(t, tt.want, tt.got(cfg))
			})
		}
	})

	t.Run("EnvOverridesFile", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		path := bundle.writeFile(t, "queues:\n  sms:\n    max_workers: 5\n  email:\n    max_workers: 6\n")
		bundle.env["LEADORCH_QUEUES_SMS_MAX_WORKERS"] = "70"

		cfg, err := config.Load(path, bundle.getenv)
		require.NoError(t, err)
		require.Equal(t, 70, cfg.Queues.SMS.MaxWorkers)
		require.Equal(t, 6, cfg.Queues.Email.MaxWorkers, "a key without a variable keeps the file's value")
	})

	t.Run("EmptyEnvVarCountsAsUnset", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		path := bundle.writeFile(t, "http:\n  addr: :7070\n")
		bundle.env["LEADORCH_HTTP_ADDR"] = ""

		cfg, err := config.Load(path, bundle.getenv)
		require.NoError(t, err)
		require.Equal(t, ":7070", cfg.HTTP.Addr)
	})

	t.Run("DatabaseURLPrecedence", func(t *testing.T) {
		t.Parallel()

		const (
			fileURL     = "postgres://file@db.file:5432/leads"
			plainURL    = "postgres://plain@db.plain:5432/leads"
			prefixedURL = "postgres://prefixed@db.prefixed:5432/leads"
		)
		tests := []struct {
			name string
			env  map[string]string
			want string
		}{
			{"FileWhenNoEnv", nil, fileURL},
			{"DatabaseURLOverFile", map[string]string{"DATABASE_URL": plainURL}, plainURL},
			{"PrefixedOverDatabaseURL", map[string]string{"DATABASE_URL": plainURL, "LEADORCH_DATABASE_URL": prefixedURL}, prefixedURL},
			{"PrefixedAlone", map[string]string{"LEADORCH_DATABASE_URL": prefixedURL}, prefixedURL},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				bundle := setup(t)

				path := bundle.writeFile(t, "database:\n  url: "+fileURL+"\n")
				for k, v := range tt.env {
					bundle.env[k] = v
				}
				cfg, err := config.Load(path, bundle.getenv)
				require.NoError(t, err)
				require.Equal(t, tt.want, cfg.Database.URL)
			})
		}
	})

	t.Run("DatabaseURLFallbackWithoutFile", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		bundle.env["DATABASE_URL"] = "postgres://plain@db.plain:5432/leads"
		cfg, err := config.Load("", bundle.getenv)
		require.NoError(t, err)
		require.Equal(t, "postgres://plain@db.plain:5432/leads", cfg.Database.URL)
	})

	t.Run("UnknownKeysAreNamed", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		path := bundle.writeFile(t, "queues:\n  sms:\n    max_worker: 3\ndatabse:\n  url: postgres://x@y/z\nfavourite_colour: blue\n")
		_, err := config.Load(path, bundle.getenv)

		verr, keys := requireValidationError(t, err)
		require.ElementsMatch(t, []string{"databse.url", "favourite_colour", "queues.sms.max_worker"}, keys)
		require.Contains(t, problemFor(t, verr, "queues.sms.max_worker"), "did you mean queues.sms.max_workers?")
		require.Contains(t, problemFor(t, verr, "databse.url"), "did you mean database.url?")
		require.Contains(t, problemFor(t, verr, "favourite_colour"), "unknown key")
		require.Contains(t, err.Error(), "queues.sms.max_worker: unknown key")
	})

	t.Run("SectionGivenAValue", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		_, err := config.Load(bundle.writeFile(t, "queues:\n  sms: 5\n"), bundle.getenv)
		verr, keys := requireValidationError(t, err)
		require.Equal(t, []string{"queues.sms"}, keys, "reported once, not again by the decoder")
		require.Contains(t, problemFor(t, verr, "queues.sms"), "needs keys under it")
	})

	t.Run("UndecodableValuesAreNamed", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		bundle.env["LEADORCH_QUEUES_SMS_MAX_WORKERS"] = "lots"
		bundle.env["LEADORCH_RIVER_JOB_TIMEOUT"] = "soon"
		bundle.env["LEADORCH_SENDGRID_SANDBOX_MODE"] = "maybe"

		_, err := config.Load("", bundle.getenv)
		verr, keys := requireValidationError(t, err)
		require.ElementsMatch(t, []string{"queues.sms.max_workers", "river.job_timeout", "sendgrid.sandbox_mode"}, keys)
		require.Equal(t, `must be a whole number, got "lots"`, problemFor(t, verr, "queues.sms.max_workers"))
		require.Contains(t, problemFor(t, verr, "river.job_timeout"), `must be a duration`)
		require.Contains(t, problemFor(t, verr, "sendgrid.sandbox_mode"), "must be true or false")
	})

	t.Run("InvalidValuesReportedTogether", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		path := bundle.writeFile(t, `
database:
  url: mysql://root@db/leads
  max_conns: 0
http:
  addr: "8080"
  public_url: "not a url"
  shutdown_timeout: -1s
river:
  fetch_cooldown: 0s
  schedule_interval: 10ms
queues:
  sms:
    max_workers: 0
  email:
    max_workers: 20000
poll:
  overlap: 48h
shopmonkey:
  base_url: ftp://shopmonkey.example
twilio:
  auth_token: "abc-123"
templates:
  sms: "Hi {{.Lead.FirstName"
log:
  level: loud
  format: xml
`)
		_, err := config.Load(path, bundle.getenv)
		verr, keys := requireValidationError(t, err)

		wantKeys := []string{
			"database.url", "database.max_conns",
			"http.addr", "http.public_url", "http.shutdown_timeout",
			"river.fetch_cooldown", "river.schedule_interval",
			"queues.sms.max_workers", "queues.email.max_workers",
			"poll.overlap",
			"shopmonkey.base_url",
			"twilio.auth_token",
			"templates.sms",
			"log.level", "log.format",
		}
		for _, key := range wantKeys {
			require.Contains(t, keys, key)
			require.Contains(t, err.Error(), "\n  "+key+": ", "one line per problem, starting with the key")
		}
		require.Len(t, strings.Split(err.Error(), "\n"), len(verr.Problems)+1)
		require.Equal(t, "must be between 1 and 10000, got 0", problemFor(t, verr, "queues.sms.max_workers"))
		require.Equal(t, "must be between 1 and 10000, got 20000", problemFor(t, verr, "queues.email.max_workers"))
	})
}

// workerConfig returns a configuration that passes ValidateForWorker.
func workerConfig() config.Config {
	cfg := config.Default()
	cfg.RiverUI.Password = "correct-horse-battery"
	cfg.Twilio.AccountSID = "AC0123456789abcdef0123456789abcdef"
	cfg.Twilio.AuthToken = "0123456789abcdef0123456789abcdef"
	cfg.SendGrid.APIKey = "SG.abc_DEF-123.xyz"
	cfg.Credentials.Keys = "k1=c2FuZGJveC1kZXYta2V5LW5vdC1mb3ItcmVhbC11c2U="
	return cfg
}

func TestValidate(t *testing.T) {
	t.Parallel()

	t.Run("DefaultsAreValid", func(t *testing.T) {
		t.Parallel()

		cfg := config.Default()
		require.NoError(t, cfg.Validate())
	})

	t.Run("EachRuleNamesKey", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			name    string
			mutate  func(*config.Config)
			key     string
			problem string
		}{
			{"DatabaseURLScheme", func(c *config.Config) { c.Database.URL = "mysql://root@db/leads" }, "database.url", `must be a postgres:// or postgresql:// URL, got scheme "mysql"`},
			{"DatabaseURLEmpty", func(c *config.Config) { c.Database.URL = "" }, "database.url", "must be set"},
			{"MaxConns", func(c *config.Config) { c.Database.MaxConns = 1001 }, "database.max_conns", "must be between 1 and 1000, got 1001"},
			{"Addr", func(c *config.Config) { c.HTTP.Addr = "localhost" }, "http.addr", `must be host:port with a numeric port, e.g. ":8080", got "localhost"`},
			{"PublicURLRelative", func(c *config.Config) { c.HTTP.PublicURL = "/callbacks" }, "http.public_url", `must be empty or an absolute http(s) URL, got "/callbacks"`},
			{"ShutdownTimeoutZero", func(c *config.Config) { c.HTTP.ShutdownTimeout = 0 }, "http.shutdown_timeout", "must be between 1ms and 10m0s, got 0s"},
			{"ReadTimeoutZero", func(c *config.Config) { c.HTTP.ReadTimeout = 0 }, "http.read_timeout", "must be between 1s and 10m0s, got 0s"},
			{"WriteTimeoutTooLong", func(c *config.Config) { c.HTTP.WriteTimeout = 2 * time.Hour }, "http.write_timeout", "must be between 1s and 1h0m0s, got 2h0m0s"},
			{"WriteTimeoutNotAboveRead", func(c *config.Config) { c.HTTP.ReadTimeout = time.Minute; c.HTTP.WriteTimeout = time.Minute }, "http.write_timeout", "must be longer than http.read_timeout (1m0s), which it includes, got 1m0s"},
			{"IdleTimeoutZero", func(c *config.Config) { c.HTTP.IdleTimeout = 0 }, "http.idle_timeout", "must be between 1s and 1h0m0s, got 0s"},
			{"DrainDelayNegative", func(c *config.Config) { c.HTTP.DrainDelay = -time.Second }, "http.drain_delay", "must be between 0s and 5m0s, got -1s"},
			{"RiverUIUsernameColon", func(c *config.Config) { c.RiverUI.Username = "a:b" }, "riverui.username", "must not contain ':'"},
			{"RiverUIPasswordShort", func(c *config.Config) { c.RiverUI.Password = "short" }, "riverui.password", "must be at least 12 characters, got 5"},
			{"FetchCooldownTooLong", func(c *config.Config) { c.River.FetchCooldown = 11 * time.Second }, "river.fetch_cooldown", "must be between 1ms and 10s, got 11s"},
			{"FetchPollIntervalNotLonger", func(c *config.Config) { c.River.FetchPollInterval = 20 * time.Millisecond }, "river.fetch_poll_interval", "must be longer than river.fetch_cooldown (20ms), got 20ms"},
			{"SoftStopTimeoutNegative", func(c *config.Config) { c.River.SoftStopTimeout = -time.Second }, "river.soft_stop_timeout", "must be between 1ms and 1h0m0s, got -1s"},
			{"JobTimeoutZero", func(c *config.Config) { c.River.JobTimeout = 0 }, "river.job_timeout", "must be between 1ms and 24h0m0s, got 0s"},
			{"RescueInsideRunSlack", func(c *config.Config) { c.River.RescueStuckJobsAfter = 70 * time.Second }, "river.rescue_stuck_jobs_after", "must be at least river.job_timeout + 20s (1m20s) or a run still finishing is run twice, got 1m10s"},
			{"RescueTooLong", func(c *config.Config) { c.River.RescueStuckJobsAfter = 25 * time.Hour }, "river.rescue_stuck_jobs_after", "must be between 1s and 24h0m0s, got 25h0m0s"},
			{"ScheduleIntervalTooShort", func(c *config.Config) { c.River.ScheduleInterval = 500 * time.Millisecond }, "river.schedule_interval", "must be between 1s and 1h0m0s, got 500ms"},
			{"CRMWorkers", func(c *config.Config) { c.Queues.CRM.MaxWorkers = -1 }, "queues.crm.max_workers", "must be between 1 and 10000, got -1"},
			{"BookkeepingWorkers", func(c *config.Config) { c.Queues.Bookkeeping.MaxWorkers = 0 }, "queues.bookkeeping.max_workers", "must be between 1 and 10000, got 0"},
			{"OverlapNotShorterThanWindow", func(c *config.Config) { c.Poll.Overlap = time.Hour; c.Poll.MaxWindow = time.Hour }, "poll.overlap", "must be shorter than poll.max_window (1h0m0s) or polls never advance, got 1h0m0s"},
			{"MaxWindowTooShort", func(c *config.Config) { c.Poll.MaxWindow = time.Second }, "poll.max_window", "must be between 1m0s and 744h0m0s, got 1s"},
			{"OutboxSweepIntervalTooShort", func(c *config.Config) { c.Outbox.SweepInterval = 100 * time.Millisecond }, "outbox.sweep_interval", "must be between 1s and 24h0m0s, got 100ms"},
			{"WebhookReceiptsBelowRedeliveryWindow", func(c *config.Config) { c.Retention.WebhookReceipts = 24 * time.Hour }, "retention.webhook_receipts", "must be between 72h0m0s and 87600h0m0s, got 24h0m0s"},
			{"InboundMessagesTooShort", func(c *config.Config) { c.Retention.InboundMessages = 48 * time.Hour }, "retention.inbound_messages", "must be between 168h0m0s and 87600h0m0s, got 48h0m0s"},
			{"InboundMessagesZero", func(c *config.Config) { c.Retention.InboundMessages = 0 }, "retention.inbound_messages", "must be between 168h0m0s and 87600h0m0s, got 0s"},
			{"PruneIntervalTooLong", func(c *config.Config) { c.Retention.PruneInterval = 48 * time.Hour }, "retention.prune_interval", "must be between 1m0s and 24h0m0s, got 48h0m0s"},
			{"ShopMonkeyBaseURLScheme", func(c *config.Config) { c.ShopMonkey.BaseURL = "ftp://x" }, "shopmonkey.base_url", `must be empty or an absolute http(s) URL, got "ftp://x"`},
			{"WebhookIntakeRateZero", func(c *config.Config) { c.Webhooks.IntakePerMinute = 0 }, "webhooks.intake_per_minute", "must be between 1 and 100000, got 0"},
			{"WebhookIntakeBurstTooLarge", func(c *config.Config) { c.Webhooks.IntakeBurst = 100_001 }, "webhooks.intake_burst", "must be between 1 and 100000, got 100001"},
			{"TwilioBaseURLNoHost", func(c *config.Config) { c.Twilio.BaseURL = "http://" }, "twilio.base_url", `must be empty or an absolute http(s) URL, got "http://"`},
			{"TwilioAccountSID", func(c *config.Config) { c.Twilio.AccountSID = "AC 123" }, "twilio.account_sid", "must contain only letters and digits"},
			{"TwilioTimeout", func(c *config.Config) { c.Twilio.Timeout = 10 * time.Minute }, "twilio.timeout", "must be between 1ms and 5m0s, got 10m0s"},
			{"SendGridBaseURL", func(c *config.Config) { c.SendGrid.BaseURL = "sendgrid.example" }, "sendgrid.base_url", `must be empty or an absolute http(s) URL, got "sendgrid.example"`},
			{"SendGridAPIKeyNewline", func(c *config.Config) { c.SendGrid.APIKey = "SG.key\n" }, "sendgrid.api_key", "must not contain whitespace"},
			{"SendGridTimeout", func(c *config.Config) { c.SendGrid.Timeout = 0 }, "sendgrid.timeout", "must be between 1ms and 5m0s, got 0s"},
			{"TemplateSMSParse", func(c *config.Config) { c.Templates.SMS = "{{.Lead.FirstName" }, "templates.sms", "does not parse: template: templates.sms:1:"},
			{"TemplateSMSUnknownField", func(c *config.Config) { c.Templates.SMS = "Hi {{.Lead.Nick}}" }, "templates.sms", "unknown field Nick (in {{.Lead.Nick}}, line 1 column 10)"},
			// The fleet's first text names STOP, as a tenant's must.
			{"TemplateSMSWithoutOptOut", func(c *config.Config) { c.Templates.SMS = "Hi {{.Lead.FirstName}}, we got your request." }, "templates.sms", "lacks opt-out wording: a first text must name STOP"},
			{"TemplateSMSStopInAWord", func(c *config.Config) { c.Templates.SMS = "Hi {{.Lead.FirstName}}, we work nonstop." }, "templates.sms", "lacks opt-out wording"},
			{"TemplateEmailTextUnknownFieldInBranch", func(c *config.Config) {
				c.Templates.EmailText = "{{if .Lead.FirstName}}Hi {{.Lead.FirstName}}{{else}}Hi {{.Shop.Owner}}{{end}}"
			}, "templates.email_text", "unknown field Owner"},
			{"TemplateSubjectEmpty", func(c *config.Config) { c.Templates.EmailSubject = "  " }, "templates.email_subject", "must not be empty"},
			{"TemplateEmailTextParse", func(c *config.Config) { c.Templates.EmailText = "{{end}}" }, "templates.email_text", "does not parse: template: templates.email_text:1:"},
			{"LogLevel", func(c *config.Config) { c.Log.Level = "trace" }, "log.level", `must be one of debug, info, warn, error, got "trace"`},
			{"LogFormat", func(c *config.Config) { c.Log.Format = "xml" }, "log.format", `must be one of json, text, got "xml"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				cfg := config.Default()
				tt.mutate(&cfg)
				verr, keys := requireValidationError(t, cfg.Validate())
				require.Equal(t, []string{tt.key}, keys)
				require.Contains(t, problemFor(t, verr, tt.key), tt.problem)
			})
		}
	})

	t.Run("AcceptedValues", func(t *testing.T) {
		t.Parallel()

		cfg := config.Default()
		cfg.Database.URL = "postgresql://app:p%40ss@db.internal:5432/leads?sslmode=verify-full"
		cfg.HTTP.Addr = "127.0.0.1:0"
		cfg.HTTP.PublicURL = "https://leads.example.com/base"
		cfg.ShopMonkey.BaseURL = "http://127.0.0.1:4001"
		cfg.Twilio.BaseURL = "http://[::1]:4002"
		cfg.RiverUI.Password = "exactly12chr"
		cfg.Log.Level = "DEBUG"
		cfg.Log.Format = "Text"
		require.NoError(t, cfg.Validate())
	})

	t.Run("DatabaseURLProblemNeverEchoesPassword", func(t *testing.T) {
		t.Parallel()

		for _, url := range []string{
			"postgres://app:pa ss%zz@db.internal/leads", // does not parse
			"postgres://app:123#456@db.internal/leads",  // password hides in a fragment
			"mysql://app:123456@db.internal/leads",
		} {
			cfg := config.Default()
			cfg.Database.URL = url
			err := cfg.Validate()
			_, keys := requireValidationError(t, err)
			require.Equal(t, []string{"database.url"}, keys)
			require.NotContains(t, err.Error(), "123456", url)
			require.NotContains(t, err.Error(), "456", url)
			require.NotContains(t, err.Error(), "pa ss", url)
		}
	})

	t.Run("ErrorListsOnePerLine", func(t *testing.T) {
		t.Parallel()

		cfg := config.Default()
		cfg.Queues.SMS.MaxWorkers = 0
		cfg.Log.Level = "loud"
		err := cfg.Validate()
		require.EqualError(t, err, "invalid config (2 problems):\n"+
			"  queues.sms.max_workers: must be between 1 and 10000, got 0\n"+
			`  log.level: must be one of debug, info, warn, error, got "loud"`)
	})
}

func TestValidateForWorker(t *testing.T) {
	t.Parallel()

	t.Run("PassesWithCredentials", func(t *testing.T) {
		t.Parallel()

		cfg := workerConfig()
		require.NoError(t, cfg.ValidateForWorker())
	})

	t.Run("RejectsBadCredentialsKeysWithoutQuotingThem", func(t *testing.T) {
		t.Parallel()

		cfg := workerConfig()
		cfg.Credentials.Keys = "k1=dG9vLXNob3J0LXNlY3JldA=="
		err := cfg.ValidateForWorker()
		require.ErrorContains(t, err, "credentials.keys")
		require.ErrorContains(t, err, "AES-256 needs 32")
		require.NotContains(t, err.Error(), "dG9vLXNob3J0LXNlY3JldA")
	})

	t.Run("RequiresCredentialsAndNamesThem", func(t *testing.T) {
		t.Parallel()

		cfg := config.Default()
		cfg.HTTP.Addr = ""
		cfg.RiverUI.Username = ""
		require.NoError(t, cfg.Validate(), "the CLI runs without credentials")

		err := cfg.ValidateForWorker()
		verr, keys := requireValidationError(t, err)
		require.ElementsMatch(t, []string{
			"http.addr",
			"riverui.username",
			"riverui.password",
			"twilio.account_sid",
			"twilio.auth_token",
			"sendgrid.api_key",
			"credentials.keys",
		}, keys)
		require.Contains(t, problemFor(t, verr, "twilio.auth_token"), "LEADORCH_TWILIO_AUTH_TOKEN", "says how to set it")
	})

	t.Run("IncludesShapeProblems", func(t *testing.T) {
		t.Parallel()

		cfg := workerConfig()
		cfg.Queues.SMS.MaxWorkers = 0
		cfg.SendGrid.APIKey = ""
		_, keys := requireValidationError(t, cfg.ValidateForWorker())
		require.ElementsMatch(t, []string{"queues.sms.max_workers", "sendgrid.api_key"}, keys)
	})

	t.Run("RejectsNonAlphanumericTwilioToken", func(t *testing.T) {
		t.Parallel()

		for _, token := range []string{"abc-def-123", "abc def", "tok\n", "tokén1"} {
			cfg := workerConfig()
			cfg.Twilio.AuthToken = token
			err := cfg.ValidateForWorker()
			verr, keys := requireValidationError(t, err)
			require.Equal(t, []string{"twilio.auth_token"}, keys, token)
			require.Contains(t, problemFor(t, verr, "twilio.auth_token"), "only letters and digits")
			require.NotContains(t, err.Error(), token, "the token is never echoed")
		}
	})

	t.Run("RejectsShortRiverUIPassword", func(t *testing.T) {
		t.Parallel()

		cfg := workerConfig()
		cfg.RiverUI.Password = "hunter2"
		err := cfg.ValidateForWorker()
		verr, keys := requireValidationError(t, err)
		require.Equal(t, []string{"riverui.password"}, keys)
		require.Equal(t, "must be at least 12 characters, got 7", problemFor(t, verr, "riverui.password"))
		require.NotContains(t, err.Error(), "hunter2")
	})
}

func TestRedaction(t *testing.T) {
	t.Parallel()

	const (
		dbPassword   = "db-pa55word-x"
		authToken    = "twilioTok3nSecretValue"
		apiKey       = "SG.sendgridSecretKey.value"
		riverUIPass  = "riverui-secret-pass"
		databaseHost = "db.internal:5432/leads"
	)
	secretConfig := func() config.Config {
		cfg := workerConfig()
		cfg.Database.URL = "postgres://leaduser:" + dbPassword + "@" + databaseHost + "?sslmode=require"
		cfg.Twilio.AuthToken = authToken
		cfg.SendGrid.APIKey = apiKey
		cfg.RiverUI.Password = riverUIPass
		return cfg
	}
	secrets := []string{dbPassword, authToken, apiKey, riverUIPass}

	t.Run("RedactedMasksSecretsOnly", func(t *testing.T) {
		t.Parallel()

		red := secretConfig().Redacted()
		section := func(name string) map[string]any {
			m, ok := red[name].(map[string]any)
			require.True(t, ok, name)
			return m
		}
		require.Equal(t, "postgres://leaduser:****@db.internal:5432/leads?sslmode=require", section("database")["url"])
		require.Equal(t, "****", section("twilio")["auth_token"])
		require.Equal(t, "****", section("sendgrid")["api_key"])
		require.Equal(t, "****", section("riverui")["password"])

		require.Equal(t, "admin", section("riverui")["username"])
		require.Equal(t, "AC0123456789abcdef0123456789abcdef", section("twilio")["account_sid"])
		require.Equal(t, "20ms", section("river")["fetch_cooldown"])
		require.Equal(t, 50, section("queues")["sms"].(map[string]any)["max_workers"])
		require.Equal(t, false, section("sendgrid")["sandbox_mode"])
	})

	t.Run("EmptySecretStaysEmpty", func(t *testing.T) {
		t.Parallel()

		red := config.Default().Redacted()
		require.Equal(t, "", red["twilio"].(map[string]any)["auth_token"])
		require.Equal(t, "postgres://leadorch_worker@127.0.0.1:5432/leadorch?sslmode=disable", red["database"].(map[string]any)["url"],
			"a URL without a password is shown whole")
	})

	t.Run("NoOutputLeaksSecrets", func(t *testing.T) {
		t.Parallel()

		cfg := secretConfig()
		var jsonLog, textLog bytes.Buffer
		slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("starting", "config", cfg, "config_ptr", &cfg,
			"database", cfg.Database, "twilio", cfg.Twilio, "sendgrid", cfg.SendGrid, "riverui", cfg.RiverUI)
		slog.New(slog.NewTextHandler(&textLog, nil)).Info("starting", "config", cfg, "twilio", cfg.Twilio)
		marshalled, err := json.Marshal(cfg)
		require.NoError(t, err)
		sectionJSON, err := json.Marshal(map[string]any{"db": cfg.Database, "tw": cfg.Twilio, "sg": cfg.SendGrid, "ui": cfg.RiverUI})
		require.NoError(t, err)

		outputs := map[string]string{
			"slog JSON":    jsonLog.String(),
			"slog text":    textLog.String(),
			"String":       cfg.String(),
			"%v":           fmt.Sprintf("%v", cfg),
			"%+v":          fmt.Sprintf("%+v", cfg),
			"%#v":          fmt.Sprintf("%#v", cfg),
			"%s":           fmt.Sprintf("%s", cfg),
			"%d":           fmt.Sprintf("%d", cfg),
			"%+v pointer":  fmt.Sprintf("%+v", &cfg),
			"%+v sections": fmt.Sprintf("%+v %+v %+v %+v", cfg.Database, cfg.Twilio, cfg.SendGrid, cfg.RiverUI),
			"%#v sections": fmt.Sprintf("%#v %#v %#v %#v", cfg.Database, cfg.Twilio, cfg.SendGrid, cfg.RiverUI),
			"Redacted":     fmt.Sprintf("%v", cfg.Redacted()),
			"json":         string(marshalled),
			"json section": string(sectionJSON),
		}
		for name, out := range outputs {
			for _, secret := range secrets {
				require.False(t, strings.Contains(out, secret), "%s leaks %q:\n%s", name, secret, out)
			}
			require.Contains(t, out, "****", name)
		}
		for _, name := range []string{"slog JSON", "String", "%+v", "json"} {
			require.Contains(t, outputs[name], databaseHost, "%s keeps the database host", name)
			require.Contains(t, outputs[name], "leaduser", "%s keeps the database user", name)
		}

		var line map[string]any
		require.NoError(t, json.Unmarshal(bytes.SplitN(jsonLog.Bytes(), []byte("\n"), 2)[0], &line))
		logged := line["config"].(map[string]any)
		require.Equal(t, "postgres://leaduser:****@db.internal:5432/leads?sslmode=require", logged["database"].(map[string]any)["url"])
		require.Equal(t, "10s", logged["twilio"].(map[string]any)["timeout"])
	})

	t.Run("DatabaseURLForms", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			name string
			url  string
			want string
		}{
			{"UserinfoPassword", "postgres://u:secretpw@h:5432/db", "postgres://u:****@h:5432/db"},
			{"EscapedPassword", "postgres://u:p%40ss%2Fword@h/db", "postgres://u:****@h/db"},
			{"QueryPassword", "postgres://u@h/db?password=secretpw&sslmode=require", "postgres://u@h/db?password=****&sslmode=require"},
			{"QuerySSLPassword", "postgres://u@h/db?sslpassword=secretpw", "postgres://u@h/db?sslpassword=****"},
			{"NoPassword", "postgres://u@h/db", "postgres://u@h/db"},
			{"UnescapedHashMasksAll", "postgres://u:123#secretpw@h/db", "****"},
			{"KeywordValueMasksAll", "host=h user=u password=secretpw", "****"},
			{"UnparsableMasksAll", "postgres://u:secret pw%zz@h/db", "****"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()

				cfg := config.Default()
				cfg.Database.URL = tt.url
				got := cfg.Redacted()["database"].(map[string]any)["url"]
				require.Equal(t, tt.want, got)
				require.NotContains(t, cfg.String(), "secret")
			})
		}
	})

	// Masking follows the secret tag, so a secret field added later is
	// masked with no other change. This test sets every tagged field to a
	// marker and checks no output shows it, and that each section holding a
	// secret prints, logs and encodes itself masked.
	t.Run("EveryTaggedFieldMasked", func(t *testing.T) {
		t.Parallel()

		cfg := config.Default()
		root := reflect.ValueOf(&cfg).Elem()
		var markers []string
		for i := range root.NumField() {
			section := root.Field(i)
			sectionHasSecret := false
			for j := range section.NumField() {
				tag := section.Type().Field(j).Tag.Get("secret")
				if tag == "" {
					continue
				}
				sectionHasSecret = true
				marker := fmt.Sprintf("MARKER%dx%d", i, j)
				markers = append(markers, marker)
				if tag == "url" {
					section.Field(j).SetString("postgres://u:" + marker + "@h/db")
				} else {
					section.Field(j).SetString(marker)
				}
			}
			if sectionHasSecret {
				typ := section.Type()
				require.Implements(t, (*fmt.Formatter)(nil), section.Interface(), "%s holds a secret", typ)
				require.Implements(t, (*slog.LogValuer)(nil), section.Interface(), "%s holds a secret", typ)
				require.Implements(t, (*json.Marshaler)(nil), section.Interface(), "%s holds a secret", typ)
			}
		}
		require.Len(t, markers, 6, "database.url, database.migrate_url, riverui.password, twilio.auth_token, sendgrid.api_key, credentials.keys")

		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "config", cfg)
		out := logged.String() + fmt.Sprintf("%+v", cfg)
		for _, marker := range markers {
			require.NotContains(t, out, marker)
		}
	})
}

// TestShippedRescue: on the defaults, a SIGKILLed replica's running jobs
// are rescued within about two minutes, and never while a run may still be
// finishing. River's own default (1h, which config.yaml shipped) left 21
// leads un-ingested three minutes after the last of 16 kills.
func TestShippedRescue(t *testing.T) {
	t.Parallel()

	cfg := config.Default()
	require.LessOrEqual(t, cfg.River.RescueStuckJobsAfter, 90*time.Second, "a crash costs this plus River's 30s rescuer interval")
	require.GreaterOrEqual(t, cfg.River.RescueStuckJobsAfter, cfg.River.JobTimeout+config.RescueSlack, "a live run must not be rescued")
	require.NoError(t, cfg.Validate())

	// Exactly the slack is accepted; a second less is not.
	cfg.River.RescueStuckJobsAfter = cfg.River.JobTimeout + config.RescueSlack
	require.NoError(t, cfg.Validate())
	cfg.River.RescueStuckJobsAfter -= time.Second
	_, keys := requireValidationError(t, cfg.Validate())
	require.Equal(t, []string{"river.rescue_stuck_jobs_after"}, keys)
}

func TestRepoConfigYAML(t *testing.T) {
	t.Parallel()

	const path = "../../config.yaml"

	t.Run("LoadsAndMatchesDefaults", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		cfg, err := config.Load(path, bundle.getenv)
		require.NoError(t, err)
		require.NoError(t, cfg.Validate())
		require.Equal(t, config.Default(), *cfg, "config.yaml documents the built-in defaults")
	})

	t.Run("PassesWorkerValidationWithSecretsFromEnv", func(t *testing.T) {
		t.Parallel()
		bundle := setup(t)

		bundle.env["LEADORCH_RIVERUI_PASSWORD"] = "correct-horse-battery"
		bundle.env["LEADORCH_TWILIO_ACCOUNT_SID"] = "AC0123456789abcdef"
		bundle.env["LEADORCH_TWILIO_AUTH_TOKEN"] = "0123456789abcdef"
		bundle.env["LEADORCH_SENDGRID_API_KEY"] = "SG.key.value"
		bundle.env["LEADORCH_CREDENTIALS_KEYS"] = "k1=c2FuZGJveC1kZXYta2V5LW5vdC1mb3ItcmVhbC11c2U="
		cfg, err := config.Load(path, bundle.getenv)
		require.NoError(t, err)
		require.NoError(t, cfg.ValidateForWorker())
	})

	t.Run("DocumentsEveryKey", func(t *testing.T) {
		t.Parallel()

		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		text := string(raw)

		v := viper.New()
		v.SetConfigType("yaml")
		require.NoError(t, v.ReadConfig(bytes.NewReader(raw)))
		fileKeys := v.AllKeys()
		slices.Sort(fileKeys)
		allKeys := flatKeys("", config.Default().Redacted())
		require.Equal(t, allKeys, fileKeys, "config.yaml lists every key")

		for _, key := range allKeys {
			require.Contains(t, text, "Env: "+envVar(key), "config.yaml names the variable of %s", key)
		}

		// Every key line has a comment right above it.
		lines := strings.Split(text, "\n")
		keyLine := regexp.MustCompile(`^\s*[a-z_]+:\s*\S`)
		for i, line := range lines {
			if !keyLine.MatchString(line) {
				continue
			}
			require.Greater(t, i, 0)
			require.True(t, strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#"), "line %d %q has no comment above it", i+1, line)
			require.Contains(t, lines[i-1], "Default:", "line %d %q: the comment ends with the default", i+1, line)
		}
	})
}

func TestNewLogger(t *testing.T) {
	t.Parallel()

	t.Run("TextAtDebug", func(t *testing.T) {
		t.Parallel()

		var buf bytes.Buffer
		config.LogConfig{Level: "debug", Format: "text"}.NewLogger(&buf).Debug("polled", "tenant", "t1")
		require.Contains(t, buf.String(), "level=DEBUG msg=polled tenant=t1")
	})

	t.Run("JSONAtWarnDropsInfo", func(t *testing.T) {
		t.Parallel()

		var buf bytes.Buffer
		logger := config.LogConfig{Level: "warn", Format: "json"}.NewLogger(&buf)
		logger.Info("quiet")
		logger.Warn("loud")
		require.NotContains(t, buf.String(), "quiet")

		var line map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
		require.Equal(t, "loud", line["msg"])
	})

	t.Run("InvalidFallsBackToJSONInfo", func(t *testing.T) {
		t.Parallel()

		var buf bytes.Buffer
		logger := config.LogConfig{Level: "loud", Format: "xml"}.NewLogger(&buf)
		logger.Debug("hidden")
		logger.Info("shown")
		var line map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
		require.Equal(t, "shown", line["msg"])
	})
}

func TestValidationErrorIsError(t *testing.T) {
	t.Parallel()

	cfg := config.Default()
	cfg.Log.Format = "xml"
	err := fmt.Errorf("error starting worker: %w", cfg.Validate())

	var verr *config.ValidationError
	require.True(t, errors.As(err, &verr))
	require.Equal(t, []config.FieldError{{Key: "log.format", Problem: `must be one of json, text, got "xml"`}}, verr.Problems)
	require.Equal(t, `log.format: must be one of json, text, got "xml"`, verr.Problems[0].Error())
}

func ExampleLoad() {
	env := map[string]string{
		"LEADORCH_QUEUES_SMS_MAX_WORKERS": "80",
		"DATABASE_URL":                    "postgres://app:hunter2hunter2@db.internal:5432/leadorch",
	}
	cfg, err := config.Load("", func(key string) string { return env[key] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Queues.SMS.MaxWorkers)
	fmt.Println(cfg.Redacted()["database"].(map[string]any)["url"])
	// Output:
	// 80
	// postgres://app:****@db.internal:5432/leadorch
}

func ExampleConfig_Validate() {
	cfg := config.Default()
	cfg.Queues.SMS.MaxWorkers = 0
	cfg.River.FetchPollInterval = 10 * time.Millisecond
	fmt.Println(cfg.Validate())
	// Output:
	// invalid config (2 problems):
	//   river.fetch_poll_interval: must be longer than river.fetch_cooldown (20ms), got 10ms
	//   queues.sms.max_workers: must be between 1 and 10000, got 0
}

// TestDefaultTemplatesWithoutVehicle: a lead whose vehicle the CRM does not
// have (kept since a vehicle 404 no longer drops it) gets wording without a
// vehicle, not "about your ." or "about your  and"; with one, the vehicle
// is named.
func TestDefaultTemplatesWithoutVehicle(t *testing.T) {
	t.Parallel()
	tpl := config.Default().Templates
	shop := lead.Tenant{Name: "Maple Street Auto", TimeZone: "America/Chicago"}
	for _, tc := range []struct{ name, text string }{
		{"sms", tpl.SMS}, {"email_subject", tpl.EmailSubject}, {"email_text", tpl.EmailText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			without := lead.Lead{FirstName: "Ann", Summary: "Brakes squeal"}
			got, err := lead.RenderTemplate(tc.name, tc.text, lead.NewMessageData(shop, without))
			require.NoError(t, err)
			require.NotContains(t, got, "your .")
			require.NotContains(t, got, "your  ")
			require.NotContains(t, got, "vehicle")
			require.NotRegexp(t, `about your\W`, got)

			with := without
			with.Vehicle = lead.Vehicle{Year: 2019, Make: "Honda", Model: "Civic"}
			got, err = lead.RenderTemplate(tc.name, tc.text, lead.NewMessageData(shop, with))
			require.NoError(t, err)
			if strings.Contains(tc.text, "Vehicle") {
				require.Contains(t, got, "about your 2019 Honda Civic")
			}
		})
	}
}

func TestEnvVars(t *testing.T) {
	t.Parallel()

	names := config.EnvVars()
	require.Contains(t, names, "LEADORCH_OPERATOR_ADDR")
	require.Contains(t, names, "LEADORCH_QUEUES_SMS_MAX_WORKERS")
	require.Contains(t, names, "DATABASE_URL")
	require.NotContains(t, names, "LEADORCH_QUEUES_SMS", "a section is not a variable")
	var want []string
	for _, key := range flatKeys("", config.Default().Redacted()) {
		want = append(want, envVar(key))
	}
	require.ElementsMatch(t, append(want, "DATABASE_URL"), names, "one variable per key of config.yaml")
}
