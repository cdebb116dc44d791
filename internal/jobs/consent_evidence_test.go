package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// TestConsentEvidence: the ingest keeps where each channel's consent came
// from (the CRM field the real adapter read from the fake, its value, when
// it was read), and the claim keeps on each message the rule it went by:
// the consent with its evidence, or the shop's first reply without it.
func TestConsentEvidence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	sm := b.addShop(t, "evidence")
	b.sandbox.ShopMonkey.AddLocation("sm_key_firstreply", "loc-firstreply")
	firstReply := fixture.Create(t, b.store, b.keys, fixture.ShopMonkeyTenant("firstreply",
		fixture.PollEvery(5*time.Second), fixture.Senders("+15005550007", "service@firstreply.example.com"),
		fixture.Unlimited, fixture.SendAnyTime, func(t *lead.Tenant) { t.AllowFirstReplyWithoutConsent = true }), "sm_key_firstreply")
	tm := b.addTekmetricShop(t, "evidencetm", 42, nil)

	ann, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{FirstName: "Ann",
		Phone: "(312) 401-1001", Email: "ann@example.com", OptIn: new(true), Subscribed: new(true)})
	require.NoError(t, err)
	bo, err := b.sandbox.ShopMonkey.AddLead(firstReply.CRMLocationID, fakeshopmonkey.LeadSpec{FirstName: "Bo",
		Phone: "(312) 401-1002", Email: "bo@example.com", OptIn: new(false), Subscribed: new(false)})
	require.NoError(t, err)
	cy, err := b.sandbox.Tekmetric.AddLead(42, faketekmetric.LeadSpec{FirstName: "Cy", Phone: "312-401-1003",
		Email: "cy@example.com", OKForMarketing: new(true)})
	require.NoError(t, err)

	before := time.Now().Add(-time.Second)
	client := b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Hour})
	for _, shop := range []lead.Tenant{sm, firstReply, tm} {
		_, err := client.Insert(ctx, jobs.PollCRMArgs{TenantID: shop.ID, Live: true, SendMessages: true,
			Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}, nil)
		require.NoError(t, err)
	}
	// Each gets a first text and a first email: Bo without consent, as
	// his shop allows for first replies.
	require.Eventually(t, func() bool {
		return b.sandbox.Stats().SMS == 3 && b.sandbox.Stats().Emails == 3
	}, 30*time.Second, 50*time.Millisecond)
	b.settled(t, "ingest_lead", "send_sms", "send_email")

	evidence := func(shop lead.Tenant, externalID string) lead.Lead {
		var id uuid.UUID
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM leads WHERE tenant_id = $1 AND external_id = $2`, shop.ID, externalID).Scan(&id))
		l, err := b.store.GetLead(ctx, shop.ID, id)
		require.NoError(t, err)
		return l
	}
	allowedBy := func(shop lead.Tenant, externalID string, ch lead.Channel) string {
		var rule string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT m.allowed_by FROM messages m JOIN leads l ON l.id = m.lead_id
			WHERE m.tenant_id = $1 AND l.external_id = $2 AND m.channel = $3 AND m.step = 'initial'`, shop.ID, externalID, ch).Scan(&rule))
		return rule
	}

	a := evidence(sm, ann.ExternalID)
	require.Equal(t, "shopmonkey", a.ConsentEvidence.SMS.CRM)
	require.Equal(t, "customer.phoneNumbers[0].optIn", a.ConsentEvidence.SMS.Field)
	require.Equal(t, "true", a.ConsentEvidence.SMS.Value)
	require.WithinRange(t, a.ConsentEvidence.SMS.ReadAt, before, time.Now())
	require.Equal(t, "customer.emails[0].subscribed", a.ConsentEvidence.Email.Field)
	require.Equal(t, "consent: "+a.ConsentEvidence.SMS.String(), allowedBy(sm, ann.ExternalID, lead.ChannelSMS))
	require.Regexp(t, `^consent: shopmonkey customer\.phoneNumbers\[0\]\.optIn=true read \d{4}-\d\d-\d\dT\d\d:\d\dZ$`, allowedBy(sm, ann.ExternalID, lead.ChannelSMS))
	require.Equal(t, "consent: "+a.ConsentEvidence.Email.String(), allowedBy(sm, ann.ExternalID, lead.ChannelEmail))

	bl := evidence(firstReply, bo.ExternalID)
	require.False(t, bl.Consent.SMS)
	require.Equal(t, "false", bl.ConsentEvidence.SMS.Value, "a no is evidence too")
	require.Equal(t, "first reply without consent allowed by the shop", allowedBy(firstReply, bo.ExternalID, lead.ChannelSMS))
	require.Equal(t, "first reply without consent allowed by the shop", allowedBy(firstReply, bo.ExternalID, lead.ChannelEmail))

	c := evidence(tm, cy.ExternalID)
	require.Equal(t, lead.ConsentEvidence{CRM: "tekmetric", Field: "customer.okForMarketing", Value: "true", ReadAt: c.ConsentEvidence.SMS.ReadAt}, c.ConsentEvidence.SMS)
	require.Equal(t, "consent: "+c.ConsentEvidence.SMS.String(), allowedBy(tm, cy.ExternalID, lead.ChannelSMS))
}
