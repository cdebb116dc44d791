package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// The speed-to-lead report (`enqueue report`) reads a tenant's leads first
// seen in a time range, with what happened to each, and the outbox rows of
// those leads that need an operator. Leads a backfill imported without
// messaging them are left out: nobody was meant to answer them, and
// counting them would make every rate a shop's history rather than its
// service.

// ReportLead is one lead as the speed-to-lead report reads it.
type ReportLead struct {
	Source   lead.Source
	FoundVia lead.FoundVia
	// CRMCreatedAt is when the CRM says the lead was made (zero: it did
	// not say); FirstSeenAt when the lead row was created.
	CRMCreatedAt time.Time
	FirstSeenAt  time.Time
	// FirstTextAt is when the provider first accepted a text to the lead;
	// zero when none was accepted.
	FirstTextAt time.Time
	Replied     bool
	Booked      bool
	OptedOut    bool
}

// ReportLeads returns the tenant's leads first seen in [since, until),
// oldest first. A lead that booked or opted out before migration 12
// recorded when counts by its status.
func (s *Store) ReportLeads(ctx context.Context, tenantID uuid.UUID, since, until time.Time) (out []ReportLead, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `
		SELECT l.source, l.found_via, l.crm_created_at, l.created_at, f.accepted_at, l.replied_at IS NOT NULL,
			l.booked_at IS NOT NULL OR l.status = 'booked', l.opted_out_at IS NOT NULL OR l.status = 'opted_out'
		FROM leads l
		LEFT JOIN lead_first_messages f ON f.tenant_id = l.tenant_id AND f.lead_id = l.id AND f.channel = 'sms'
		WHERE l.tenant_id = $1 AND l.created_at >= $2 AND l.created_at < $3 AND NOT l.backfilled
		ORDER BY l.created_at, l.id`, tenantID, since, until)
	if err != nil {
		return nil, fmt.Errorf("error reading the leads of the report: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReportLead, error) {
		var (
			l                  ReportLead
			crmCreated, texted *time.Time
		)
		err := r.Scan(&l.Source, &l.FoundVia, &crmCreated, &l.FirstSeenAt, &texted, &l.Replied, &l.Booked, &l.OptedOut)
		if crmCreated != nil {
			l.CRMCreatedAt = *crmCreated
		}
		if texted != nil {
			l.FirstTextAt = *texted
		}
		return l, err
	})
}

// ReportMessageProblem counts the outbox rows of one source's leads that
// failed or wait as ambiguous, by their recorded reason.
type ReportMessageProblem struct {
	Source  lead.Source
	Channel lead.Channel
	Status  lead.MessageStatus
	// Reason is the row's last_error as recorded. It may quote a
	// provider's words about the address: callers show a class of it,
	// never the text itself.
	Reason string
	Count  int
}

// ReportMessageProblems returns the failed and ambiguous messages of the
// tenant's leads first seen in [since, until) (the leads ReportLeads
// returns), counted by source, channel, status and reason.
func (s *Store) ReportMessageProblems(ctx context.Context, tenantID uuid.UUID, since, until time.Time) (out []ReportMessageProblem, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `
		SELECT l.source, m.channel, m.status, m.last_error, count(*)
		FROM messages m JOIN leads l ON l.tenant_id = m.tenant_id AND l.id = m.lead_id
		WHERE m.tenant_id = $1 AND m.status IN ('failed', 'ambiguous')
		AND l.created_at >= $2 AND l.created_at < $3 AND NOT l.backfilled
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, tenantID, since, until)
	if err != nil {
		return nil, fmt.Errorf("error reading the failed messages of the report: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ReportMessageProblem])
}
