package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// testBundle is one isolated fleet: a fresh database and the environment
// run sees (a map, so tests never touch the process's environment).
type testBundle struct {
	pool  *pgxpool.Pool
	store *store.Store
	env   map[string]string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	pool, url := testdb.New(t)
	return &testBundle{
		pool:  pool,
		store: store.New(pool),
		env:   map[string]string{"LEADORCH_DATABASE_URL": url},
	}
}

// run runs the CLI with args (without the program name) and returns what
// it printed.
func (b *testBundle) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"enqueue"}, args...), func(k string) string { return b.env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

// addTenant creates an enabled tenant directly in the store.
func (b *testBundle) addTenant(t *testing.T, name string) lead.Tenant {
	t.Helper()
	tenant, err := b.store.CreateTenant(context.Background(), lead.Tenant{
		Name: name, CRMKind: "shopmonkey", CRMLocationID: "loc-" + name, CRMAPIKey: lead.Secret("key-" + name),
		TimeZone: "America/Chicago", PollInterval: time.Minute, SMSFrom: "+15555550100", Enabled: true,
	})
	require.NoError(t, err)
	return tenant
}

// jobArgs returns the args of every job of kind, oldest id first.
func jobArgs[T any](t *testing.T, b *testBundle, kind string) []T {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT args FROM river_job WHERE kind = $1 ORDER BY id`, kind)
	require.NoError(t, err)
	defer rows.Close()
	var out []T
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var a T
		require.NoError(t, json.Unmarshal(raw, &a))
		out = append(out, a)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestHelp(t *testing.T) {
	t.Parallel()

	for _, args := range [][]string{{"-h"}, {"help"}, {"--help"}, {"tenant", "-h"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			t.Parallel()

			// No database is needed to print help.
			b := &testBundle{env: map[string]string{}}
			stdout, _, err := b.run(t, args...)
			require.NoError(t, err)
			for _, cmd := range []string{"backfill", "poll", "ingest", "tenant add", "tenant list", "tenant disable", "tenant enable"} {
				require.Contains(t, stdout, "\n  "+cmd)
			}
		})
	}

	t.Run("CommandHelp", func(t *testing.T) {
		t.Parallel()

		b := &testBundle{env: map[string]string{}}
		stdout, _, err := b.run(t, "backfill", "-h")
		require.NoError(t, err)
		require.Equal(t, "usage: enqueue "+backfillSynopsis+"\n", stdout)
	})
}

func TestBadArguments(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.addTenant(t, "Main Street Auto")
	disabled := b.addTenant(t, "Closed Auto")
	require.NoError(t, b.store.SetTenantEnabled(context.Background(), disabled.ID, false))
	b.env["EMPTY_KEY"] = ""
	b.env["SHOP_KEY"] = "sk_test_123"
	// After every subtest: a refused command wrote nothing.
	t.Cleanup(func() {
		var jobs, tenants int
		require.NoError(t, b.pool.QueryRow(context.Background(),
			`SELECT (SELECT count(*) FROM river_job), (SELECT count(*) FROM tenants)`).Scan(&jobs, &tenants))
		require.Zero(t, jobs)
		require.Equal(t, 2, tenants)
	})

	addArgs := func(more ...string) []string {
		return append([]string{"tenant", "add", "--name", "New Auto", "--location-id", "loc", "--sms-from", "+15555550100"}, more...)
	}

	tests := []struct {
		name string
		args []string
		// want are substrings of the error: the flag and why.
		want  []string
		usage bool
	}{
		{"NoCommand", nil, []string{"no command given", "usage:"}, true},
		{"UnknownCommand", []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "usage:"}, true},
		{"UnknownTenantSubcommand", []string{"tenant", "remove"}, []string{`unknown tenant subcommand "remove"`}, true},
		{"UnknownFlag", []string{"poll", "--tenant", "x", "--force"}, []string{"poll:", "-force"}, true},
		{"PositionalArgument", []string{"poll", "--tenant", "x", "now"}, []string{`unexpected argument "now"`}, true},
		{"BackfillMissingTenant", []string{"backfill", "--since", "2024-01-01"}, []string{"--tenant is required"}, true},
		{"BackfillMissingSince", []string{"backfill", "--tenant", "Main Street Auto"}, []string{"--since is required"}, true},
		{"BackfillBadSince", []string{"backfill", "--tenant", "Main Street Auto", "--since", "last tuesday"}, []string{"-since", "RFC 3339"}, true},
		{"BackfillBadUntil", []string{"backfill", "--tenant", "Main Street Auto", "--since", "2024-01-01", "--until", "2024-13-01"}, []string{"-until", "RFC 3339"}, true},
		{"BackfillWindowZero", []string{"backfill", "--tenant", "Main Street Auto", "--since", "2024-01-01", "--window", "0"}, []string{"--window 0s", "between 1m0s and 744h0m0s"}, true},
		{"BackfillWindowTooLong", []string{"backfill", "--tenant", "Main Street Auto", "--since", "2024-01-01", "--window", "745h"}, []string{"--window 745h0m0s"}, true},
		{"BackfillSinceAfterUntil", []string{"backfill", "--tenant", "Main Street Auto", "--since", "2024-02-01", "--until", "2024-01-01"}, []string{"--since 2024-02-01T00:00:00-06:00 must be before --until 2024-01-01T00:00:00-06:00"}, false},
		{"BackfillSinceEqualsUntil", []string{"backfill", "--tenant", "Main Street Auto", "--since", "2024-01-01", "--until", "2024-01-01"}, []string{"must be before --until"}, false},
		{"BackfillUntilInFuture", []string{"backfill", "--tenant", "Main Street Auto", "--since", "2024-01-01", "--until", "2999-01-01"}, []string{"--until 2999-01-01 is in the future"}, false},
		{"BackfillTooLong", []string{"backfill", "--tenant", "Main Street Auto", "--since", "2018-01-01", "--until", "2023-01-02"}, []string{"longer than 5 years"}, false},
		{"BackfillUnknownTenant", []string{"backfill", "--tenant", "Nowhere Auto", "--since", "2024-01-01"}, []string{`--tenant "Nowhere Auto"`, "no tenant has this name or id"}, false},
		{"BackfillDisabledTenant", []string{"backfill", "--tenant", "Closed Auto", "--since", "2024-01-01"}, []string{`--tenant "Closed Auto"`, "is disabled"}, false},
		{"PollMissingTenant", []string{"poll"}, []string{"poll: --tenant is required"}, true},
		{"PollUnknownTenant", []string{"poll", "--tenant", "00000000-0000-0000-0000-000000000001"}, []string{"no tenant has this name or id"}, false},
		{"PollDisabledTenant", []string{"poll", "--tenant", disabled.ID.String()}, []string{"is disabled"}, false},
		{"IngestMissingExternalID", []string{"ingest", "--tenant", "Main Street Auto"}, []string{"--external-id is required"}, true},
		{"IngestBadPrefix", []string{"ingest", "--tenant", "Main Street Auto", "--external-id", "invoice:7"}, []string{`--external-id "invoice:7"`, `prefix "invoice:"`}, true},
		{"IngestEmptyID", []string{"ingest", "--tenant", "Main Street Auto", "--external-id", "order:"}, []string{`--external-id "order:"`, `no id after "order:"`}, true},
		{"TenantAddNoAPIKey", addArgs(), []string{"--api-key-env VAR or --api-key-file FILE is required"}, true},
		{"TenantAddBothAPIKeys", addArgs("--api-key-env", "SHOP_KEY", "--api-key-file", "key.txt"), []string{"only one of --api-key-env and --api-key-file"}, true},
		{"TenantAddEmptyAPIKeyEnv", addArgs("--api-key-env", "EMPTY_KEY"), []string{"--api-key-env", "unset or empty"}, true},
		{"TenantAddMissingAPIKeyFile", addArgs("--api-key-file", "/nonexistent/key"), []string{"--api-key-file", "cannot read"}, true},
		{"TenantAddBadTimeZone", addArgs("--api-key-env", "SHOP_KEY", "--time-zone", "Mars/Olympus"), []string{"--time-zone", `"Mars/Olympus" is not a known IANA time zone`}, true},
		{"TenantAddBadSMSFrom", addArgs("--api-key-env", "SHOP_KEY", "--sms-from", "call me"), []string{"--sms-from", "not a phone number"}, true},
		{"TenantAddNoSender", []string{"tenant", "add", "--name", "New Auto", "--location-id", "loc", "--api-key-env", "SHOP_KEY"}, []string{"--sms-from: or messaging_service_sid is required"}, true},
		{"TenantAddBadPollInterval", addArgs("--api-key-env", "SHOP_KEY", "--poll-interval", "1s"), []string{"--poll-interval", "between 5s and 24h0m0s"}, true},
		{"TenantAddBadTemplate", addArgs("--api-key-env", "SHOP_KEY", "--sms-template", "Hi {{.Lead.Nickname}}"), []string{"--sms-template", "Nickname"}, true},
		{"TenantAddUnknownCRM", addArgs("--api-key-env", "SHOP_KEY", "--crm", "tekmetric"), []string{"--crm", `"tekmetric" is not a known CRM`}, true},
		{"TenantAddManyProblems", []string{"tenant", "add", "--time-zone", "Nowhere"}, []string{
			"problems:", "--api-key-env VAR or --api-key-file FILE is required", "--name: is required",
			"--location-id: is required", "--time-zone", "--sms-from",
		}, true},
		{"TenantAddDuplicateName", addArgs("--api-key-env", "SHOP_KEY", "--name", "Main Street Auto"), []string{`--name "Main Street Auto": a tenant with this name already exists`}, false},
		{"TenantDisableMissingTenant", []string{"tenant", "disable"}, []string{"tenant disable: --tenant is required"}, true},
		{"TenantEnableUnknownTenant", []string{"tenant", "enable", "--tenant", "Nowhere Auto"}, []string{"no tenant has this name or id"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			_, _, err := b.run(t, tt.args...)
			require.Error(t, err)
			for _, want := range tt.want {
				require.Contains(t, err.Error(), want)
			}
			var uErr *usageError
			require.Equal(t, tt.usage, errors.As(err, &uErr), "usage error (exit 2): %v", err)
		})
	}
}
