package jobs_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// runPoll inserts a poll of the last hour and waits until it and every
// ingest it inserted have finished.
func runPoll(t *testing.T, b *testBundle, client *river.Client[pgx.Tx], tenant lead.Tenant, live bool) *rivertype.JobRow {
	t.Helper()
	res, err := client.Insert(context.Background(), jobs.PollCRMArgs{
		TenantID: tenant.ID, Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute), Live: live, SendMessages: true,
	}, nil)
	require.NoError(t, err)
	job := waitFinal(t, client, res.Job.ID)
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND finalized_at IS NULL`) == 0
	}, 30*time.Second, 20*time.Millisecond)
	return job
}

// TestRefusedRecordIsNotIngestedAgain: an ingest cancelled for bad input
// records the version it refused, and the overlapping polls that list the
// record again insert no ingest of it (they inserted one each, every one
// fetching the order and its customer again). An edit of the record, a new
// version, is ingested.
func TestRefusedRecordIsNotIngestedAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tenant := b.addShop(t, "refusing")
	good := b.addLeads(t, tenant, 1)[0]
	bad := b.addLeads(t, tenant, 1)[0]
	// The order names a customer the CRM does not have.
	require.NoError(t, b.sandbox.ShopMonkey.Mutate(tenant.CRMLocationID, fakeshopmonkey.Order, bad.ID, func(r map[string]any) {
		r["customerId"] = "cus_missing"
	}))
	client := b.startClient(t, jobs.ClientOpts{})

	for i := range 4 {
		job := runPoll(t, b, client, tenant, i%2 == 0)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
	}
	ingests := func(externalID string) []string {
		rows, err := b.pool.Query(ctx, `SELECT state::text FROM river_job WHERE kind = 'ingest_lead' AND args->>'external_id' = $1 ORDER BY id`, externalID)
		require.NoError(t, err)
		states, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return states
	}
	require.Equal(t, []string{"cancelled"}, ingests(bad.ExternalID), "one ingest of the bad record in four polls")
	var version int64
	var reason string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT version, reason FROM refused_records WHERE tenant_id = $1 AND external_id = $2`,
		tenant.ID, bad.ExternalID).Scan(&version, &reason))
	require.Contains(t, reason, "cus_missing")
	require.Contains(t, reason, "not found")
	var listed int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT (args->>'version')::bigint FROM river_job WHERE kind = 'ingest_lead' AND args->>'external_id' = $1`,
		bad.ExternalID).Scan(&listed))
	require.Equal(t, listed, version, "the version the poll listed is the one refused")
	fetches := 0
	for _, r := range b.sandbox.ShopMonkey.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/order/"+bad.ID) {
			fetches++
		}
	}
	require.Equal(t, 1, fetches, "the bad order was fetched once")
	// The good lead is unaffected: ingested once (its completed ingest is
	// unique), texted once.
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE external_id = $1`, good.ExternalID))
	require.Equal(t, 0, b.count(t, `SELECT count(*) FROM refused_records WHERE external_id = $1`, good.ExternalID))

	// Fixed in the CRM: a new version, tried and ingested.
	require.NoError(t, b.sandbox.ShopMonkey.Mutate(tenant.CRMLocationID, fakeshopmonkey.Order, bad.ID, func(r map[string]any) {
		r["customerId"] = bad.CustomerID
	}))
	require.NoError(t, b.sandbox.ShopMonkey.Touch(tenant.CRMLocationID, bad.ID))
	runPoll(t, b, client, tenant, true)
	require.Equal(t, []string{"cancelled", "completed"}, ingests(bad.ExternalID))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE external_id = $1`, bad.ExternalID))
	require.Zero(t, b.unrecordedRuns(t))
}

// TestRefusedCredentialsFlagTheTenant: a CRM that rejects the tenant's key
// flags the tenant as needing attention (logged once, not per poll) and
// backs its polls off, up to an hour apart, until the key changes; a new
// secret clears the flag and makes the next poll due at once, and a poll
// that succeeds clears it too.
func TestRefusedCredentialsFlagTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	logs := &syncBuffer{}
	b.deps.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	tenant := b.addShop(t, "revoked")
	wrong, err := b.keys.Seal(tenant.ID, "sm_key_revoked_old")
	require.NoError(t, err)
	tenant, err = b.store.UpdateTenant(ctx, tenant, &wrong)
	require.NoError(t, err)
	client := b.startClient(t, jobs.ClientOpts{})

	nextPoll := func() time.Duration {
		t.Helper()
		got, err := b.store.GetTenant(ctx, tenant.ID)
		require.NoError(t, err)
		return time.Until(got.NextPollAt)
	}
	poll := func() *rivertype.JobRow {
		t.Helper()
		// Due now, as the scheduler would have left it.
		_, err := b.pool.Exec(ctx, `UPDATE tenants SET next_poll_at = now() WHERE id = $1`, tenant.ID)
		require.NoError(t, err)
		return runPoll(t, b, client, tenant, true)
	}

	job := poll()
	require.Equal(t, rivertype.JobStateCancelled, job.State)
	got, err := b.store.GetTenant(ctx, tenant.ID)
	require.NoError(t, err)
	require.True(t, got.NeedsAttention)
	require.Contains(t, got.AttentionReason, "crm rejected the credentials")
	require.NotContains(t, got.AttentionReason, "sm_key_revoked_old", "never the key itself")
	require.WithinDuration(t, time.Now(), got.AttentionSince, time.Minute)
	require.InDelta(t, tenant.PollInterval.Seconds(), nextPoll().Seconds(), 4, "the first refusal waits one interval")

	require.Equal(t, rivertype.JobStateCancelled, poll().State)
	require.Equal(t, 1, strings.Count(logs.String(), "tenant needs attention"), "logged once, when the flag went up:\n%s", logs.String())

	// The wait grows with how long the refusals have lasted, to an hour.
	_, err = b.pool.Exec(ctx, `UPDATE tenants SET attention_since = now() - interval '10 minutes' WHERE id = $1`, tenant.ID)
	require.NoError(t, err)
	poll()
	require.InDelta(t, (10 * time.Minute).Seconds(), nextPoll().Seconds(), 5)
	due, err := b.store.FleetClaimDuePolls(ctx, time.Now().Add(2*tenant.PollInterval), 10)
	require.NoError(t, err)
	require.Empty(t, due, "no poll is claimed while the tenant backs off")
	_, err = b.pool.Exec(ctx, `UPDATE tenants SET attention_since = now() - interval '5 hours' WHERE id = $1`, tenant.ID)
	require.NoError(t, err)
	poll()
	require.InDelta(t, time.Hour.Seconds(), nextPoll().Seconds(), 5)
	require.Equal(t, 1, strings.Count(logs.String(), "tenant needs attention"))

	// An ingest refused the same way (a webhook's) flags it too.
	_, err = b.pool.Exec(ctx, `UPDATE tenants SET needs_attention = false WHERE id = $1`, tenant.ID)
	require.NoError(t, err)
	res, err := client.Insert(ctx, jobs.IngestLeadArgs{TenantID: tenant.ID, ExternalID: "order:x", Version: 1}, nil)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCancelled, waitFinal(t, client, res.Job.ID).State)
	got, err = b.store.GetTenant(ctx, tenant.ID)
	require.NoError(t, err)
	require.True(t, got.NeedsAttention)
	require.Zero(t, b.count(t, `SELECT count(*) FROM refused_records`), "rejected credentials are not the record's fault")

	// The operator gives the right key: the flag goes and the poll is due.
	right, err := b.keys.Seal(tenant.ID, "sm_key_revoked")
	require.NoError(t, err)
	updated, err := b.store.UpdateTenant(ctx, got, &right)
	require.NoError(t, err)
	require.False(t, updated.NeedsAttention)
	require.Empty(t, updated.AttentionReason)
	require.True(t, updated.AttentionSince.IsZero())
	require.LessOrEqual(t, time.Until(updated.NextPollAt), time.Second)
	require.Equal(t, rivertype.JobStateCompleted, poll().State)

	// A refusal that passes (the key re-granted in the CRM itself) is
	// cleared by the next poll that succeeds.
	_, err = b.pool.Exec(ctx, `UPDATE tenants SET needs_attention = true, attention_reason = 'x', attention_since = now() WHERE id = $1`, tenant.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, poll().State)
	got, err = b.store.GetTenant(ctx, tenant.ID)
	require.NoError(t, err)
	require.False(t, got.NeedsAttention)
	require.Contains(t, logs.String(), "tenant no longer needs attention")
	require.Zero(t, b.unrecordedRuns(t))
}

// TestRefusalIsOfTheVersionFetched: an ingest refuses the record as the CRM
// served it. A webhook's version can be newer than what the CRM serves yet,
// or the record not be served at all yet: recording the version the job
// was given made every later poll of that version skip it, and the lead
// was lost (a review found it). A record the CRM answers 404 for records
// no refusal; a record naming a missing customer records the version
// fetched, not the job's.
func TestRefusalIsOfTheVersionFetched(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tenant := b.addShop(t, "versions")
	bad := b.addLeads(t, tenant, 1)[0]
	require.NoError(t, b.sandbox.ShopMonkey.Mutate(tenant.CRMLocationID, fakeshopmonkey.Order, bad.ID, func(r map[string]any) {
		r["customerId"] = "cus_missing"
	}))
	client := b.startClient(t, jobs.ClientOpts{})

	for _, a := range []jobs.IngestLeadArgs{
		{TenantID: tenant.ID, ExternalID: "order:not-served-yet", Version: 99, SendMessages: true},
		{TenantID: tenant.ID, ExternalID: bad.ExternalID, Version: 99, SendMessages: true},
	} {
		res, err := client.Insert(ctx, a, nil)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCancelled, waitFinal(t, client, res.Job.ID).State)
	}
	require.Zero(t, b.count(t, `SELECT count(*) FROM refused_records WHERE external_id = 'order:not-served-yet'`),
		"a record the CRM does not serve is not refused")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM refused_records WHERE external_id = $1`, bad.ExternalID))
	require.Zero(t, b.count(t, `SELECT count(*) FROM refused_records WHERE version = 99`), "the version fetched, not the job's")
}
