package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// consentEvidence is what a ShopMonkey ingest read for Ann on 1 December.
var consentEvidence = lead.ConsentEvidenceSet{
	SMS:   lead.ConsentEvidence{Field: "customer.phoneNumbers[0].optIn", Value: "true"},
	Email: lead.ConsentEvidence{Field: "customer.emails[0].subscribed", Value: "false"},
}.Stamp("shopmonkey", time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))

// addConsentThread stores two leads of Ann's number in tenant (one with
// evidence, one stored before evidence was kept) and their messages: a
// text claimed with its rule, the answer to her HELP, and an email the
// guards skipped. The rules are lead.AllowedBy's, recorded as the claim
// records them.
func (b *testBundle) addConsentThread(t *testing.T, tenant lead.Tenant) (first, second uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	withEvidence := fixture.Lead("order:88", func(l *lead.Lead) { l.ConsentEvidence, l.CustomerRegion = consentEvidence, "US-FL" })
	first, _, err := b.store.UpsertLead(ctx, tenant.ID, withEvidence, false)
	require.NoError(t, err)
	second, _, err = b.store.UpsertLead(ctx, tenant.ID, fixture.Lead("order:89"), false)
	require.NoError(t, err)
	stored, err := b.store.GetLead(ctx, tenant.ID, first)
	require.NoError(t, err)
	require.Equal(t, consentEvidence, stored.ConsentEvidence, "the evidence is stored with the lead")

	claim := func(m lead.Message, step lead.Step, l lead.Lead) {
		got, err := b.store.LockMessage(ctx, tenant.ID, m)
		require.NoError(t, err)
		require.NoError(t, b.store.MarkMessageSending(ctx, tenant.ID, got.ID, time.Now()))
		require.NoError(t, b.store.SetMessageAllowedBy(ctx, tenant.ID, got.ID, lead.AllowedBy(l, step, tenant.ConsentPolicy())))
		require.NoError(t, b.store.MarkMessageSent(ctx, tenant.ID, got.ID, "SM"+got.ID.String(), time.Now()))
	}
	claim(fixture.SMS(first, lead.StepInitial, "Hi Ann. Reply STOP to opt out."), lead.Step{Name: lead.StepInitial, Channel: lead.ChannelSMS}, stored)
	help := lead.HelpAnswerStep("in-1")
	claim(fixture.SMS(first, help, "Main St: reply STOP to opt out."), lead.Step{Name: help, Channel: lead.ChannelSMS}, stored)
	skipped, err := b.store.LockMessage(ctx, tenant.ID, lead.Message{LeadID: first, Step: "day3", Channel: lead.ChannelEmail, To: "ann@example.com", Body: "Still there?"})
	require.NoError(t, err)
	require.NoError(t, b.store.SetMessageStatus(ctx, tenant.ID, skipped.ID, lead.MessageSkipped, "the customer has not consented to email"))
	return first, second
}

// TestConsentReport: `enqueue consent` answers "why did you text me" for a
// number: each lead with its evidence, each message with its rule or why
// it did not go.
func TestConsentReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shop := b.addTenant(t, "Consent Auto")
	first, second := b.addConsentThread(t, shop)

	out := b.mustRun(t, "consent", "--tenant", "Consent Auto", "--phone", "(312) 201-3344")
	require.Contains(t, out, "Why Consent Auto texted +13122013344")
	require.Contains(t, out, "lead "+shortID(first)+"  estimate order:88 Ann, created in the CRM ")
	require.Contains(t, out, "\n    consent to texts: yes (shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z)\n")
	require.Contains(t, out, "\n    consent to email: no (shopmonkey customer.emails[0].subscribed=false read 2026-12-01T10:00Z)\n")
	require.Contains(t, out, "lead "+shortID(second)+"  estimate order:89")
	require.Contains(t, out, "\n    consent to texts: yes (no record of where consent came from)\n", "a lead stored before evidence was kept says so")
	// Where each customer is, and the hours kept there: by the CRM
	// address, else by the number's area code.
	require.Contains(t, out, "\n    customer's clock: 08:00-20:00 every day America/New_York; 08:00-20:00 every day America/Chicago, "+
		"by the customer's address in the CRM (Florida), under Florida's law (FL rule)\n")
	require.Contains(t, out, "\n    customer's clock: 08:00-21:00 every day America/Chicago, by the number's area code (Illinois)\n")

	msgs := out[strings.Index(out, "\nMessages:\n"):]
	require.Regexp(t, `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d C[SD]T  text sent to \+13122013344, step initial  \[lead `+shortID(first)+`\]\n`+
		`    allowed by consent: shopmonkey customer\.phoneNumbers\[0\]\.optIn=true read 2026-12-01T10:00Z\n`, msgs)
	require.Regexp(t, `text sent to \+13122013344, step help-in-1  \[lead `+shortID(first)+`\]\n    allowed by answer to the customer's HELP\n`, msgs)
	require.Regexp(t, `email skipped to ann@example\.com, step day3  \[lead `+shortID(first)+`\]\n    not sent: the customer has not consented to email\n`, msgs)

	_, _, err := b.run(t, "consent", "--tenant", "Consent Auto", "--phone", "(312) 201-9999")
	require.ErrorContains(t, err, "--phone +13122019999: tenant Consent Auto has no lead of this number")
	_, _, err = b.run(t, "consent", "--tenant", "Consent Auto")
	require.ErrorContains(t, err, "consent: --phone is required")
	_, _, err = b.run(t, "consent", "--tenant", "Consent Auto", "--phone", "12")
	require.ErrorContains(t, err, `consent: --phone "12"`)
}

// TestConversationShowsConsent: `enqueue conversation` prints each lead's
// consent evidence and each message's rule, in text and JSON.
func TestConversationShowsConsent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shop := b.addTenant(t, "Consent Thread")
	first, _ := b.addConsentThread(t, shop)

	out := b.mustRun(t, "conversation", "--tenant", "Consent Thread", "--lead", first.String())
	require.Contains(t, out, "\n    consent: text yes (shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z); "+
		"email no (shopmonkey customer.emails[0].subscribed=false read 2026-12-01T10:00Z)\n")
	require.Contains(t, out, "\n    customer's clock: 08:00-20:00 every day America/New_York; 08:00-20:00 every day America/Chicago, by the customer's address in the CRM (Florida)")
	require.Contains(t, out, "text out, sent: step initial to +13122013344; allowed by consent: shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z  [lead ")
	require.Contains(t, out, "text out, sent: step help-in-1 to +13122013344; allowed by answer to the customer's HELP  [lead ")
	require.Contains(t, out, "email out, skipped: step day3 to ann@example.com: the customer has not consented to email  [lead ")

	js := b.mustRun(t, "conversation", "--tenant", "Consent Thread", "--lead", first.String(), "--format", "json")
	var events []threadEventJSON
	require.NoError(t, json.Unmarshal([]byte(js), &events))
	rules := map[string]string{}
	for _, e := range events {
		switch e.Kind {
		case "lead":
			require.Equal(t, "yes (shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z)", e.ConsentSMS)
			require.Equal(t, "no (shopmonkey customer.emails[0].subscribed=false read 2026-12-01T10:00Z)", e.ConsentEmail)
		case "message":
			rules[e.Step] = e.AllowedBy
		}
	}
	require.Equal(t, map[string]string{
		"initial":   "consent: shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z",
		"help-in-1": "answer to the customer's HELP",
		"day3":      "",
	}, rules)
}
