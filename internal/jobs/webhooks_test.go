package jobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// The intake and the tenant lookup are the webhook routes' ports.
var (
	_ httpapi.Intake       = (*jobs.WebhookIntake)(nil)
	_ httpapi.TenantLookup = jobs.WebhookTenants{}
)

const (
	shopMonkeyWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	tekmetricWebhookToken   = "tok_3f9a0c2e7b"
)

// webhookBundle is the pipeline with the worker's HTTP routes in front of
// it, on a real server, as Twilio and the CRMs would call it.
type webhookBundle struct {
	*testBundle
	server *httptest.Server
	client *river.Client[pgx.Tx]
	intake *jobs.WebhookIntake
}

func setupWebhooks(t *testing.T) *webhookBundle {
	t.Helper()
	return newWebhookBundle(t, setup(t))
}

// newWebhookBundle serves the webhook routes (Twilio's, the CRMs' and
// SendGrid's events) in front of b's pipeline.
func newWebhookBundle(t *testing.T, b *testBundle) *webhookBundle {
	t.Helper()
	// Polls would find the leads too; a long schedule leaves the webhooks
	// (and the polls a test inserts itself) the only way in.
	client := b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Hour})
	// The shipped intake limit (config's defaults): no test here comes
	// near it but the one that floods (webhook_flood_test.go).
	defaults := config.Default().Webhooks
	intake := &jobs.WebhookIntake{Pool: b.deps.Pool, Client: client, Logger: b.deps.Logger,
		IntakePerMinute: defaults.IntakePerMinute, IntakeBurst: defaults.IntakeBurst}
	wb := &webhookBundle{testBundle: b, client: client, intake: intake}
	// The Twilio signature covers the public URL, known once the server
	// listens.
	wb.server = httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(wb.server.Close)
	events, err := sendgrid.NewEventWebhook(fakesendgrid.WebhookPublicKey)
	require.NoError(t, err)
	inbound, err := sendgrid.NewInboundWebhook(fakesendgrid.InboundPublicKey)
	require.NoError(t, err)
	handler, err := httpapi.NewHandler(httpapi.Opts{
		Logger:       b.deps.Logger,
		Ready:        func(*http.Request) error { return nil },
		Intake:       intake,
		Tenants:      jobs.WebhookTenants{Pool: b.deps.Pool, Keys: b.keys},
		CRMKinds:     b.deps.CRM,
		SMS:          twilio.NewWebhooks(faketwilio.DefaultAuthToken),
		PublicURL:    wb.server.URL,
		EmailEvents:  events,
		Voice:        twilio.NewWebhooks(faketwilio.DefaultAuthToken),
		InboundEmail: inbound,
		Calls:        intake,
	})
	require.NoError(t, err)
	wb.server.Config.Handler = handler
	return wb
}

// withWebhookCredentials gives a shop its ShopMonkey signing secret and its
// Tekmetric URL token.
func (b *webhookBundle) withWebhookCredentials(t *testing.T, tenant lead.Tenant) {
	t.Helper()
	sealed, err := b.keys.SealWebhook(tenant.ID, shopMonkeyWebhookSecret)
	require.NoError(t, err)
	hash := sha256.Sum256([]byte(tekmetricWebhookToken))
	require.NoError(t, b.store.SetTenantWebhookCredentials(context.Background(), tenant.ID, &sealed, hash[:]))
}

// TestShopMonkeyWebhook: a signed webhook for a new estimate gets its
// customer texted without waiting for a poll; a redelivery (same
// webhook-id) enqueues nothing more; a bad signature is 401 and enqueues
// nothing.
func TestShopMonkeyWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addShop(t, "hook")
	b.withWebhookCredentials(t, shop)
	refs := b.addLeads(t, shop, 1)
	record, ok := b.sandbox.ShopMonkey.Record(shop.CRMLocationID, fakeshopmonkey.Order, refs[0].ID)
	require.True(t, ok)
	url := webhookurl.URL(b.server.URL, webhookurl.CRM("shopmonkey", shop.ID.String(), ""))

	body, err := json.Marshal(map[string]any{"apiVersion": "v3", "operation": "INSERT", "table": "order", "data": record})
	require.NoError(t, err)
	post := func(h http.Header) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	h := fakeshopmonkey.SignWebhook(shopMonkeyWebhookSecret, "msg_1", time.Now(), body)
	start := time.Now()
	require.Equal(t, http.StatusOK, post(h))
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 }, 10*time.Second, 10*time.Millisecond)
	t.Logf("webhook to text accepted: %s", time.Since(start))

	require.Equal(t, http.StatusOK, post(h), "a redelivery is acknowledged")
	wrong := fakeshopmonkey.SignWebhook("whsec_"+strings.Repeat("A", 32), "msg_2", time.Now(), body)
	require.Equal(t, http.StatusUnauthorized, post(wrong))
	stale := fakeshopmonkey.SignWebhook(shopMonkeyWebhookSecret, "msg_3", time.Now().Add(-10*time.Minute), body)
	require.Equal(t, http.StatusUnauthorized, post(stale))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead'`), "one ingest for one delivery")

	// Another shop's id in the URL with this shop's signature: refused.
	other := b.addShop(t, "other")
	url = webhookurl.URL(b.server.URL, webhookurl.CRM("shopmonkey", other.ID.String(), ""))
	require.Equal(t, http.StatusUnauthorized, post(fakeshopmonkey.SignWebhook(shopMonkeyWebhookSecret, "msg_4", time.Now(), body)))
}

// TestTekmetricWebhook: the token in the URL is the secret; a wrong token
// is 401; the record is fetched again by id and its customer texted.
func TestTekmetricWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addTekmetricShop(t, "tekhook", 31, nil)
	b.withWebhookCredentials(t, shop)
	ref, err := b.sandbox.Tekmetric.AddLead(31, faketekmetric.LeadSpec{})
	require.NoError(t, err)

	tokenURL := func(token string) string {
		return webhookurl.URL(b.server.URL, webhookurl.CRM("tekmetric", shop.ID.String(), token))
	}
	err = faketekmetric.PostWebhook(ctx, http.DefaultClient, tokenURL("wrong-token"), "Repair Order Created", map[string]any{"id": json.Number(ref.ID)})
	require.ErrorContains(t, err, "401")
	require.NoError(t, faketekmetric.PostWebhook(ctx, http.DefaultClient, tokenURL(tekmetricWebhookToken), "Repair Order Created", map[string]any{"id": json.Number(ref.ID)}))
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND external_id = $2`, shop.ID, ref.ExternalID))
}

// inboundFixture is a shop with one lead that was texted and has its
// follow-ups scheduled.
func (b *webhookBundle) inboundFixture(t *testing.T, notify string) (lead.Tenant, lead.Lead) {
	t.Helper()
	ctx := context.Background()
	shop := b.addShop(t, "inbound")
	shop.NotifyEmail = notify
	shop, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)
	b.addLeads(t, shop, 1)
	// The poll that finds the lead, inserted by hand (no schedule).
	_, err = b.client.Insert(ctx, jobs.PollCRMArgs{TenantID: shop.ID, Live: true, SendMessages: true,
		Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 }, 15*time.Second, 10*time.Millisecond)
	var id uuid.UUID
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM leads WHERE tenant_id = $1`, shop.ID).Scan(&id))
	l, err := b.store.GetLead(ctx, shop.ID, id)
	require.NoError(t, err)
	require.Positive(t, b.pendingSteps(t, id), "follow-ups are scheduled")
	return shop, l
}

func (b *webhookBundle) pendingSteps(t *testing.T, leadID uuid.UUID) int {
	return b.count(t, `SELECT count(*) FROM river_job WHERE kind IN ('send_sms', 'send_email') AND args->>'lead_id' = $1
		AND state IN ('scheduled', 'available', 'retryable')`, leadID.String())
}

func (b *webhookBundle) text(t *testing.T, shop lead.Tenant, from lead.PhoneNumber, body string) {
	t.Helper()
	_, err := faketwilio.PostInbound(context.Background(), http.DefaultClient,
		webhookurl.URL(b.server.URL, webhookurl.TwilioSMS(shop.ID.String())), faketwilio.DefaultAuthToken, string(from), shop.SMSFrom, body)
	require.NoError(t, err)
}

// TestInboundReplyStopsTheSequence: a customer's reply marks the lead
// replied, cancels its pending steps in the same transaction, and emails
// the shop the reply.
func TestInboundReplyStopsTheSequence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop, l := b.inboundFixture(t, "desk@inbound.example.com")

	b.text(t, shop, l.Phone, "Yes please, can you do Tuesday?")
	require.Eventually(t, func() bool {
		got, err := b.store.GetLead(ctx, shop.ID, l.ID)
		require.NoError(t, err)
		return got.Status == lead.StatusReplied
	}, 10*time.Second, 10*time.Millisecond)
	require.Zero(t, b.pendingSteps(t, l.ID), "every pending step cancelled")
	require.Eventually(t, func() bool {
		for _, e := range b.sandbox.SendGrid.Emails() {
			if e.To == "desk@inbound.example.com" {
				require.Contains(t, e.Text, "can you do Tuesday?")
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the shop is told")
	got, err := b.store.GetLead(ctx, shop.ID, l.ID)
	require.NoError(t, err)
	require.False(t, got.RepliedAt.IsZero())

	// An unsigned (forged) reply is refused and changes nothing.
	resp, err := http.PostForm(webhookurl.URL(b.server.URL, webhookurl.TwilioSMS(shop.ID.String())), map[string][]string{
		"MessageSid": {"SMforged"}, "From": {string(l.Phone)}, "To": {shop.SMSFrom}, "Body": {"STOP"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Zero(t, b.count(t, `SELECT count(*) FROM suppressions`))
}

// TestInboundStopHelpStart: HELP gets the shop's help text at once; STOP
// suppresses the number, moves the lead to opted_out and cancels its
// pending texts; START lifts the suppression and lets texts go again.
func TestInboundStopHelpStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop, l := b.inboundFixture(t, "")

	b.text(t, shop, l.Phone, "help")
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 2 }, 10*time.Second, 10*time.Millisecond)
	msgs := b.sandbox.Twilio.Messages()
	require.Contains(t, msgs[1].Body, "Reply STOP to opt out", "the help text")
	require.Equal(t, string(l.Phone), msgs[1].To)

	b.text(t, shop, l.Phone, "STOP")
	require.Eventually(t, func() bool {
		ok, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(l.Phone))
		require.NoError(t, err)
		return ok
	}, 10*time.Second, 10*time.Millisecond)
	got, err := b.store.GetLead(ctx, shop.ID, l.ID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusOptedOut, got.Status)
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_sms' AND args->>'lead_id' = $1
		AND state IN ('scheduled', 'available', 'retryable')`, l.ID.String()), "pending texts cancelled")

	b.text(t, shop, l.Phone, "Start")
	require.Eventually(t, func() bool {
		ok, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(l.Phone))
		require.NoError(t, err)
		return !ok
	}, 10*time.Second, 10*time.Millisecond)
	got, err = b.store.GetLead(ctx, shop.ID, l.ID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusContacted, got.Status, "texts may go again")
	require.Equal(t, 3, b.count(t, `SELECT count(*) FROM inbound_messages WHERE tenant_id = $1`, shop.ID))
}

// TestStopDuringAnInterruptedSend: the customer texts STOP while their
// first text's send is interrupted (Twilio took it, then answered 500).
// The STOP must not cancel the retry that finds out: it runs, finds the
// text at Twilio and records it as sent, and nothing more goes to the
// number. (Found by make chaos: cancelling such retries left texts the
// provider had unrecorded.)
func TestStopDuringAnInterruptedSend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addShop(t, "interrupted")
	leadID := b.newLead(t, shop, 7)
	l, err := b.store.GetLead(ctx, shop.ID, leadID)
	require.NoError(t, err)

	b.sandbox.Twilio.AddFault(fake.Fault{Status: 500, After: true, Count: 1})
	res, err := b.client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		j, err := b.client.JobGet(ctx, res.Job.ID)
		require.NoError(t, err)
		return j.Attempt == 1 && (j.State == rivertype.JobStateRetryable || j.State == rivertype.JobStateAvailable)
	}, 10*time.Second, 10*time.Millisecond, "the send failed ambiguously and waits to retry")
	require.Equal(t, 1, b.sandbox.Stats().SMS, "Twilio has the text")

	b.text(t, shop, l.Phone, "STOP")
	require.Eventually(t, func() bool {
		ok, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(l.Phone))
		require.NoError(t, err)
		return ok
	}, 10*time.Second, 10*time.Millisecond)

	// The retry runs and reconciles.
	final := waitFinal(t, b.client, res.Job.ID)
	require.Equal(t, rivertype.JobStateCompleted, final.State)
	m := b.message(t, shop.ID, leadID, lead.ChannelSMS)
	require.Equal(t, lead.MessageSent, m.Status, "recorded: Twilio has it")
	require.NotEmpty(t, m.ProviderID)
	require.Equal(t, 1, b.sandbox.Stats().SMS, "and nothing more went")
}

// TestBookingStopsTheSequence: the shop books the customer in its CRM,
// either by converting their estimate (authorized, now a repair order) or
// by making them an appointment by hand; the signed webhook names the
// record, ingest fetches it again, the lead is marked booked and its
// pending follow-ups are cancelled. Neither record is a lead itself.
func TestBookingStopsTheSequence(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"EstimateConverted", "StaffAppointment"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := setupWebhooks(t)
			shop, l := b.inboundFixture(t, "")
			b.withWebhookCredentials(t, shop)
			_, orderID, _ := strings.Cut(l.ExternalID, ":")
			table, recordID := fakeshopmonkey.Order, orderID
			operation := "UPDATE"
			switch how {
			case "EstimateConverted":
				require.NoError(t, b.sandbox.ShopMonkey.Mutate(shop.CRMLocationID, fakeshopmonkey.Order, orderID, func(r map[string]any) { r["authorized"] = true }))
				require.NoError(t, b.sandbox.ShopMonkey.SetOrderStatus(shop.CRMLocationID, orderID, "RepairOrder"))
			case "StaffAppointment":
				ref, err := b.sandbox.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{Kind: "appointment",
					CustomerID: l.CustomerExternalID, AttributionSource: "Manual"})
				require.NoError(t, err)
				table, recordID, operation = fakeshopmonkey.Appointment, ref.ID, "INSERT"
			}
			record, ok := b.sandbox.ShopMonkey.Record(shop.CRMLocationID, table, recordID)
			require.True(t, ok)
			require.NoError(t, fakeshopmonkey.PostWebhook(ctx, http.DefaultClient, webhookurl.URL(b.server.URL, webhookurl.CRM("shopmonkey", shop.ID.String(), "")),
				shopMonkeyWebhookSecret, operation, string(table), record))

			require.Eventually(t, func() bool {
				got, err := b.store.GetLead(ctx, shop.ID, l.ID)
				require.NoError(t, err)
				return got.Status == lead.StatusBooked
			}, 10*time.Second, 10*time.Millisecond)
			require.Zero(t, b.pendingSteps(t, l.ID), "the booking stopped every pending step")
			require.Equal(t, 1, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID), "the booking is not a lead")
		})
	}
}

// TestTwilioStatusCallback: Twilio's signed delivery callbacks update the
// outbox row; a late or repeated earlier status never moves a final one
// back; an unsigned callback is refused.
func TestTwilioStatusCallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addShop(t, "status")
	leadID := b.newLead(t, shop, 9)
	res, err := b.client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, b.client, res.Job.ID).State)
	m := b.message(t, shop.ID, leadID, lead.ChannelSMS)
	url := webhookurl.URL(b.server.URL, webhookurl.TwilioStatus(shop.ID.String()))

	post := func(status string, code int) {
		t.Helper()
		require.NoError(t, faketwilio.PostStatus(ctx, http.DefaultClient, url, faketwilio.DefaultAuthToken, m.ProviderID, status, code))
	}
	deliveryOf := func() (string, string) {
		var status, delivery string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT status, delivery_status FROM messages WHERE id = $1`, m.ID).Scan(&status, &delivery))
		return status, delivery
	}
	post("delivered", 0)
	require.Eventually(t, func() bool { s, d := deliveryOf(); return s == "delivered" && d == "delivered" }, 10*time.Second, 10*time.Millisecond)
	post("sent", 0) // out of order: an earlier status, late
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'record_sms_status'`), "both callbacks queued")
	b.settled(t, "record_sms_status")
	_, d := deliveryOf()
	require.Equal(t, "delivered", d, "a final status stays")

	resp, err := http.PostForm(url, map[string][]string{"MessageSid": {m.ProviderID}, "MessageStatus": {"failed"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestInboundAcrossLeadsAndOrder: a customer with two leads (one number)
// replies: both leads stop. Their STOP and START handled in the wrong
// order (the START's job ran late) leave the number as they last said:
// STOP. And a customer who replied, then opted out and back in, stays
// replied: follow-ups do not restart.
func TestInboundAcrossLeadsAndOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop, first := b.inboundFixture(t, "")
	second, _, err := b.store.UpsertLead(ctx, shop.ID, lead.Lead{CRM: "shopmonkey", ExternalID: "order:second", Source: lead.SourceEstimate,
		Status: lead.StatusContacted, FirstName: "Ann", Phone: first.Phone, Consent: lead.Consent{SMS: true}}, false)
	require.NoError(t, err)

	b.text(t, shop, first.Phone, "Sounds good")
	require.Eventually(t, func() bool {
		a, err := b.store.GetLead(ctx, shop.ID, first.ID)
		require.NoError(t, err)
		c, err := b.store.GetLead(ctx, shop.ID, second)
		require.NoError(t, err)
		return a.Status == lead.StatusReplied && c.Status == lead.StatusReplied
	}, 10*time.Second, 10*time.Millisecond, "both of the customer's leads replied")
	require.Zero(t, b.pendingSteps(t, first.ID))

	// STOP then START, as the customer texted them; then a STOP whose job
	// ran late (received earlier than the START) must not win.
	stopAt := time.Now().Add(-time.Minute)
	start := messaging.InboundText{ProviderID: "SMstart", From: string(first.Phone), To: shop.SMSFrom, Body: "START", ReceivedAt: time.Now()}
	stop := messaging.InboundText{ProviderID: "SMstop", From: string(first.Phone), To: shop.SMSFrom, Body: "STOP", ReceivedAt: stopAt}
	for _, m := range []messaging.InboundText{start, stop} {
		require.Equal(t, rivertype.JobStateCompleted, b.receive(t, shop, m).State)
	}
	suppressed, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(first.Phone))
	require.NoError(t, err)
	require.False(t, suppressed, "the customer's last word was START")

	// Opted out for real, then back in: the lead was replied, and stays so.
	b.text(t, shop, first.Phone, "STOP")
	require.Eventually(t, func() bool {
		a, err := b.store.GetLead(ctx, shop.ID, first.ID)
		require.NoError(t, err)
		return a.Status == lead.StatusOptedOut
	}, 10*time.Second, 10*time.Millisecond)
	b.text(t, shop, first.Phone, "START")
	require.Eventually(t, func() bool {
		ok, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(first.Phone))
		require.NoError(t, err)
		return !ok
	}, 10*time.Second, 10*time.Millisecond)
	a, err := b.store.GetLead(ctx, shop.ID, first.ID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusReplied, a.Status, "back in after a reply: still replied, no follow-ups")
}

// receive takes a text through the intake, as the Twilio route does, and
// waits for its job to finish.
func (b *webhookBundle) receive(t *testing.T, shop lead.Tenant, m messaging.InboundText) *rivertype.JobRow {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, b.intake.Inbound(ctx, shop.ID, m))
	var jobID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT j.id FROM river_job j JOIN inbound_messages i ON j.args->>'inbound_id' = i.id::text
		WHERE j.kind = 'handle_inbound_message' AND i.tenant_id = $1 AND i.provider_id = $2`, shop.ID, m.ProviderID).Scan(&jobID))
	return waitFinal(t, b.client, jobID)
}
