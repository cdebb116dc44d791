package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// optOutKinds are the jobs an inbound text sets going.
var optOutKinds = []string{"handle_inbound_message", "send_sms", "send_email", "notify_shop", "ingest_lead", "poll_crm"}

// optOutFixture is a shop whose customer got their first text, with the
// CRM records behind the lead, so a test can bring the same customer back
// with a new estimate.
func (b *webhookBundle) optOutFixture(t *testing.T) (lead.Tenant, lead.Lead, fake.LeadRef) {
	t.Helper()
	ctx := context.Background()
	shop := b.addShop(t, "optout")
	shop.NotifyEmail = "desk@optout.example.com"
	shop, err := b.store.UpdateTenant(ctx, shop, nil)
	require.NoError(t, err)
	ref := b.addLeads(t, shop, 1)[0]
	b.pollNow(t, shop)
	require.Eventually(t, func() bool { return b.sandbox.Stats().SMS == 1 }, 15*time.Second, 10*time.Millisecond)
	var id uuid.UUID
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM leads WHERE tenant_id = $1`, shop.ID).Scan(&id))
	l, err := b.store.GetLead(ctx, shop.ID, id)
	require.NoError(t, err)
	require.Positive(t, b.pendingSteps(t, id), "follow-ups are scheduled")
	return shop, l, ref
}

// pollNow inserts the poll that finds the shop's new leads (there is no
// schedule in these tests).
func (b *webhookBundle) pollNow(t *testing.T, shop lead.Tenant) {
	t.Helper()
	_, err := b.client.Insert(context.Background(), jobs.PollCRMArgs{TenantID: shop.ID, Live: true, SendMessages: true,
		Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}, nil)
	require.NoError(t, err)
}

// scalar is the one text value sql returns.
func (b *webhookBundle) scalar(t *testing.T, sql string, args ...any) string {
	t.Helper()
	var v string
	require.NoError(t, b.pool.QueryRow(context.Background(), sql, args...).Scan(&v))
	return v
}

// TestOptOutInOwnWords: "stop texting me" through Twilio's inbound webhook
// suppresses the number (Twilio does not: its block covers single
// keywords only), moves the lead to opted_out, cancels its texts and gets
// exactly one confirmation, even when the customer says it twice at once
// or again later (a phrase or the STOP keyword). HELP is still answered.
// Nothing else is sent: the shop gets no reply notice, and when the same
// customer comes back with a new estimate, that lead is not texted.
func TestOptOutInOwnWords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop, l, ref := b.optOutFixture(t)

	// Twice, back to back: the handlers take the number's lock in turn, and
	// only the first finds it not yet suppressed.
	b.text(t, shop, l.Phone, "Please stop texting me")
	b.text(t, shop, l.Phone, "stop texting me!!")
	b.settled(t, optOutKinds...)

	suppressed, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(l.Phone))
	require.NoError(t, err)
	require.True(t, suppressed, "a phrase suppresses the number")
	got, err := b.store.GetLead(ctx, shop.ID, l.ID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusOptedOut, got.Status)
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_sms' AND args->>'lead_id' = $1
		AND state IN ('scheduled', 'available', 'retryable')`, l.ID.String()), "pending texts cancelled")
	// Whichever of the two was handled first (they may run at once, in
	// either order), quoted as written.
	require.Contains(t, []string{`the customer texted "Please stop texting me"`, `the customer texted "stop texting me!!"`},
		b.scalar(t, `SELECT reason FROM suppressions WHERE tenant_id = $1`, shop.ID))

	texts := b.textsTo(l.Phone)
	require.Len(t, texts, 2, "the first text and one confirmation")
	require.Equal(t, "optout: you are unsubscribed and will get no more texts from us. Reply START to resubscribe.", texts[1].Body)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND step LIKE 'opt-out-%' AND status = 'sent'`, shop.ID))

	// Later, again, and with the keyword (which Twilio answers itself):
	// no second confirmation from us.
	b.text(t, shop, l.Phone, "I said STOP TEXTING ME")
	b.text(t, shop, l.Phone, "STOP")
	b.settled(t, optOutKinds...)
	require.Len(t, b.textsTo(l.Phone), 2, "no second confirmation")

	// HELP after the opt-out is answered (the customer asks who this is).
	b.text(t, shop, l.Phone, "HELP")
	require.Eventually(t, func() bool { return len(b.textsTo(l.Phone)) == 3 }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, b.textsTo(l.Phone)[2].Body, "Reply STOP to opt out", "the help text")
	b.settled(t, optOutKinds...)

	// The same customer back with a new estimate: the lead is found and
	// recorded, and not texted.
	_, err = b.sandbox.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{CustomerID: ref.CustomerID})
	require.NoError(t, err)
	b.pollNow(t, shop)
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND phone = $2`, shop.ID, string(l.Phone)) == 2
	}, 15*time.Second, 10*time.Millisecond)
	b.settled(t, optOutKinds...)
	require.Len(t, b.textsTo(l.Phone), 3, "the new lead is not texted")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages m JOIN leads l ON l.id = m.lead_id
		WHERE m.tenant_id = $1 AND l.id <> $2 AND m.channel = 'sms' AND m.status = 'suppressed'`, shop.ID, l.ID),
		"its first text is held back as suppressed")

	// The shop heard of none of it as a reply: an opt-out is not a
	// conversation.
	for _, e := range b.sandbox.SendGrid.Emails() {
		require.NotEqual(t, "desk@optout.example.com", e.To, "no reply notice: %s", e.Subject)
	}
}

// TestOptOutKeywordIsTwiliosToConfirm: STOP as the whole message is
// answered by Twilio itself (and Twilio blocks the number), so the shop
// sends no confirmation of its own; a phrase after it finds the number
// suppressed already and gets none either. A plain reply that merely
// says "stop" stops the follow-ups, is the shop's to read, and
// suppresses nothing.
func TestOptOutKeywordIsTwiliosToConfirm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop, l, _ := b.optOutFixture(t)

	b.text(t, shop, l.Phone, "can you stop by at 3? I'll stop in after")
	b.settled(t, optOutKinds...)
	suppressed, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(l.Phone))
	require.NoError(t, err)
	require.False(t, suppressed, "a reply that contains stop")
	got, err := b.store.GetLead(ctx, shop.ID, l.ID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusReplied, got.Status)
	require.Eventually(t, func() bool {
		for _, e := range b.sandbox.SendGrid.Emails() {
			if e.To == "desk@optout.example.com" && strings.Contains(e.Text, "can you stop by at 3?") {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the shop reads the reply")

	// Twilio blocks the number as it passes the keyword on.
	b.sandbox.Twilio.OptOut(string(l.Phone))
	b.text(t, shop, l.Phone, "STOP")
	b.settled(t, optOutKinds...)
	b.text(t, shop, l.Phone, "stop texting me")
	b.settled(t, optOutKinds...)
	suppressed, err = b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(l.Phone))
	require.NoError(t, err)
	require.True(t, suppressed)
	require.Len(t, b.textsTo(l.Phone), 1, "nothing from us after the keyword")
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_sms' AND args->>'step' LIKE 'opt-out-%'`))

	// HELP while Twilio blocks the number (as it does after its keyword):
	// our answer is tried, Twilio refuses it (21610, recorded on the row)
	// and nothing reaches the customer.
	b.text(t, shop, l.Phone, "HELP")
	b.settled(t, optOutKinds...)
	require.Len(t, b.textsTo(l.Phone), 1)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND step LIKE 'help-%' AND status = 'suppressed'
		AND last_error LIKE '%21610%'`, shop.ID), "recorded as refused by Twilio")

	// Back in, then out again in their own words: a new revocation, and
	// its one confirmation.
	b.text(t, shop, l.Phone, "START")
	b.settled(t, optOutKinds...)
	b.sandbox.Twilio.OptIn(string(l.Phone))
	b.text(t, shop, l.Phone, "Please take me off your list")
	require.Eventually(t, func() bool { return len(b.textsTo(l.Phone)) == 2 }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, b.textsTo(l.Phone)[1].Body, "you are unsubscribed")
	b.settled(t, optOutKinds...)
	require.Len(t, b.textsTo(l.Phone), 2)
}

// TestOptOutOfAnUnknownNumber: a phrase from a number no lead has
// suppresses it all the same (there is no lead to hang a confirmation on),
// so the lead that number later becomes is not texted.
func TestOptOutOfAnUnknownNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop := b.addShop(t, "unknown")
	const number = lead.PhoneNumber("+13122019876")

	b.text(t, shop, number, "wrong number, take me off your list")
	b.settled(t, optOutKinds...)
	suppressed, err := b.store.IsSuppressed(ctx, shop.ID, lead.ChannelSMS, string(number))
	require.NoError(t, err)
	require.True(t, suppressed)

	_, err = b.sandbox.ShopMonkey.AddLead(shop.CRMLocationID, fakeshopmonkey.LeadSpec{Phone: "(312) 201-9876"})
	require.NoError(t, err)
	b.pollNow(t, shop)
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM leads WHERE tenant_id = $1 AND phone = $2`, shop.ID, string(number)) == 1
	}, 15*time.Second, 10*time.Millisecond)
	b.settled(t, optOutKinds...)
	require.Empty(t, b.textsTo(number), "never texted")
	require.Positive(t, b.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND channel = 'sms' AND status = 'suppressed'`, shop.ID))
}

// TestOptOutConfirmationIsNeverCancelled: what the customer texts after an
// opt-out (a second one, a reply) cancels the lead's pending texts but not
// the opt-out's confirmation, which is owed whatever comes next. (A second
// "stop texting me" handled before the first one's confirmation went used
// to cancel it, leaving the customer with none.)
func TestOptOutConfirmationIsNeverCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupWebhooks(t)
	shop, l, _ := b.optOutFixture(t)

	// A confirmation not yet sent: held an hour so that it is still
	// pending when the next texts are handled.
	confirmation, err := b.client.Insert(ctx, jobs.SendSMSArgs{TenantID: shop.ID, LeadID: l.ID, Step: lead.OptOutConfirmationStep("SMfirst")},
		&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	b.text(t, shop, l.Phone, "stop texting me!!")
	b.text(t, shop, l.Phone, "thanks")
	b.settled(t, optOutKinds...)

	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_sms' AND args->>'lead_id' = $1
		AND args->>'step' NOT LIKE 'opt-out-%' AND state IN ('scheduled', 'available', 'retryable')`, l.ID.String()), "the follow-ups are cancelled")
	got, err := b.client.JobGet(ctx, confirmation.Job.ID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateScheduled, got.State, "the confirmation is not")
}
