package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// FleetStats is what /metrics reads from Postgres at scrape time: the same
// figures on every replica (dashboards take max() of them, never sum()).
type FleetStats struct {
	Queues  []QueueDepth
	Outbox  []OutboxCount
	Tenants []TenantStats
	// LastPollSchedule is when schedule_polls last completed; zero when it
	// never has.
	LastPollSchedule time.Time
	// ReadAt is the database's clock when the figures were read.
	ReadAt time.Time
}

// QueueDepth is one River queue's work still to do.
type QueueDepth struct {
	Queue                           string
	Available, Scheduled, Retryable int64
	// OldestAvailableAge is how long the oldest available job has waited
	// since it was due; zero when none is available.
	OldestAvailableAge time.Duration
}

// OutboxCount is the messages on a channel in a status: pending, sending
// and ambiguous now, failed in the last 24 hours.
type OutboxCount struct {
	Channel, Status string
	Messages        int64
}

// TenantStats is one tenant's figures: counts and flags, no contact.
type TenantStats struct {
	TenantID            uuid.UUID
	CRMKind             string
	Enabled             bool
	PollLag             time.Duration
	PollFailing         bool
	CredentialsRejected bool
	AmbiguousMessages   bool
	// CarrierFiltering says carriers are filtering the tenant's texts
	// (MarkCarrierAttention).
	CarrierFiltering bool
}

// FailedWindow is how far back leadorch_outbox_messages{status="failed"}
// counts.
const FailedWindow = 24 * time.Hour

// FleetStats reads the fleet-wide figures for the queues named. It must
// stay cheap with a million rows in river_job scraped every 15 s: see
// queueDepthSQL.
func (s *Store) FleetStats(ctx context.Context, queues []string) (FleetStats, error) {
	var fs FleetStats
	var last *time.Time
	if err := s.db.QueryRow(ctx, `SELECT now(), leadorch_last_poll_schedule()`).Scan(&fs.ReadAt, &last); err != nil {
		return FleetStats{}, fmt.Errorf("error reading the last poll schedule: %w", err)
	}
	if last != nil {
		fs.LastPollSchedule = *last
	}
	var err error
	if fs.Queues, err = s.queueDepths(ctx, queues); err != nil {
		return FleetStats{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT channel, status, messages FROM leadorch_fleet_outbox($1)`, fs.ReadAt.Add(-FailedWindow))
	if err != nil {
		return FleetStats{}, fmt.Errorf("error counting the outbox: %w", err)
	}
	if fs.Outbox, err = pgx.CollectRows(rows, pgx.RowToStructByPos[OutboxCount]); err != nil {
		return FleetStats{}, fmt.Errorf("error counting the outbox: %w", err)
	}
	rows, err = s.db.Query(ctx, `SELECT tenant_id, crm_kind, enabled, poll_lag_seconds, poll_failing,
		credentials_rejected, ambiguous_messages, carrier_filtering FROM leadorch_fleet_tenants($1)`, fs.ReadAt)
	if err != nil {
		return FleetStats{}, fmt.Errorf("error reading tenants' figures: %w", err)
	}
	fs.Tenants, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TenantStats, error) {
		var t TenantStats
		var lag float64
		err := r.Scan(&t.TenantID, &t.CRMKind, &t.Enabled, &lag, &t.PollFailing, &t.CredentialsRejected, &t.AmbiguousMessages, &t.CarrierFiltering)
		t.PollLag = time.Duration(lag * float64(time.Second))
		return t, err
	})
	if err != nil {
		return FleetStats{}, fmt.Errorf("error reading tenants' figures: %w", err)
	}
	return fs, nil
}

// queueDepthSQL counts each queue's available, scheduled and retryable
// jobs and finds its oldest available one, every figure through River's
// index on (state, queue, priority, scheduled_at, id). The oldest is found
// per priority (River's are 1..4): with state, queue and priority fixed
// the index is in scheduled_at order and min() reads one entry, where
// min(scheduled_at) over the whole queue would read every available row
// of it (the index sorts by priority first). The counts read their
// (state, queue) range of the index and nothing else: at a million rows
// the cost is the backlog itself, never the completed jobs River keeps
// for a day. TestFleetStatsAtAMillionJobs holds the plan to it.
const queueDepthSQL = `
SELECT q.queue,
	(SELECT count(*) FROM river_job j WHERE j.state = 'available' AND j.queue = q.queue),
	(SELECT count(*) FROM river_job j WHERE j.state = 'scheduled' AND j.queue = q.queue),
	(SELECT count(*) FROM river_job j WHERE j.state = 'retryable' AND j.queue = q.queue),
	coalesce(greatest(EXTRACT(EPOCH FROM now() - least(
		(SELECT min(j.scheduled_at) FROM river_job j WHERE j.state = 'available' AND j.queue = q.queue AND j.priority = 1),
		(SELECT min(j.scheduled_at) FROM river_job j WHERE j.state = 'available' AND j.queue = q.queue AND j.priority = 2),
		(SELECT min(j.scheduled_at) FROM river_job j WHERE j.state = 'available' AND j.queue = q.queue AND j.priority = 3),
		(SELECT min(j.scheduled_at) FROM river_job j WHERE j.state = 'available' AND j.queue = q.queue AND j.priority = 4)
	)), 0), 0)::double precision
FROM unnest($1::text[]) AS q(queue)`

// QueueDepthSQL is the query behind the queue figures, for the test that
// checks its plan.
func QueueDepthSQL() string { return queueDepthSQL }

func (s *Store) queueDepths(ctx context.Context, queues []string) ([]QueueDepth, error) {
	rows, err := s.db.Query(ctx, queueDepthSQL, queues)
	if err != nil {
		return nil, fmt.Errorf("error reading queue depths: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueDepth, error) {
		var q QueueDepth
		var age float64
		err := r.Scan(&q.Queue, &q.Available, &q.Scheduled, &q.Retryable, &age)
		q.OldestAvailableAge = time.Duration(age * float64(time.Second))
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("error reading queue depths: %w", err)
	}
	return out, nil
}
