package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// crmShop is one shop in a CRM fake, as a test drives it: how `tenant add`
// names it, how to seed its leads, and how to make the CRM reject, then
// accept, the tenant's credentials.
type crmShop struct {
	kind string
	// addFlags are the CRM's own flags of `tenant add`; the secret is in
	// the environment variable SHOP_SECRET.
	addFlags []string
	// addLead seeds a lead created at created (zero: now) and returns its
	// external id as the adapter writes it, and as an operator would type
	// it from the CRM's screen (a bare id).
	addLead func(t *testing.T, created time.Time) (externalID, typed string)
	// addBadLead seeds a lead whose customer the CRM does not have.
	addBadLead func(t *testing.T) (externalID string)
	// reject makes the CRM refuse the tenant's secret; newSecret is one it
	// takes instead.
	reject    func(t *testing.T)
	newSecret string
}

// commandsBundle is a CLI bundle with a worker replica running the jobs the
// commands insert, against the sandbox fakes over real HTTP.
type commandsBundle struct {
	*testBundle
	sandbox *sandbox.Server
	urls    sandbox.BaseURLs
	client  *river.Client[pgx.Tx]
}

func setupCommands(t *testing.T) *commandsBundle {
	t.Helper()
	b := &commandsBundle{testBundle: setup(t), sandbox: sandbox.NewServer(sandbox.ServerOpts{})}
	srv := httptest.NewServer(b.sandbox)
	t.Cleanup(srv.Close)
	b.urls = sandbox.URLs(srv.URL)
	sms, err := twilio.NewSender(twilio.SenderOpts{AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken,
		BaseURL: b.urls.Twilio, Timeout: 5 * time.Second})
	require.NoError(t, err)
	email, err := sendgrid.NewSender(sendgrid.SenderOpts{APIKey: fakesendgrid.DefaultAPIKey, BaseURL: b.urls.SendGrid, Timeout: 5 * time.Second})
	require.NoError(t, err)
	deps := &jobs.Deps{
		Pool:        b.app,
		CRM:         crmset.NewRegistry(crmset.Opts{Settings: map[string]crm.Settings{"shopmonkey": {Timeout: 5 * time.Second}, "tekmetric": {Timeout: 5 * time.Second}}}),
		Credentials: b.keys,
		SMS:         sms,
		Email:       email,
		Templates: lead.Templates{
			SMS:          "Hi {{.Lead.FirstName}}, {{.Shop.Name}} got your request. Reply STOP to opt out.",
			EmailSubject: "{{.Shop.Name}} received your request",
			EmailText:    "Hi {{.Lead.FirstName}},\nWe got your request.\n{{.Shop.Name}}",
		},
		PollOverlap:    time.Minute,
		PollMaxWindow:  24 * time.Hour,
		ReconcileAfter: time.Second,
		ConfirmWait:    time.Second,
		Logger:         slog.New(slog.DiscardHandler),
	}
	// No scheduler: only the commands insert polls.
	client, err := jobs.NewClient(deps, jobs.ClientOpts{
		MaxWorkers:    map[string]int{jobs.QueueCRM: 4, jobs.QueueCRMBackfill: 2, jobs.QueueSMS: 4, jobs.QueueEmail: 4, jobs.QueueBookkeeping: 4},
		FetchCooldown: 10 * time.Millisecond, FetchPollInterval: 50 * time.Millisecond,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(ctx)
	})
	b.client = client
	return b
}

// waitIdle waits until no job is waiting or running: everything the last
// command set off has finished (later steps of a sequence stay scheduled).
func (b *commandsBundle) waitIdle(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.owner.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE state IN ('available', 'running', 'retryable', 'pending')
			OR (state = 'scheduled' AND scheduled_at < now() + interval '1 minute')`).Scan(&n))
		return n == 0
	}, 30*time.Second, 20*time.Millisecond)
}

// jobStates are the states of the jobs of kind, oldest first.
func (b *commandsBundle) jobStates(t *testing.T, kind string) []string {
	t.Helper()
	rows, err := b.owner.Query(context.Background(), `SELECT state::text FROM river_job WHERE kind = $1 ORDER BY id`, kind)
	require.NoError(t, err)
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return states
}

// jobStatesOf are the states of the jobs of kind about externalID.
func (b *commandsBundle) jobStatesOf(t *testing.T, kind, externalID string) []string {
	t.Helper()
	rows, err := b.owner.Query(context.Background(), `SELECT state::text FROM river_job WHERE kind = $1 AND args->>'external_id' = $2 ORDER BY id`,
		kind, externalID)
	require.NoError(t, err)
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return states
}

func (b *commandsBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.owner.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func shopMonkeyShop(b *commandsBundle) crmShop {
	const loc = "loc-maple"
	b.sandbox.ShopMonkey.AddLocation("sm_key_maple", loc)
	return crmShop{
		kind:     "shopmonkey",
		addFlags: []string{"--crm", "shopmonkey", "--location-id", loc, "--crm-base-url", b.urls.ShopMonkey},
		addLead: func(t *testing.T, created time.Time) (string, string) {
			ref, err := b.sandbox.ShopMonkey.AddLead(loc, fakeshopmonkey.LeadSpec{CreatedAt: created})
			require.NoError(t, err)
			return ref.ExternalID, ref.ID
		},
		addBadLead: func(t *testing.T) string {
			ref, err := b.sandbox.ShopMonkey.AddLead(loc, fakeshopmonkey.LeadSpec{})
			require.NoError(t, err)
			require.NoError(t, b.sandbox.ShopMonkey.Mutate(loc, fakeshopmonkey.Order, ref.ID, func(r map[string]any) { r["customerId"] = "cus_missing" }))
			return ref.ExternalID
		},
		reject: func(t *testing.T) {
			b.sandbox.ShopMonkey.Forbid("sm_key_maple")
			b.sandbox.ShopMonkey.AddLocation("sm_key_maple_2", loc)
		},
		newSecret: "sm_key_maple_2",
	}
}

func tekmetricShop(b *commandsBundle) crmShop {
	const shopID = 238
	return crmShop{
		kind: "tekmetric",
		addFlags: []string{"--crm", "tekmetric", "--location-id", strconv.Itoa(shopID), "--client-id", "oak-client",
			"--crm-base-url", b.urls.Tekmetric},
		addLead: func(t *testing.T, created time.Time) (string, string) {
			ref, err := b.sandbox.Tekmetric.AddLead(shopID, faketekmetric.LeadSpec{CreatedAt: created})
			require.NoError(t, err)
			return ref.ExternalID, ref.ID
		},
		addBadLead: func(t *testing.T) string {
			ref, err := b.sandbox.Tekmetric.AddLead(shopID, faketekmetric.LeadSpec{})
			require.NoError(t, err)
			id, err := strconv.ParseInt(ref.ID, 10, 64)
			require.NoError(t, err)
			require.NoError(t, b.sandbox.Tekmetric.Mutate(shopID, faketekmetric.RepairOrders, id, func(r map[string]any) { r["customerId"] = 999999 }))
			return ref.ExternalID
		},
		reject: func(t *testing.T) {
			require.NoError(t, b.sandbox.Tekmetric.RotateSecret("oak-client", "tk_secret_oak_2"))
			b.sandbox.Tekmetric.RevokeTokens("oak-client")
		},
		newSecret: "tk_secret_oak_2",
	}
}

// TestEveryCommandForEveryCRM runs every enqueue command against a
// ShopMonkey tenant and a Tekmetric tenant, with a worker running what the
// commands insert against the CRM fakes, and checks that each does what
// it says: the tenant commands store and print the tenant of that CRM,
// poll, ingest and backfill get its leads in (ingest was refused for a
// Tekmetric repair-order id, and cancelled for a bare one), messages and
// resend find and send its message, and a CRM that rejects the credentials
// shows in tenant list and show until new ones are given.
func TestEveryCommandForEveryCRM(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		kind string
		shop func(b *commandsBundle) crmShop
	}{{"shopmonkey", shopMonkeyShop}, {"tekmetric", tekmetricShop}} {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setupCommands(t)
			shop := tt.shop(b)
			if shop.kind == "tekmetric" {
				require.NoError(t, b.sandbox.Tekmetric.AddShop(238, "America/Denver", "oak-client", "tk_secret_oak"))
				b.setSecret("SHOP_SECRET", "tk_secret_oak")
			} else {
				b.setSecret("SHOP_SECRET", "sm_key_maple")
			}
			b.setSecret("NEW_SECRET", shop.newSecret)
			const name = "Test Shop"

			// tenant add
			out := b.mustRun(t, append([]string{"tenant", "add", "--name", name, "--secret-env", "SHOP_SECRET",
				"--time-zone", "America/Chicago", "--sms-from", "+15005550006", "--email-from", "service@shop.example.com",
				"--quiet-hours", "00:00-24:00", "--quiet-rule", "none", "--first-reply-without-consent"}, shop.addFlags...)...)
			require.Contains(t, out, "added tenant "+name)
			tenant, err := b.store.FleetFindTenant(ctx, name)
			require.NoError(t, err)
			require.Equal(t, shop.kind, tenant.CRMKind)
			secret, err := b.keys.OpenFor(tenant)
			require.NoError(t, err)
			require.Equal(t, b.env["SHOP_SECRET"], secret.Reveal())

			// tenant list, tenant show
			out = b.mustRun(t, "tenant", "list")
			require.Regexp(t, regexp.MustCompile(tenant.ID.String()+`\s+`+name+`\s+`+shop.kind+`\s+.*\s+-\n`), out)
			out = b.mustRun(t, "tenant", "show", "--tenant", name)
			require.Regexp(t, `crm:\s+`+shop.kind+`\n`, out)
			require.Regexp(t, `attention:\s+none\n`, out)

			// tenant update
			out = b.mustRun(t, "tenant", "update", "--tenant", name, "--poll-interval", "2m")
			require.Regexp(t, `poll interval:\s+1m0s\s+-> 2m0s`, out)
			tenant, err = b.store.GetTenant(ctx, tenant.ID)
			require.NoError(t, err)
			require.Equal(t, 2*time.Minute, tenant.PollInterval)

			// poll: a new lead is ingested and texted.
			polled, _ := shop.addLead(t, time.Time{})
			out = b.mustRun(t, "poll", "--tenant", name)
			require.Contains(t, out, "queued live poll job")
			b.waitIdle(t)
			require.Equal(t, []string{"completed"}, b.jobStates(t, "poll_crm"))
			require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND external_id = $2 AND crm = $3`,
				tenant.ID, polled, shop.kind))
			require.Len(t, b.sandbox.Twilio.Messages(), 1, "the polled lead was texted")

			// ingest: by the CRM's own id and by the bare id from its screen.
			ingested, typed := shop.addLead(t, time.Time{})
			b.mustRun(t, "ingest", "--tenant", name, "--external-id", ingested)
			b.waitIdle(t)
			bare, bareTyped := shop.addLead(t, time.Time{})
			out = b.mustRun(t, "ingest", "--tenant", name, "--external-id", bareTyped)
			require.Contains(t, out, ", "+bare+" (send messages: false)")
			b.waitIdle(t)
			require.NotEqual(t, ingested, typed, "the first ingest names the record as the adapter does, the second as typed from the CRM")
			require.Equal(t, []string{"completed", "completed", "completed"}, b.jobStates(t, "ingest_lead"),
				"the poll's ingest and both of the operator's")
			require.Equal(t, 2, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND external_id IN ($2, $3)`,
				tenant.ID, ingested, bare))

			// backfill: a lead from two days ago comes in, unmessaged.
			old, _ := shop.addLead(t, time.Now().Add(-48*time.Hour))
			out = b.mustRun(t, "backfill", "--tenant", name, "--since", time.Now().Add(-72*time.Hour).UTC().Format(time.RFC3339),
				"--until", time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339))
			require.Contains(t, out, "inserted 2 poll_crm jobs for tenant "+name)
			b.waitIdle(t)
			require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND external_id = $2 AND backfilled`, tenant.ID, old))
			require.Len(t, b.sandbox.Twilio.Messages(), 1, "a backfill messages no one")

			// messages, resend: the polled lead's text, held as ambiguous.
			var leadID, msgID string
			require.NoError(t, b.owner.QueryRow(ctx, `SELECT l.id, m.id FROM leads l JOIN messages m ON m.lead_id = l.id
				WHERE l.external_id = $1 AND m.channel = 'sms'`, polled).Scan(&leadID, &msgID))
			_, err = b.owner.Exec(ctx, `UPDATE messages SET status = 'ambiguous' WHERE id = $1`, msgID)
			require.NoError(t, err)
			out = b.mustRun(t, "messages", "--tenant", name)
			require.Contains(t, out, "1 ambiguous, 0 failed message(s) for "+name)
			require.Contains(t, out, msgID)
			out = b.mustRun(t, "resend", "--tenant", name, "--message-id", msgID)
			require.Contains(t, out, "queued resend of sms")
			b.waitIdle(t)
			require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'sent'`, msgID))

			// A record the CRM cannot complete is refused once, however many
			// polls list it, and tenant show counts it.
			bad := shop.addBadLead(t)
			for range 2 {
				b.mustRun(t, "poll", "--tenant", name)
				b.waitIdle(t)
			}
			require.Equal(t, []string{"cancelled"}, b.jobStatesOf(t, "ingest_lead", bad))
			out = b.mustRun(t, "tenant", "show", "--tenant", name)
			require.Contains(t, out, "note: 1 CRM record(s) were refused as bad input")

			// tenant disable, tenant enable
			b.mustRun(t, "tenant", "disable", "--tenant", name)
			_, _, err = b.run(t, "poll", "--tenant", name)
			require.ErrorContains(t, err, "is disabled")
			b.mustRun(t, "tenant", "enable", "--tenant", name)
			tenant, err = b.store.GetTenant(ctx, tenant.ID)
			require.NoError(t, err)
			require.True(t, tenant.Enabled)

			// The CRM rejects the credentials: the poll is cancelled, and
			// list and show say the tenant needs attention.
			shop.reject(t)
			b.mustRun(t, "poll", "--tenant", name)
			b.waitIdle(t)
			require.Equal(t, []string{"completed", "completed", "completed", "completed", "completed", "cancelled"}, b.jobStates(t, "poll_crm"))
			out = b.mustRun(t, "tenant", "list")
			require.Regexp(t, name+`\s+`+shop.kind+`\s+.*credentials refused since \d{4}-`, out)
			out = b.mustRun(t, "tenant", "show", "--tenant", name)
			require.Regexp(t, `attention:\s+the CRM rejected the credentials since \d{4}-.*crm rejected the credentials.*`+
				regexp.QuoteMeta("`enqueue tenant update --tenant "+tenant.ID.String()+" --secret-env VAR`"), out)
			// New credentials clear it; the next poll takes them.
			out = b.mustRun(t, "tenant", "update", "--tenant", name, "--secret-env", "NEW_SECRET")
			require.Contains(t, out, "-> none: the next poll tries the new ones")
			out = b.mustRun(t, "tenant", "show", "--tenant", name)
			require.Regexp(t, `attention:\s+none\n`, out)
			b.mustRun(t, "poll", "--tenant", name)
			b.waitIdle(t)
			require.Equal(t, "completed", b.jobStates(t, "poll_crm")[6])

			// tenant rotate-keys: the secret is re-sealed with the new
			// first key, and still opens to the same secret.
			keys := b.setKeys(t, newKey(t, "B"), b.env["LEADORCH_CREDENTIALS_KEYS"])
			out = b.mustRun(t, "tenant", "rotate-keys")
			require.Contains(t, out, "re-sealed, key A -> B\n1 re-sealed, 0 already current")
			tenant, err = b.store.GetTenant(ctx, tenant.ID)
			require.NoError(t, err)
			require.Equal(t, "B", tenant.CRMSecret.KeyID)
			secret, err = keys.OpenFor(tenant)
			require.NoError(t, err)
			require.Equal(t, shop.newSecret, secret.Reveal())
			out = b.mustRun(t, "tenant", "show", "--tenant", name)
			require.Regexp(t, `crm secret:\s+sealed with key B\n`, out)
			require.NotContains(t, out, "not the current key")
		})
	}
}
