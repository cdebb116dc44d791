package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestTenantListCarrierAttention: a tenant whose texts carriers filter
// shows it in `tenant list`, with since when and why, beside (not instead
// of) the CRM's credentials flag; a tenant with neither shows "-".
func TestTenantListCarrierAttention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	quiet := b.addTenant(t, "quiet")
	filtered := b.addTenant(t, "filtered")
	reason := "carriers refused 1 of the last 1 texts: 0 filtered as spam, 1 from a sender not registered (codes 30034)"
	at := time.Date(2026, 3, 2, 15, 4, 0, 0, time.UTC)
	_, began, err := b.store.MarkCarrierAttention(ctx, filtered.ID, reason, at)
	require.NoError(t, err)
	require.True(t, began)

	out := b.mustRun(t, "tenant", "list")
	require.Regexp(t, regexp.MustCompile(quiet.ID.String()+`\s+quiet\s+.*\s+-\n`), out)
	require.Regexp(t, regexp.MustCompile(filtered.ID.String()+`\s+filtered\s+.*\s+texts filtered since `+
		regexp.QuoteMeta(inTenantZone(filtered, at)+": "+reason)+`\n`), out)

	out = b.mustRun(t, "tenant", "show", "--tenant", "filtered")
	require.Contains(t, out, "warning: carriers are filtering this shop's texts since "+inTenantZone(filtered, at)+": "+reason)
	require.NotContains(t, b.mustRun(t, "tenant", "show", "--tenant", "quiet"), "carriers are filtering")

	_, err = b.store.MarkTenantNeedsAttention(ctx, filtered.ID, "401", at, time.Hour)
	require.NoError(t, err)
	out = b.mustRun(t, "tenant", "list")
	require.Regexp(t, `credentials refused since .*; texts filtered since `, out)

	cleared, err := b.store.ClearCarrierAttention(ctx, filtered.ID)
	require.NoError(t, err)
	require.True(t, cleared)
	out = b.mustRun(t, "tenant", "list")
	require.NotContains(t, out, "texts filtered")
	require.NotContains(t, b.mustRun(t, "tenant", "show", "--tenant", "filtered"), "carriers are filtering")
}

// TestConversationShowsLandline: a number a carrier called a landline is a
// contact problem of its lead, shown under the lead in `conversation`,
// with the suppression that stops texts to it.
func TestConversationShowsLandline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := b.addTenant(t, "landline")
	phone := lead.PhoneNumber("+15125550177")
	id, _, err := b.store.UpsertLead(ctx, shop.ID, fixture.Lead("order:77", func(l *lead.Lead) { l.Phone = phone }), false)
	require.NoError(t, err)
	require.NoError(t, b.store.MarkNotTextable(ctx, shop.ID, phone, "landline: the carrier cannot deliver texts to this number (code 30006)",
		"phone +15125550177 cannot receive texts (code 30006)"))

	out := b.mustRun(t, "conversation", "--tenant", "landline", "--lead", id.String())
	require.Contains(t, out, "\n    contact problem: carrier: phone +15125550177 cannot receive texts (code 30006)\n")
	require.Contains(t, out, "suppressed sms +15125550177 since: landline: the carrier cannot deliver texts to this number (code 30006) (carrier)")
}
