package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// TestIngestRefusesANumberOutsideTheShopsRegions: a US-only shop's lead
// whose CRM phone is Canadian, and one whose phone is no number in use
// (the 555 area code the fixtures used before libphonenumber), keep their
// leads, are emailed and never texted, and their leads name why.
func TestIngestRefusesANumberOutsideTheShopsRegions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addShop(t, "usonly")
	shop.Compliance.PhoneRegions = []string{"US"}
	shop, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)

	canadian, err := b.sandbox.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{
		FirstName: "Zoe", Phone: "(416) 201-3344", Email: "zoe@example.com"})
	require.NoError(t, err)
	madeUp, err := b.sandbox.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{
		FirstName: "Max", Phone: "(555) 201-3344", Email: "max@example.com"})
	require.NoError(t, err)
	texted, err := b.sandbox.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{
		FirstName: "Ann", Phone: "312.201.3345", Email: "ann@example.com"})
	require.NoError(t, err)

	client := b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Hour})
	_, err = client.Insert(ctx, jobs.PollCRMArgs{TenantID: shop.ID, Live: true, SendMessages: true,
		Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND finalized_at IS NOT NULL`) == 3 &&
			b.sandbox.Stats().Emails == 3
	}, 30*time.Second, 50*time.Millisecond)
	b.settled(t, "ingest_lead", "send_sms", "send_email")

	for externalID, want := range map[string]string{
		canadian.ExternalID: "invalid customer.phone: is a number of CA, not of the shop's phone regions (US)",
		madeUp.ExternalID:   "invalid customer.phone: is not a number in use in North America (area code 555, or its exchange, is not in use)",
		texted.ExternalID:   "",
	} {
		var phone, problem string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(phone, ''), contact_problem FROM leads WHERE tenant_id = $1 AND external_id = $2`,
			shop.ID, externalID).Scan(&phone, &problem))
		require.Equal(t, want, problem, externalID)
		if want != "" {
			require.Empty(t, phone, externalID)
		}
	}
	msgs := b.sandbox.Twilio.Messages()
	require.Len(t, msgs, 1, "only the number valid in the shop's regions is texted")
	require.Equal(t, "+13122013345", msgs[0].To)
}

// TestMissedCallFromOutsideTheShopsRegions: a caller whose number is not
// one of the shop's regions is recorded, in E.164, and becomes no lead and
// gets no text.
func TestMissedCallFromOutsideTheShopsRegions(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.callShop(t, "uscalls", func(tn *lead.Tenant) { tn.Compliance.PhoneRegions = []string{"US"} })
	const caller = lead.PhoneNumber("+14162013344")
	b.call(t, shop, caller, "no-answer")
	b.settled(t, missedCallKinds...)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM calls WHERE tenant_id = $1 AND from_number = $2 AND handled_at IS NOT NULL`, shop.ID, string(caller)))
	require.Zero(t, b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1`, shop.ID))
	require.Empty(t, b.textsTo(caller))

	// The same call to a shop that texts Canada too is answered.
	open := b.callShop(t, "nacalls", func(tn *lead.Tenant) { tn.Compliance.PhoneRegions = []string{"US", "CA"} })
	b.call(t, open, caller, "no-answer")
	require.Eventually(t, func() bool { return len(b.textsTo(caller)) == 1 }, 15*time.Second, 10*time.Millisecond)
}

// TestStopFromANumberTheDataDoesNotKnow: a STOP is honoured from any
// sender Twilio hands us, whether or not libphonenumber's data knows the
// number (a lead parsed under older data, an area code opened since), so
// the number is suppressed in the E.164 form leads hold.
func TestStopFromANumberTheDataDoesNotKnow(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.addShop(t, "stopany")
	b.text(t, shop, "+15552013344", "STOP")
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM suppressions WHERE tenant_id = $1 AND channel = 'sms' AND address = '+15552013344'`, shop.ID) == 1
	}, 15*time.Second, 10*time.Millisecond)
}
