package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// threadLine is what TestThread checks of an event: when, what, and of
// which lead.
type threadLine struct {
	At     string // RFC 3339 in UTC, or "now" for the database's clock
	Kind   store.ThreadEventKind
	Status string
	LeadID uuid.UUID
}

func threadLines(t *testing.T, th store.Thread, since time.Time) []threadLine {
	t.Helper()
	out := make([]threadLine, len(th.Events))
	for i, e := range th.Events {
		at := e.At.UTC().Format(time.RFC3339)
		if !e.At.Before(since) {
			at = "now"
		}
		out[i] = threadLine{At: at, Kind: e.Kind, Status: e.Status, LeadID: e.LeadID}
	}
	return out
}

func TestThread(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	shop := fixture.Create(t, b.store, b.keys, fixture.ShopMonkeyTenant("thread", func(t *lead.Tenant) {
		t.NotifyEmail = fixture.ConversationNotifyEmail
	}), "key-thread")
	since := time.Now().Add(-time.Minute)
	c := fixture.BuildConversation(t, b.store, b.db.Owner, shop.ID)

	// Another shop has a lead of the same number, with a text, a reply, a
	// call and a suppression of it: none of it is in shop's threads.
	otherLead, _, err := b.store.UpsertLead(ctx, b.b.ID, fixture.Lead("order:501"), false)
	require.NoError(t, err)
	_, err = b.store.LockMessage(ctx, b.b.ID, fixture.SMS(otherLead, lead.StepInitial, "other shop"))
	require.NoError(t, err)
	_, _, err = b.store.RecordInbound(ctx, b.b.ID, store.InboundMessage{ProviderID: "SMother", From: "+13122013344", To: "+15125550100",
		Body: "other", Kind: "reply", LeadID: otherLead})
	require.NoError(t, err)
	_, err = b.db.Owner.Exec(ctx, `INSERT INTO calls (tenant_id, call_sid, from_number, to_number, dial_status) VALUES ($1, 'CA-other', '+13122013344', '+15125550100', 'busy')`, b.b.ID)
	require.NoError(t, err)
	require.NoError(t, b.store.Suppress(ctx, b.b.ID, lead.ChannelEmail, "ann@example.com", "bounce", "sendgrid"))

	first, second := c.First, c.Second
	all := []threadLine{
		{"2025-03-07T15:00:00Z", store.ThreadLead, "opted_out", first},
		{"2025-03-07T15:00:06Z", store.ThreadMessage, "sent", first},
		{"2025-03-07T15:00:07Z", store.ThreadMessage, "failed", first},
		{"2025-03-08T16:00:00Z", store.ThreadAutoReply, "handled", first},
		{"2025-03-08T20:00:00Z", store.ThreadStop, "handled", first},
		{"2025-03-08T20:05:00Z", store.ThreadStart, "handled", first},
		{"2025-03-10T14:30:00Z", store.ThreadReply, "handled", first},
		{"2025-03-10T14:30:06Z", store.ThreadShopNotice, "sent", first},
		{"2025-03-10T15:00:00Z", store.ThreadShopAnswer, "handled", first},
		{"2025-03-10T15:00:03Z", store.ThreadShopAnswerText, "sent", first},
		{"2025-03-11T12:55:00Z", store.ThreadCall, "missed", second},
		{"2025-03-11T13:00:00Z", store.ThreadLead, "booked", second},
		{"2025-03-12T12:00:00Z", store.ThreadCall, "answered", uuid.Nil},
		{"2025-03-12T13:00:00Z", store.ThreadReply, "received", uuid.Nil},
		{"2025-03-12T14:00:00Z", store.ThreadStop, "handled", second},
		{"now", store.ThreadBooked, "", second},
		{"now", store.ThreadSuppressed, "", uuid.Nil},
		{"now", store.ThreadOptedOut, "", first},
		{"now", store.ThreadMessage, "skipped", first},
	}
	without := func(lines []threadLine, drop ...int) []threadLine {
		var out []threadLine
		for i, l := range lines {
			if !slices.Contains(drop, i) {
				out = append(out, l)
			}
		}
		return out
	}

	t.Run("ByPhoneMergesTheNumbersLeads", func(t *testing.T) {
		t.Parallel()
		th, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{Phone: "+13122013344"})
		require.NoError(t, err)
		require.Equal(t, all, threadLines(t, th, since))
		require.Len(t, th.Leads, 2)
		require.Equal(t, []uuid.UUID{first, second}, []uuid.UUID{th.Leads[0].ID, th.Leads[1].ID})
	})
	t.Run("ByLead", func(t *testing.T) {
		t.Parallel()
		th, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{LeadID: first})
		require.NoError(t, err)
		// The second lead's own events are left out; the texts and calls
		// of the number are the first lead's too.
		require.Equal(t, without(all, 11, 15), threadLines(t, th, since))

		th, err = b.store.Thread(ctx, shop.ID, store.ThreadOpts{LeadID: second})
		require.NoError(t, err)
		// The first lead's emails (through its own reply address) and
		// messages are its own.
		require.Equal(t, without(all, 0, 1, 2, 3, 6, 7, 8, 9, 17, 18), threadLines(t, th, since))

		byRecord, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{CRM: "shopmonkey", ExternalID: "appointment:502"})
		require.NoError(t, err)
		require.Equal(t, th, byRecord)
	})
	t.Run("WhatEachEventSays", func(t *testing.T) {
		t.Parallel()
		th, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{Phone: "+13122013344"})
		require.NoError(t, err)
		e := th.Events
		require.Equal(t, store.ThreadEvent{At: e[0].At, Kind: store.ThreadLead, Status: "opted_out", LeadID: first,
			Body: "brakes squeal on order:501", Ref: "order:501", Source: "estimate", FoundVia: "webhook", FoundAt: e[0].FoundAt}, e[0])
		require.True(t, e[0].FoundAt.After(since), "found when it was stored")
		require.Equal(t, "SendGrid 400: does not contain a valid address", e[2].Reason)
		require.Equal(t, []string{"email", "out", "ann@example.com", "initial"}, []string{e[2].Channel, e[2].Direction, e[2].To, e[2].Step})
		require.Equal(t, "Tuesday works.", e[6].Body)
		require.Contains(t, e[6].RawBody, "> book here.")
		require.Equal(t, "Re: Your estimate", e[6].Subject)
		require.Empty(t, e[8].RawBody, "the raw body only when it differs")
		require.Equal(t, fixture.ConversationNotifyEmail, e[7].To)
		require.Equal(t, c.AnswerID, e[9].AnswerID)
		require.Equal(t, c.AnswerText.String(), e[9].Ref)
		require.Equal(t, strconv.FormatInt(c.AnswerID, 10), e[8].Ref)
		require.Equal(t, "owner@shop.example", e[8].From)
		require.Equal(t, []string{"voice", "in", "CA-missed", "no-answer"}, []string{e[10].Channel, e[10].Direction, e[10].Ref, e[10].Reason})
		require.Equal(t, fixture.ConversationWeirdBody, e[13].Body)
		require.Equal(t, []string{"sms", "+13122013344", "the customer texted STOP (inbound)"}, []string{e[16].Channel, e[16].To, e[16].Reason})
		require.Equal(t, "the lead opted out", e[18].Reason)
	})
	t.Run("AnotherTenantsLeadIsNotFound", func(t *testing.T) {
		t.Parallel()
		_, err := b.store.Thread(ctx, b.b.ID, store.ThreadOpts{LeadID: first})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.store.Thread(ctx, shop.ID, store.ThreadOpts{LeadID: otherLead})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.store.Thread(ctx, b.b.ID, store.ThreadOpts{CRM: "shopmonkey", ExternalID: "appointment:502"})
		require.ErrorIs(t, err, store.ErrNotFound)
		// The other shop's own thread of the number holds only its own.
		th, err := b.store.Thread(ctx, b.b.ID, store.ThreadOpts{Phone: "+13122013344"})
		require.NoError(t, err)
		var kinds []store.ThreadEventKind
		for _, e := range th.Events {
			kinds = append(kinds, e.Kind)
		}
		require.Equal(t, []store.ThreadEventKind{store.ThreadLead, store.ThreadMessage, store.ThreadReply, store.ThreadCall, store.ThreadSuppressed}, kinds)
	})
	t.Run("ANumberWithoutLeads", func(t *testing.T) {
		t.Parallel()
		_, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{Phone: "+13122019999"})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.db.Owner.Exec(ctx, `INSERT INTO calls (tenant_id, call_sid, from_number, to_number, dial_status) VALUES ($1, 'CA-stranger', '+13122018888', '+13125550100', '')`, shop.ID)
		require.NoError(t, err)
		th, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{Phone: "+13122018888"})
		require.NoError(t, err)
		require.Empty(t, th.Leads)
		require.Len(t, th.Events, 1)
		require.Equal(t, "ringing", th.Events[0].Status)
	})
	t.Run("ExactlyOneWhose", func(t *testing.T) {
		t.Parallel()
		_, err := b.store.Thread(ctx, shop.ID, store.ThreadOpts{})
		require.ErrorContains(t, err, "want exactly one of LeadID, ExternalID and Phone, got 0")
		_, err = b.store.Thread(ctx, shop.ID, store.ThreadOpts{LeadID: first, Phone: "+13122013344"})
		require.ErrorContains(t, err, "got 2")
	})
}
