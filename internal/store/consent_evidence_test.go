package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// TestConsentEvidenceStored: a lead's consent evidence is stored with it
// and refreshed by a newer CRM version, as the consent itself is, never
// by an older one; a message's rule is stored with it and read back.
func TestConsentEvidenceStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	read := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	yes := lead.ConsentEvidenceSet{SMS: lead.ConsentEvidence{Field: "customer.phoneNumbers[0].optIn", Value: "true"}}.Stamp("shopmonkey", read)
	no := lead.ConsentEvidenceSet{SMS: lead.ConsentEvidence{Field: "customer.phoneNumbers[0].optIn", Value: "false"}}.Stamp("shopmonkey", read.Add(time.Hour))

	l := fixture.Lead("order:1", func(l *lead.Lead) { l.ConsentEvidence = yes })
	id, inserted, err := b.store.UpsertLead(ctx, b.a.ID, l, false)
	require.NoError(t, err)
	require.True(t, inserted)
	got, err := b.store.GetLead(ctx, b.a.ID, id)
	require.NoError(t, err)
	require.Equal(t, yes, got.ConsentEvidence)

	// Version 2 revokes consent: the evidence follows.
	l.CRMVersion, l.Consent.SMS, l.ConsentEvidence = 2, false, no
	_, _, err = b.store.UpsertLead(ctx, b.a.ID, l, false)
	require.NoError(t, err)
	got, err = b.store.GetLead(ctx, b.a.ID, id)
	require.NoError(t, err)
	require.Equal(t, no, got.ConsentEvidence)
	require.False(t, got.Consent.SMS)

	// A late, older version changes nothing.
	l.CRMVersion, l.Consent.SMS, l.ConsentEvidence = 1, true, yes
	_, _, err = b.store.UpsertLead(ctx, b.a.ID, l, false)
	require.NoError(t, err)
	got, err = b.store.GetLead(ctx, b.a.ID, id)
	require.NoError(t, err)
	require.Equal(t, no, got.ConsentEvidence)

	m, err := b.store.LockMessage(ctx, b.a.ID, fixture.SMS(id, lead.StepInitial, "Hi. Reply STOP to opt out."))
	require.NoError(t, err)
	require.Empty(t, m.AllowedBy, "a row not claimed has no rule")
	require.NoError(t, b.store.SetMessageAllowedBy(ctx, b.a.ID, m.ID, "first reply without consent allowed by the shop"))
	msgs, err := b.store.ListLeadMessages(ctx, b.a.ID, id)
	require.NoError(t, err)
	require.Equal(t, "first reply without consent allowed by the shop", msgs[0].AllowedBy)
	require.ErrorIs(t, b.store.SetMessageAllowedBy(ctx, b.b.ID, m.ID, "x"), store.ErrNotFound, "another tenant's message is not found")
}
