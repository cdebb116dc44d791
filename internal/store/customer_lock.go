package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// customerLockClass is the first key of the transaction-level advisory
// locks that order a send's claim against a customer's inbound text
// ("cu"). The second key is a hash of the tenant and the address, or of
// the lead: a collision only makes two unrelated customers wait for each
// other for one short transaction.
const customerLockClass int32 = 0x6375

// LockForClaim takes, until tx ends, shared locks on the address a message
// goes to and on its lead, before the claim transaction reads the guards.
// A reply, STOP, booking or unsubscribe being recorded holds them
// exclusively (LockCustomer),
// so a claim either commits before the customer's text is recorded, or
// waits for it and then reads the lead as replied and the number as
// suppressed. Without them, the claim read the lead from a snapshot taken
// while the reply's transaction was still open and sent a follow-up 70 ms
// after the reply was recorded (make chaos DURATION=10m, seed 1). Claims
// share the locks, so a lead's text and email never wait for each other.
//
// The address is locked first, as LockCustomer does, so the two never
// wait on each other in a cycle.
func LockForClaim(ctx context.Context, tx pgx.Tx, tenantID, leadID uuid.UUID, address string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`, customerLockClass, addressLockKey(tenantID, address)); err != nil {
		return fmt.Errorf("error locking the address of lead %s for a claim: %w", leadID, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`, customerLockClass, leadID.String()); err != nil {
		return fmt.Errorf("error locking lead %s for a claim: %w", leadID, err)
	}
	return nil
}

// LockCustomer takes, until tx ends, exclusive locks on a customer's
// address (a phone number or email address; empty for none) and on each
// of their leads, for a transaction that records what stops their
// messages: a reply or STOP they texted, a booking, an unsubscribe or a
// bounce. It waits for claims under way to commit, and claims that start
// later wait for tx (see LockForClaim), so a claim is ordered before or
// after the event, never beside it. Read the leads again after it
// returns: a read before it may be stale. Taken after the write it guards
// (a lead id known only once upserted) it orders claims just as well:
// a claim that read the old row holds its lock until it commits, which is
// then before tx's.
func LockCustomer(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, address string, leadIDs []uuid.UUID) error {
	if address != "" {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, customerLockClass, addressLockKey(tenantID, address)); err != nil {
			return fmt.Errorf("error locking a customer's address: %w", err)
		}
	}
	ids := slices.Clone(leadIDs)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range slices.Compact(ids) {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, customerLockClass, id.String()); err != nil {
			return fmt.Errorf("error locking lead %s: %w", id, err)
		}
	}
	return nil
}

func addressLockKey(tenantID uuid.UUID, address string) string {
	return tenantID.String() + "/" + address
}
