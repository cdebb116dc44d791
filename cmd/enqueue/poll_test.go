package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
)

func TestPoll(t *testing.T) {
	t.Parallel()

	t.Run("InsertsOneLivePoll", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		tenant := b.addTenant(t, "Main Street Auto")
		before := time.Now()
		stdout, _, err := b.run(t, "poll", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		require.Contains(t, stdout, "queued live poll job")

		got := jobArgs[jobs.PollCRMArgs](t, b, "poll_crm")
		require.Len(t, got, 1)
		require.Equal(t, tenant.ID, got[0].TenantID)
		require.True(t, got[0].Live)
		require.True(t, got[0].SendMessages)
		// config's default poll.overlap is 2m.
		require.True(t, got[0].Since.Equal(tenant.PollCursor.Add(-2*time.Minute)), "since %s, cursor %s", got[0].Since, tenant.PollCursor)
		require.False(t, got[0].Until.Before(before))
		require.False(t, got[0].Until.After(time.Now()))

		stdout, _, err = b.run(t, "poll", "--tenant", tenant.ID.String())
		require.NoError(t, err)
		require.Contains(t, stdout, "a poll for Main Street Auto is already queued")
		require.Len(t, jobArgs[jobs.PollCRMArgs](t, b, "poll_crm"), 1)
	})

	t.Run("WindowCappedToMaxWindow", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		tenant := b.addTenant(t, "Main Street Auto")
		cursor := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
		_, err := b.owner.Exec(context.Background(), `UPDATE tenants SET poll_cursor = $2 WHERE id = $1`, tenant.ID, cursor)
		require.NoError(t, err)
		b.env["LEADORCH_POLL_MAX_WINDOW"] = "6h"
		b.env["LEADORCH_POLL_OVERLAP"] = "1m"

		_, _, err = b.run(t, "poll", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		got := jobArgs[jobs.PollCRMArgs](t, b, "poll_crm")
		require.Len(t, got, 1)
		require.True(t, got[0].Since.Equal(cursor.Add(-time.Minute)))
		require.Equal(t, 6*time.Hour, got[0].Until.Sub(got[0].Since))
	})
}

func TestIngest(t *testing.T) {
	t.Parallel()

	t.Run("BareIDIsAnOrder", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		tenant := b.addTenant(t, "Main Street Auto")
		stdout, _, err := b.run(t, "ingest", "--tenant", "Main Street Auto", "--external-id", "ord-123")
		require.NoError(t, err)
		require.Contains(t, stdout, "queued ingest_lead job")

		got := jobArgs[jobs.IngestLeadArgs](t, b, "ingest_lead")
		require.Len(t, got, 1)
		require.Equal(t, tenant.ID, got[0].TenantID)
		require.Equal(t, "order:ord-123", got[0].ExternalID)
		require.False(t, got[0].SendMessages)
		require.NotZero(t, got[0].Version)
	})

	t.Run("AppointmentWithMessages", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		_, _, err := b.run(t, "ingest", "--tenant", "Main Street Auto", "--external-id", "appointment:ap-9", "--send-messages")
		require.NoError(t, err)
		got := jobArgs[jobs.IngestLeadArgs](t, b, "ingest_lead")
		require.Len(t, got, 1)
		require.Equal(t, "appointment:ap-9", got[0].ExternalID)
		require.True(t, got[0].SendMessages)
	})

	t.Run("RepeatedIngestAlwaysRuns", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		for range 2 {
			_, _, err := b.run(t, "ingest", "--tenant", "Main Street Auto", "--external-id", "order:o-1")
			require.NoError(t, err)
		}
		got := jobArgs[jobs.IngestLeadArgs](t, b, "ingest_lead")
		require.Len(t, got, 2)
		require.NotEqual(t, got[0].Version, got[1].Version)
	})
}
