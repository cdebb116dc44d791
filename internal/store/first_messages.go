package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// FirstMessage is a lead's first message on a channel that the provider
// accepted, with what speed to lead is measured from.
type FirstMessage struct {
	LeadID     uuid.UUID
	Channel    lead.Channel
	AcceptedAt time.Time
	// CRM is the lead's CRM kind; FoundVia how we first saw it.
	CRM      string
	FoundVia lead.FoundVia
	// CRMCreatedAt is when the CRM says the lead was made: zero when it
	// did not say.
	CRMCreatedAt time.Time
	// FirstSeenAt is when the lead row was created.
	FirstSeenAt time.Time
}

// RecordFirstMessage records that the provider accepted a message to the
// lead on channel at acceptedAt, and reports whether it was the lead's
// first on that channel (first is then filled in). A retry, a reconcile
// or a later step finds the channel's first recorded and moves nothing.
//
// It runs in the transaction that marks the message sent, and takes no
// lock on the lead row that another writer of the lead waits for (see
// migration 12): only the foreign key's KEY SHARE.
func (s *Store) RecordFirstMessage(ctx context.Context, tenantID, leadID uuid.UUID, channel lead.Channel, acceptedAt time.Time) (first FirstMessage, isFirst bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return FirstMessage{}, false, err
	}
	defer done(&err)
	var crmCreated *time.Time
	err = db.QueryRow(ctx, `
		WITH recorded AS (
			INSERT INTO lead_first_messages (tenant_id, lead_id, channel, accepted_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, lead_id, channel) DO NOTHING
			RETURNING lead_id, accepted_at)
		SELECT recorded.accepted_at, l.crm, l.found_via, l.crm_created_at, l.created_at
		FROM recorded JOIN leads l ON l.tenant_id = $1 AND l.id = recorded.lead_id`,
		tenantID, leadID, string(channel), acceptedAt).Scan(&first.AcceptedAt, &first.CRM, &first.FoundVia, &crmCreated, &first.FirstSeenAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return FirstMessage{}, false, nil
	}
	if err != nil {
		return FirstMessage{}, false, fmt.Errorf("error recording the first %s message of lead %s: %w", channel, leadID, err)
	}
	first.LeadID, first.Channel = leadID, channel
	if crmCreated != nil {
		first.CRMCreatedAt = *crmCreated
	}
	return first, true, nil
}
