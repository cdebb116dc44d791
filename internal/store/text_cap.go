package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// textCapLockClass is the first key of the transaction-level advisory
// lock that serialises the claims of texts to one number of a tenant
// ("tc"), so the cap's count and the claim it admits are one step.
const textCapLockClass int32 = 0x7463

// LockTextCap takes, until tx ends, an exclusive lock on one number of
// the tenant for the text cap. The claim that holds it counts the texts
// to the number (ClaimedTexts) and marks its own text sending before it
// commits; the next claim of a text to that number waits for the commit
// and its count (a new statement, a new snapshot under READ COMMITTED)
// then sees the text just claimed. The outbox row lock alone cannot do
// it: each claim locks its own row, so two claims of different steps to
// one number would both count two and both send the third. Take it after
// LockForClaim: nothing that holds this lock waits for a customer's lock,
// so the two never wait on each other in a cycle.
func LockTextCap(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, number string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, textCapLockClass, addressLockKey(tenantID, number)); err != nil {
		return fmt.Errorf("error locking a number for the text cap: %w", err)
	}
	return nil
}

// ClaimedText is a text to a number that went out or may have: when it
// was claimed and the step it was, so the caller tells solicitations from
// answers (lead.Step.CountsTowardTextCap).
type ClaimedText struct {
	Step      string
	SendingAt time.Time
}

// ClaimedTexts are the texts to number of the tenant claimed at or after
// since that went out or may have (sending, sent, delivered, ambiguous),
// oldest first, leaving out the message except (the one being claimed).
// A text counts from its claim (sending_at): the provider is called right
// after it, and a resend after an interrupted send claims the row again,
// so sending_at is never earlier than the text's last provider call began.
// Failed, skipped and suppressed texts never reached the customer.
func (s *Store) ClaimedTexts(ctx context.Context, tenantID uuid.UUID, number string, since time.Time, except uuid.UUID) (out []ClaimedText, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `
		SELECT step, sending_at FROM messages
		WHERE tenant_id = $1 AND channel = 'sms' AND to_address = $2 AND sending_at >= $3 AND id <> $4
		  AND status IN ('sending', 'sent', 'delivered', 'ambiguous')
		ORDER BY sending_at`, tenantID, number, since, except)
	if err != nil {
		return nil, fmt.Errorf("error reading the texts to a number for the text cap: %w", err)
	}
	out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ClaimedText, error) {
		var c ClaimedText
		return c, r.Scan(&c.Step, &c.SendingAt)
	})
	if err != nil {
		return nil, fmt.Errorf("error reading the texts to a number for the text cap: %w", err)
	}
	return out, nil
}
