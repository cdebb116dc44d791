package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// testBundle is one isolated fleet: a fresh database and the environment
// run sees (a map, so tests never touch the process's environment). The CLI
// connects as the application role, which row-level security applies to;
// the test inspects the database as its owner.
type testBundle struct {
	// owner sees every tenant's rows: for inspection and for setting up
	// what no command does.
	owner *pgxpool.Pool
	// ownerURL connects as that owner, which enqueue must refuse.
	ownerURL string
	// store is on the application role, as the CLI is; app is its pool,
	// for workers a test runs.
	store *store.Store
	app   *pgxpool.Pool
	// keys is the keyring of credentials.keys as env has it at first.
	keys *credentials.Keyring
	env  map[string]string
	// secrets must never appear in anything run prints or returns; run
	// checks every command against them.
	secrets []string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := testdb.NewApp(t)
	b := &testBundle{
		owner:    db.Owner,
		ownerURL: db.OwnerURL,
		store:    store.New(db.App),
		app:      db.App,
		env:      map[string]string{"LEADORCH_DATABASE_URL": db.AppURL},
	}
	b.keys = b.setKeys(t, newKey(t, "A"))
	return b
}

// newKey returns a fresh credentials key as credentials.keys lists it:
// ID=BASE64KEY.
func newKey(t *testing.T, id string) string {
	t.Helper()
	raw := make([]byte, 32)
	_, err := rand.Read(raw)
	require.NoError(t, err)
	return id + "=" + base64.StdEncoding.EncodeToString(raw)
}

// setKeys sets credentials.keys for the commands run from now on and
// returns its keyring. The keys are secrets too.
func (b *testBundle) setKeys(t *testing.T, keys ...string) *credentials.Keyring {
	t.Helper()
	spec := strings.Join(keys, ",")
	b.env["LEADORCH_CREDENTIALS_KEYS"] = spec
	for _, k := range keys {
		_, material, _ := strings.Cut(k, "=")
		b.secrets = append(b.secrets, material)
	}
	k, err := credentials.ParseKeyring(spec)
	require.NoError(t, err)
	return k
}

// setSecret puts a CRM secret in the environment variable name.
func (b *testBundle) setSecret(name, secret string) {
	b.env[name] = secret
	b.secrets = append(b.secrets, secret)
}

// run runs the CLI with args (without the program name) and returns what
// it printed. No secret of the bundle appears in any of it.
func (b *testBundle) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"enqueue"}, args...), func(k string) string { return b.env[k] }, &out, &errOut)
	printed := out.String() + errOut.String()
	if err != nil {
		printed += err.Error()
	}
	for _, s := range b.secrets {
		require.NotContains(t, printed, s, "a secret was printed by enqueue %s", strings.Join(args, " "))
	}
	return out.String(), errOut.String(), err
}

// addTenant creates an enabled ShopMonkey tenant directly in the store,
// its secret ("key-" and its name) sealed with b.keys.
func (b *testBundle) addTenant(t *testing.T, name string) lead.Tenant {
	t.Helper()
	return b.createTenant(t, name, b.keys)
}

// addTenantSealedWith creates a tenant like addTenant whose secret is
// sealed with key (ID=BASE64KEY), which need not be configured.
func (b *testBundle) addTenantSealedWith(t *testing.T, name, key string) lead.Tenant {
	t.Helper()
	keys, err := credentials.ParseKeyring(key)
	require.NoError(t, err)
	_, material, _ := strings.Cut(key, "=")
	b.secrets = append(b.secrets, material)
	return b.createTenant(t, name, keys)
}

func (b *testBundle) createTenant(t *testing.T, name string, keys *credentials.Keyring) lead.Tenant {
	t.Helper()
	secret := "key-" + name
	b.secrets = append(b.secrets, secret)
	return fixture.Create(t, b.store, keys, fixture.ShopMonkeyTenant(name, fixture.DefaultQuietHours), secret)
}

// jobArgs returns the args of every job of kind, oldest id first.
func jobArgs[T any](t *testing.T, b *testBundle, kind string) []T {
	t.Helper()
	rows, err := b.owner.Query(context.Background(), `SELECT args FROM river_job WHERE kind = $1 ORDER BY id`, kind)
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
			for _, cmd := range []string{"backfill", "poll", "ingest", "tenant add", "tenant update", "tenant show", "tenant list",
				"tenant disable", "tenant enable", "tenant rotate-keys", "conversation"} {
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
	b.setSecret("SHOP_KEY", "sk_test_123")
	// After every subtest: a refused command wrote nothing.
	const snapshot = `SELECT (SELECT count(*) FROM river_job), (SELECT string_agg(t::text, E'\n' ORDER BY id) FROM tenants t)`
	var tenantsBefore string
	var jobs int
	require.NoError(t, b.owner.QueryRow(context.Background(), snapshot).Scan(&jobs, &tenantsBefore))
	t.Cleanup(func() {
		var tenantsAfter string
		require.NoError(t, b.owner.QueryRow(context.Background(), snapshot).Scan(&jobs, &tenantsAfter))
		require.Zero(t, jobs)
		require.Equal(t, tenantsBefore, tenantsAfter)
	})

	addArgs := func(more ...string) []string {
		return append([]string{"tenant", "add", "--name", "New Auto", "--location-id", "loc", "--sms-from", "+13125550100"}, more...)
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
		{"TenantAddNoSecret", addArgs(), []string{"--secret-env VAR or --secret-file FILE is required"}, true},
		{"TenantAddBothAPIKeys", addArgs("--api-key-env", "SHOP_KEY", "--api-key-file", "key.txt"), []string{"only one of --api-key-env and --api-key-file"}, true},
		{"TenantAddSecretAndAlias", addArgs("--secret-env", "SHOP_KEY", "--api-key-env", "SHOP_KEY"), []string{"only one of --secret-env and --api-key-env"}, true},
		{"TenantAddEmptyAPIKeyEnv", addArgs("--api-key-env", "EMPTY_KEY"), []string{"--api-key-env", "unset or empty"}, true},
		{"TenantAddEmptySecretEnv", addArgs("--secret-env", "EMPTY_KEY"), []string{"--secret-env", "unset or empty"}, true},
		{"TenantAddMissingAPIKeyFile", addArgs("--api-key-file", "/nonexistent/key"), []string{"--api-key-file", "cannot read"}, true},
		{"TenantAddMissingSecretFile", addArgs("--secret-file", "/nonexistent/key"), []string{"--secret-file", "cannot read"}, true},
		{"TenantAddBadTimeZone", addArgs("--secret-env", "SHOP_KEY", "--time-zone", "Mars/Olympus"), []string{"--time-zone", `"Mars/Olympus" is not a known IANA time zone`}, true},
		{"TenantAddBadSMSFrom", addArgs("--secret-env", "SHOP_KEY", "--sms-from", "call me"), []string{"--sms-from", "not a phone number"}, true},
		{"TenantAddNoSender", []string{"tenant", "add", "--name", "New Auto", "--location-id", "loc", "--secret-env", "SHOP_KEY"}, []string{"--sms-from: or --messaging-service-sid is required"}, true},
		{"TenantAddBadPollInterval", addArgs("--secret-env", "SHOP_KEY", "--poll-interval", "1s"), []string{"--poll-interval", "between 5s and 24h0m0s"}, true},
		{"TenantAddPollIntervalNotADuration", addArgs("--secret-env", "SHOP_KEY", "--poll-interval", "often"), []string{`--poll-interval: "often" is not a duration`}, true},
		{"TenantAddBadTemplate", addArgs("--secret-env", "SHOP_KEY", "--sms-template", "Hi {{.Lead.Nickname}}"), []string{"--sms-template", "Nickname"}, true},
		{"TenantAddUnknownCRM", addArgs("--secret-env", "SHOP_KEY", "--crm", "mitchell1"), []string{"--crm", `"mitchell1" is not a known CRM`}, true},
		{"TenantAddBadQuietHours", addArgs("--secret-env", "SHOP_KEY", "--quiet-hours", "21:00-08:00"), []string{"--quiet-hours: 21:00-08:00 must start before it ends"}, true},
		{"TenantAddQuietHoursNotAWindow", addArgs("--secret-env", "SHOP_KEY", "--quiet-hours", "9am to 5pm"), []string{"tenant add: --quiet-hours:", "not a window such as 08:00-21:00"}, true},
		{"TenantAddBadRateLimit", addArgs("--secret-env", "SHOP_KEY", "--rate-limit", "-1"), []string{"--rate-limit: is -1 requests per minute"}, true},
		{"TenantAddBadBaseURL", addArgs("--secret-env", "SHOP_KEY", "--crm-base-url", "ftp://crm.example.com"), []string{"--crm-base-url: must be an http(s) URL"}, true},
		{"TenantAddTekmetricNoClientID", []string{"tenant", "add", "--name", "New Auto", "--crm", "tekmetric", "--location-id", "238",
			"--secret-env", "SHOP_KEY", "--sms-from", "+13125550100"}, []string{"tenant add: --client-id: is required: the OAuth client id"}, true},
		{"TenantAddTekmetricBadLocation", []string{"tenant", "add", "--name", "New Auto", "--crm", "tekmetric", "--location-id", "shop-238",
			"--client-id", "cid", "--secret-env", "SHOP_KEY", "--sms-from", "+13125550100"}, []string{"tenant add: --location-id: must be the Tekmetric shop id, a positive integer"}, true},
		{"TenantAddManyProblems", []string{"tenant", "add", "--time-zone", "Nowhere", "--rate-limit", "lots", "--quiet-hours", "late"}, []string{
			"7 problems:", "--secret-env VAR or --secret-file FILE is required", "--name: is required",
			"--location-id: is required", "--time-zone", "--sms-from", "--rate-limit", "--quiet-hours",
		}, true},
		{"TenantAddTekmetricManyProblems", []string{"tenant", "add", "--name", "New Auto", "--crm", "tekmetric", "--location-id", "x",
			"--sms-from", "+13125550100", "--poll-interval", "1s"}, []string{
			"4 problems:", "--secret-env VAR or --secret-file FILE is required", "--location-id: must be the Tekmetric shop id",
			"--client-id: is required", "--poll-interval",
		}, true},
		{"TenantAddDuplicateName", addArgs("--secret-env", "SHOP_KEY", "--name", "Main Street Auto"), []string{`--name "Main Street Auto": a tenant with this name already exists`}, false},
		{"TenantUpdateMissingTenant", []string{"tenant", "update", "--poll-interval", "2m"}, []string{"tenant update: --tenant is required"}, true},
		{"TenantUpdateNothing", []string{"tenant", "update", "--tenant", "Main Street Auto"}, []string{"tenant update: nothing to change"}, true},
		{"TenantUpdateValuesThatDoNotParse", []string{"tenant", "update", "--tenant", "Nowhere Auto", "--poll-interval", "often",
			"--rate-limit", "lots", "--quiet-hours", "9-5", "--secret-env", "EMPTY_KEY"}, []string{
			"4 problems:", "--poll-interval", "--rate-limit", "--quiet-hours", "--secret-env",
		}, true},
		{"TenantUpdateInvalid", []string{"tenant", "update", "--tenant", "Main Street Auto", "--time-zone", "Mars/Olympus", "--sms-from", "call me"}, []string{
			"2 problems:", "--time-zone", "--sms-from",
		}, true},
		{"TenantUpdateToTekmetricNeedsItsSettings", []string{"tenant", "update", "--tenant", "Main Street Auto", "--crm", "tekmetric"}, []string{
			"2 problems:", "--location-id: must be the Tekmetric shop id", "--client-id: is required",
		}, true},
		{"TenantUpdateEmptyName", []string{"tenant", "update", "--tenant", "Main Street Auto", "--name", ""}, []string{"--name: is required"}, true},
		{"TenantUpdateUnknownTenant", []string{"tenant", "update", "--tenant", "Nowhere Auto", "--poll-interval", "2m"}, []string{"no tenant has this name or id"}, false},
		{"TenantUpdateDuplicateName", []string{"tenant", "update", "--tenant", "Main Street Auto", "--name", "Closed Auto"}, []string{`--name "Closed Auto": a tenant with this name already exists`}, false},
		{"TenantShowMissingTenant", []string{"tenant", "show"}, []string{"tenant show: --tenant is required"}, true},
		{"TenantShowUnknownTenant", []string{"tenant", "show", "--tenant", "Nowhere Auto"}, []string{"no tenant has this name or id"}, false},
		{"TenantRotateKeysArgument", []string{"tenant", "rotate-keys", "now"}, []string{`unexpected argument "now"`}, true},
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
