package jobs_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// testBundle is one isolated world: a fresh database, the provider fakes
// on a real HTTP server, and the real adapters and senders pointed at them.
//
// The jobs run as the application role, under row-level security, as a
// deployed worker does; pool is the owner's, for tests to look across
// tenants.
type testBundle struct {
	pool    *pgxpool.Pool
	sandbox *sandbox.Server
	deps    *jobs.Deps
	store   *store.Store
	keys    *credentials.Keyring
	keySpec string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	db := testdb.NewApp(t)
	return setupOn(t, db, db.App)
}

// setupOn is setup with the jobs, the CRM budget and the test's store on
// app, a pool as the application role that may reach db another way (as
// through PgBouncer).
func setupOn(t *testing.T, db testdb.DB, app *pgxpool.Pool) *testBundle {
	t.Helper()
	keys, keySpec := fixture.Keyring(t, "test")
	sb := sandbox.NewServer(sandbox.ServerOpts{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	urls := sandbox.URLs(srv.URL)

	sms, err := twilio.NewSender(twilio.SenderOpts{
		AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken,
		BaseURL: urls.Twilio, Timeout: 5 * time.Second,
	})
	require.NoError(t, err)
	email, err := sendgrid.NewSender(sendgrid.SenderOpts{
		APIKey: fakesendgrid.DefaultAPIKey, BaseURL: urls.SendGrid, Timeout: 5 * time.Second,
	})
	require.NoError(t, err)

	level := slog.LevelWarn
	if os.Getenv("TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	deps := &jobs.Deps{
		Pool: app,
		CRM: crmset.NewRegistry(crmset.Opts{
			Settings: map[string]crm.Settings{
				"shopmonkey": {BaseURL: urls.ShopMonkey, Timeout: 5 * time.Second},
				"tekmetric":  {BaseURL: urls.Tekmetric, Timeout: 5 * time.Second},
			},
			Budget: store.NewCRMBudget(app, nil),
		}),
		Credentials: keys,
		SMS:         sms,
		Email:       email,
		Templates: lead.Templates{
			SMS:          "Hi {{.Lead.FirstName}}, {{.Shop.Name}} got your request{{with .Vehicle.Name}} about your {{.}}{{end}}. Reply STOP to opt out.",
			EmailSubject: "{{.Shop.Name}} received your request",
			EmailText:    "Hi {{.Lead.FirstName}},\nWe got your request: {{.Lead.Summary}}.\n{{.Shop.Name}}",
		},
		PollOverlap:    time.Minute,
		PollMaxWindow:  24 * time.Hour,
		ReconcileAfter: time.Second,
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	return &testBundle{pool: db.Owner, sandbox: sb, deps: deps, store: store.New(app), keys: keys, keySpec: keySpec}
}

// addShop creates a ShopMonkey location in the fake and its tenant.
func (b *testBundle) addShop(t *testing.T, name string) lead.Tenant {
	t.Helper()
	key, loc := "sm_key_"+name, "loc-"+name
	b.sandbox.ShopMonkey.AddLocation(key, loc)
	return fixture.Create(t, b.store, b.keys, fixture.ShopMonkeyTenant(name,
		fixture.PollEvery(5*time.Second), fixture.Senders("+15005550006", "service@"+name+".example.com"),
		fixture.Unlimited, fixture.SendAnyTime), key)
}

// addLeads adds n leads created just now to the tenant's fake location.
func (b *testBundle) addLeads(t *testing.T, tenant lead.Tenant, n int) []fake.LeadRef {
	t.Helper()
	refs := make([]fake.LeadRef, 0, n)
	for range n {
		ref, err := b.sandbox.ShopMonkey.AddLead(tenant.CRMLocationID, fakeshopmonkey.LeadSpec{})
		require.NoError(t, err)
		refs = append(refs, ref)
	}
	return refs
}

// startClient starts one River client (one "replica") and stops it at
// cleanup.
func (b *testBundle) startClient(t *testing.T, opts jobs.ClientOpts) *river.Client[pgx.Tx] {
	t.Helper()
	if opts.MaxWorkers == nil {
		opts.MaxWorkers = map[string]int{jobs.QueueCRM: 10, jobs.QueueCRMBackfill: 3, jobs.QueueSMS: 10, jobs.QueueEmail: 10, jobs.QueueBookkeeping: 10}
	}
	if opts.FetchCooldown == 0 {
		opts.FetchCooldown = 10 * time.Millisecond
		opts.FetchPollInterval = 50 * time.Millisecond
	}
	client, err := jobs.NewClient(b.deps, opts)
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(ctx)
	})
	return client
}

// unrecordedRuns counts finished jobs whose job_executions rows do not
// match their runs (see runNumber): zero means every run of every finished
// job has exactly one row.
func (b *testBundle) unrecordedRuns(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `
		SELECT count(*) FROM river_job j
		WHERE j.state IN ('completed', 'cancelled', 'discarded')
		AND (SELECT count(*) FROM job_executions e WHERE e.job_id = j.id)
			<> greatest(j.attempt + coalesce((j.metadata->>'snoozes')::int, 0), cardinality(j.attempted_by))`).Scan(&n))
	return n
}

// settled waits until every job of the given kinds that is due has
// finished and every finished run is recorded: only then may a test
// assert that something did not happen (a sleep would pass when the job
// simply had not run yet). A job scheduled for later (a follow-up step
// days away) is not due and is not waited for.
func (b *testBundle) settled(t *testing.T, kinds ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = ANY($1) AND finalized_at IS NULL
			AND NOT (state = 'scheduled' AND scheduled_at > now() + interval '10 seconds')`, kinds) == 0 &&
			b.unrecordedRuns(t) == 0
	}, 30*time.Second, 20*time.Millisecond, "jobs of kinds %v still due", kinds)
}

func (b *testBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}
