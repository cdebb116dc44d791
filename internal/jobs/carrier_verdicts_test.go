package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// setupCarrier is setupWebhooks with the jobs' metrics recorded on m.
func setupCarrier(t *testing.T) (*webhookBundle, *metrics.Metrics) {
	t.Helper()
	b := setup(t)
	m := metrics.New(metrics.Opts{})
	b.deps.Metrics = m
	return newWebhookBundle(t, b), m
}

// phoneOf is newLead's number for n.
func phoneOf(n int) lead.PhoneNumber { return lead.PhoneNumber(fmt.Sprintf("+1512555%04d", n)) }

// textAndReport sends lead n of shop its first text through the real
// sender and the fake Twilio, then posts the signed status callback Twilio
// would send for it (delivered, or what CarrierRefuses set) through the
// webhook route, and waits until it is recorded.
func (b *webhookBundle) textAndReport(t *testing.T, shop lead.Tenant, n int) lead.Message {
	t.Helper()
	id := b.newLead(t, shop, n)
	require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, b.client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: id, Step: jobs.StepInitial}).State)
	m := b.message(t, shop.ID, id, lead.ChannelSMS)
	b.report(t, shop, m)
	return m
}

// report posts the fake's final status of m as Twilio's status callback
// and waits for it to be recorded.
func (b *webhookBundle) report(t *testing.T, shop lead.Tenant, m lead.Message) {
	t.Helper()
	status, code, ok := b.sandbox.Twilio.FinalStatus(m.ProviderID)
	require.True(t, ok, "Twilio has %s", m.ProviderID)
	url := webhookurl.URL(b.server.URL, webhookurl.TwilioStatus(shop.ID.String()))
	require.NoError(t, faketwilio.PostStatus(context.Background(), http.DefaultClient, url, faketwilio.DefaultAuthToken, m.ProviderID, status, code))
	b.settled(t, "record_sms_status")
}

func (b *webhookBundle) carrierFlag(t *testing.T, tenantID uuid.UUID) store.CarrierAttention {
	t.Helper()
	a, err := b.store.GetCarrierAttention(context.Background(), tenantID)
	require.NoError(t, err)
	return a
}

// fleetFlags is what /metrics reads of the tenant.
func (b *webhookBundle) fleetFlags(t *testing.T, tenantID uuid.UUID) store.TenantStats {
	t.Helper()
	fs, err := b.store.FleetStats(context.Background(), nil)
	require.NoError(t, err)
	for _, ts := range fs.Tenants {
		if ts.TenantID == tenantID {
			return ts
		}
	}
	t.Fatalf("tenant %s is not in the fleet's figures", tenantID)
	return store.TenantStats{}
}

// TestLandlineFromStatusCallback: a 30006 (landline or unreachable carrier)
// in Twilio's status callback suppresses the number for the tenant (source
// carrier) and records a contact problem on every lead of it, shown in the
// thread; no later text to it reaches Twilio (the next step and another
// lead's first text are suppressed), and email goes on.
func TestLandlineFromStatusCallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, reg := setupCarrier(t)
	shop := b.addShop(t, "landline")
	phone := phoneOf(1)
	b.sandbox.Twilio.CarrierRefuses(string(phone), 30006)
	other, _, err := b.store.UpsertLead(ctx, shop.ID, fixture.Lead("order:other", func(l *lead.Lead) {
		l.Phone, l.Consent = phone, lead.Consent{SMS: true, Email: true}
	}), false)
	require.NoError(t, err)

	m := b.textAndReport(t, shop, 1)
	require.Len(t, b.textsTo(phone), 1)

	var reason, source string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT reason, source FROM suppressions WHERE tenant_id = $1 AND channel = 'sms' AND address = $2`,
		shop.ID, string(phone)).Scan(&reason, &source))
	require.Equal(t, "carrier", source)
	require.Contains(t, reason, "landline")
	require.Contains(t, reason, "30006")
	for _, id := range []uuid.UUID{m.LeadID, other} {
		l, err := b.store.GetLead(ctx, shop.ID, id)
		require.NoError(t, err)
		require.Contains(t, l.ContactProblem, "cannot receive texts", "lead %s", id)
		require.Contains(t, l.ContactProblem, "30006")
	}
	th, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{LeadID: m.LeadID})
	require.NoError(t, err)
	var shown bool
	for _, e := range th.Events {
		shown = shown || (e.Kind == store.ThreadSuppressed && e.Channel == "sms" && e.Reason == reason+" (carrier)")
	}
	require.True(t, shown, "the thread shows the number's suppression: %+v", th.Events)

	// No further text is paid for: the lead's next step and the other
	// lead's first text stop at the guard.
	require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, b.client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: m.LeadID, Step: "day1"}).State)
	require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, b.client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: other, Step: jobs.StepInitial}).State)
	require.Len(t, b.textsTo(phone), 1, "no text after the verdict")
	require.Equal(t, lead.MessageSuppressed, b.message(t, shop.ID, other, lead.ChannelSMS).Status)

	// Email is another channel: it goes on.
	require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, b.client, jobs.SendEmailArgs{TenantID: shop.ID, LeadID: m.LeadID, Step: jobs.StepInitial}).State)
	require.Equal(t, lead.MessageSent, b.message(t, shop.ID, m.LeadID, lead.ChannelEmail).Status)

	// One landline is no filtering of the shop's texts.
	require.Empty(t, b.carrierFlag(t, shop.ID).Reason)
	require.Equal(t, 1.0, metricValue(t, reg, "leadorch_sms_carrier_verdicts_total", map[string]string{"verdict": "landline"}))
}

// TestLandlineAtCreate: Twilio's synchronous 21614 (not a mobile number)
// fails the text for good and marks the number not textable, as 30006
// does.
func TestLandlineAtCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, reg := setupCarrier(t)
	shop := b.addShop(t, "notmobile")
	phone := phoneOf(2)
	b.sandbox.Twilio.Landline(string(phone))
	id := b.newLead(t, shop, 2)
	require.Equal(t, rivertype.JobStateCancelled, insertAndWait(t, b.client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: id, Step: jobs.StepInitial}).State)
	m := b.message(t, shop.ID, id, lead.ChannelSMS)
	require.Equal(t, lead.MessageFailed, m.Status)
	require.Contains(t, m.LastError, "21614")
	suppressed, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(phone))
	require.NoError(t, err)
	require.True(t, suppressed)
	l, err := b.store.GetLead(ctx, shop.ID, id)
	require.NoError(t, err)
	require.Contains(t, l.ContactProblem, "code 21614")
	require.Empty(t, b.textsTo(phone))
	require.Equal(t, 1.0, metricValue(t, reg, "leadorch_sms_carrier_verdicts_total", map[string]string{"verdict": "landline"}))
}

// TestCarrierFilteringFlagsTenant: 3 of the tenant's latest texts filtered
// as spam (30007) flag it as needing attention, for a reason of its own in
// the fleet's figures (not the CRM's credentials flag); 5 delivered texts in
// a row clear it, and only new refusals flag it again.
func TestCarrierFilteringFlagsTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, reg := setupCarrier(t)
	shop := b.addShop(t, "filtered")
	n := 10
	send := func(code int) {
		t.Helper()
		n++
		b.sandbox.Twilio.CarrierRefuses(string(phoneOf(n)), code)
		b.textAndReport(t, shop, n)
	}
	send(0)
	send(0)
	send(30007)
	send(30007)
	require.Empty(t, b.carrierFlag(t, shop.ID).Reason, "2 filtered of 4 is not yet a pattern")
	send(30007)
	flag := b.carrierFlag(t, shop.ID)
	require.Contains(t, flag.Reason, "3 of the last 5 texts")
	require.Contains(t, flag.Reason, "codes 30007")
	require.False(t, flag.Since.IsZero())
	ts := b.fleetFlags(t, shop.ID)
	require.True(t, ts.CarrierFiltering)
	require.False(t, ts.CredentialsRejected, "the CRM's flag is not the carrier's")
	got, err := b.store.GetTenant(ctx, shop.ID)
	require.NoError(t, err)
	require.False(t, got.NeedsAttention, "polls are not backed off for a carrier's verdict")

	for range 4 {
		send(0)
	}
	require.Equal(t, flag, b.carrierFlag(t, shop.ID), "4 delivered in a row: still flagged")
	send(0)
	require.Empty(t, b.carrierFlag(t, shop.ID).Reason, "5 delivered in a row clear it")
	require.False(t, b.fleetFlags(t, shop.ID).CarrierFiltering)

	// The old refusals are still among the last 20; a delivered text does
	// not flag it again, a new refusal does.
	send(0)
	require.Empty(t, b.carrierFlag(t, shop.ID).Reason)
	send(30007)
	require.Contains(t, b.carrierFlag(t, shop.ID).Reason, "4 of the last 12 texts")
	require.Equal(t, 4.0, metricValue(t, reg, "leadorch_sms_carrier_verdicts_total", map[string]string{"verdict": "filtered"}))
}

// TestUnregisteredSenderFlagsAtOnce: a single 30034 (the number is not in
// an approved 10DLC campaign) flags the tenant; the CRM's own flag, raised
// and cleared by its own rules, neither clears it nor is cleared by it.
func TestUnregisteredSenderFlagsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addShop(t, "unregistered")
	b.sandbox.Twilio.CarrierRefuses(string(phoneOf(40)), 30034)
	b.textAndReport(t, shop, 40)
	require.Contains(t, b.carrierFlag(t, shop.ID).Reason, "not registered")
	require.Contains(t, b.carrierFlag(t, shop.ID).Reason, "codes 30034")

	_, err := b.store.MarkTenantNeedsAttention(ctx, shop.ID, "401 from the CRM", time.Now(), 0)
	require.NoError(t, err)
	cleared, err := b.store.ClearTenantAttention(ctx, shop.ID) // a poll succeeded
	require.NoError(t, err)
	require.True(t, cleared)
	require.NotEmpty(t, b.carrierFlag(t, shop.ID).Reason, "a working CRM key says nothing of the carriers")

	_, err = b.store.MarkTenantNeedsAttention(ctx, shop.ID, "401 from the CRM", time.Now(), 0)
	require.NoError(t, err)
	for i := range 5 {
		b.textAndReport(t, shop, 41+i)
	}
	require.Empty(t, b.carrierFlag(t, shop.ID).Reason)
	got, err := b.store.GetTenant(ctx, shop.ID)
	require.NoError(t, err)
	require.True(t, got.NeedsAttention, "the CRM's flag stays until its own rule clears it")
	ts := b.fleetFlags(t, shop.ID)
	require.True(t, ts.CredentialsRejected)
	require.False(t, ts.CarrierFiltering)
}

// TestCarrierVerdictFromSimulator: the sandbox's simulator plays a
// carrier's 30006 on the last text to a number, posting Twilio's signed
// status callback to the StatusCallback the text carried (as a worker with
// http.public_url sets it): the worker suppresses the number.
func TestCarrierVerdictFromSimulator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	var base atomic.Pointer[string]
	b.deps.StatusCallbackURL = func(tenantID uuid.UUID) string {
		return webhookurl.URL(*base.Load(), webhookurl.TwilioStatus(tenantID.String()))
	}
	empty := ""
	base.Store(&empty)
	wb := newWebhookBundle(t, b)
	url := wb.server.URL
	base.Store(&url)
	shop := wb.addShop(t, "simulated")
	id := wb.newLead(t, shop, 60)
	require.Equal(t, rivertype.JobStateCompleted, insertAndWait(t, wb.client, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: id, Step: jobs.StepInitial}).State)
	m := wb.message(t, shop.ID, id, lead.ChannelSMS)

	report, err := wb.sandbox.Simulator.CarrierVerdict(ctx, string(phoneOf(60)), 30006)
	require.NoError(t, err)
	require.Equal(t, m.ProviderID, report.MessageSID)
	require.Equal(t, "undelivered", report.Status)
	require.Equal(t, webhookurl.URL(url, webhookurl.TwilioStatus(shop.ID.String())), report.URL, "the text's own StatusCallback")
	status, code, _ := wb.sandbox.Twilio.FinalStatus(m.ProviderID)
	require.Equal(t, "undelivered", status, "the fake's message agrees with the callback")
	require.Equal(t, 30006, code)
	wb.settled(t, "record_sms_status")
	suppressed, err := wb.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(phoneOf(60)))
	require.NoError(t, err)
	require.True(t, suppressed)

	_, err = wb.sandbox.Simulator.CarrierVerdict(ctx, "+15125559999", 30006)
	require.ErrorContains(t, err, "no text to +15125559999")
}
