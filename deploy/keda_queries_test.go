package deploy_test

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// kedaRole is the read-only role of examples/cloudnative-pg and
// keda-grant.sql. Roles are server-wide, so the test makes it once, like a
// DBA would.
const kedaRole = "leadorch_keda"

// TestKEDAQueries runs the ScaledObject's queries, as rendered for prod,
// against a migrated database as KEDA's role with exactly the grant of
// keda-grant.sql: they answer 0 on an empty queue (KEDA fails on NULL),
// count and age only the sms queue's available jobs, and the role cannot
// read a job's args.
func TestKEDAQueries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	queries := map[string]string{}
	for _, s := range only[*kedaScaledObject](render(t, "k8s/overlays/prod")) {
		for _, trig := range s.Spec.Triggers {
			if trig.Type == "postgresql" {
				queries[trig.Name] = trig.Metadata["query"]
			}
		}
	}
	require.Len(t, queries, 2)

	owner, ownerURL := testdb.New(t)
	_, err := owner.Exec(ctx, `DO $$ BEGIN
		CREATE ROLE `+kedaRole+` LOGIN;
	EXCEPTION WHEN duplicate_object THEN NULL; END $$`)
	require.NoError(t, err)
	grant, err := os.ReadFile("k8s/examples/cloudnative-pg/keda-grant.sql")
	require.NoError(t, err)
	_, err = owner.Exec(ctx, string(grant))
	require.NoError(t, err, "keda-grant.sql runs as the owner after the migrations")

	u, err := url.Parse(ownerURL)
	require.NoError(t, err)
	u.User = url.User(kedaRole)
	keda, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = keda.Close(ctx) })
	value := func(name string) float64 {
		t.Helper()
		var v float64
		require.NoError(t, keda.QueryRow(ctx, queries[name]).Scan(&v), "trigger %s as %s", name, kedaRole)
		return v
	}

	require.Zero(t, value("sms-oldest-available-seconds"), "an empty queue is 0, not NULL")
	require.Zero(t, value("sms-available-depth"))

	_, err = owner.Exec(ctx, `INSERT INTO river_job (kind, args, queue, state, scheduled_at, max_attempts, priority) VALUES
		('send_sms', '{}', 'sms', 'available', now() - interval '42 seconds', 5, 1),
		('send_sms', '{}', 'sms', 'available', now() - interval '3 seconds', 5, 1),
		('send_sms', '{}', 'sms', 'scheduled', now() + interval '1 hour', 5, 1),
		('send_sms', '{}', 'sms', 'running', now() - interval '10 minutes', 5, 1),
		('send_email', '{}', 'email', 'available', now() - interval '1 hour', 5, 1)`)
	require.NoError(t, err)

	age := value("sms-oldest-available-seconds")
	require.GreaterOrEqual(t, age, 42.0, "the oldest available text's wait")
	require.Less(t, age, 100.0, "neither the running text nor the waiting email counts")
	require.Equal(t, 2.0, value("sms-available-depth"), "available sms jobs only")

	_, err = keda.Exec(ctx, "SELECT args FROM river_job")
	require.ErrorContains(t, err, "permission denied", "KEDA's role cannot read job args")
	_, err = keda.Exec(ctx, "SELECT count(*) FROM tenants")
	require.ErrorContains(t, err, "permission denied", "nor any table of ours")
}
