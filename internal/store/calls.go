package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Call is one call to a shop's number (table calls, one row per CallSid):
// how its forward to the shop's phone ended and what a missed one became.
type Call struct {
	ID int64
	// CallSid is the provider's id of the call.
	CallSid string
	// From is the caller as the provider sent it; To the shop's number.
	From string
	To   string
	// DialStatus is "" while the forward rings, then the provider's
	// status of the forwarded leg (completed, busy, no-answer, ...).
	DialStatus string
	// LeadID is the lead a missed call was recorded against (uuid.Nil:
	// none yet, or none: a caller who withheld their number).
	LeadID     uuid.UUID
	ReceivedAt time.Time
	EndedAt    time.Time
	HandledAt  time.Time
	// TextedAt is when the caller's missed-call text was queued for this
	// call; zero when it was not.
	TextedAt time.Time
}

const callColumns = `id, call_sid, from_number, to_number, dial_status,
	coalesce(lead_id, '00000000-0000-0000-0000-000000000000'), received_at, ended_at, handled_at, texted_at`

func scanCall(r pgx.Row) (Call, error) {
	var (
		c                      Call
		ended, handled, texted *time.Time
	)
	if err := r.Scan(&c.ID, &c.CallSid, &c.From, &c.To, &c.DialStatus, &c.LeadID, &c.ReceivedAt, &ended, &handled, &texted); err != nil {
		return Call{}, err
	}
	for _, t := range []struct {
		src *time.Time
		dst *time.Time
	}{{ended, &c.EndedAt}, {handled, &c.HandledAt}, {texted, &c.TextedAt}} {
		if t.src != nil {
			*t.dst = *t.src
		}
	}
	return c, nil
}

// RecordCall stores a call once per CallSid and reports whether this call
// stored it: a redelivered webhook changes nothing.
func (s *Store) RecordCall(ctx context.Context, tenantID uuid.UUID, c Call) (id int64, isNew bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return 0, false, err
	}
	defer done(&err)
	return insertCall(ctx, db, tenantID, c)
}

func insertCall(ctx context.Context, db DBTX, tenantID uuid.UUID, c Call) (id int64, isNew bool, err error) {
	err = db.QueryRow(ctx, `
		INSERT INTO calls (tenant_id, call_sid, from_number, to_number, received_at)
		VALUES ($1, $2, $3, $4, coalesce($5, now()))
		ON CONFLICT (tenant_id, call_sid) DO NOTHING
		RETURNING id`, tenantID, c.CallSid, c.From, c.To, nullTime(c.ReceivedAt)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = db.QueryRow(ctx, `SELECT id FROM calls WHERE tenant_id = $1 AND call_sid = $2`, tenantID, c.CallSid).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("error finding call %s: %w", c.CallSid, err)
		}
		return id, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("error recording call %s: %w", c.CallSid, err)
	}
	return id, true, nil
}

// EndCall records how the call's forward ended (c.DialStatus, c.EndedAt),
// storing the call first if its incoming webhook was never recorded, and
// reports whether this call ended it: only the first report counts, so a
// redelivered callback changes nothing.
func (s *Store) EndCall(ctx context.Context, tenantID uuid.UUID, c Call) (id int64, ended bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return 0, false, err
	}
	defer done(&err)
	if c.DialStatus == "" {
		return 0, false, errors.New("store: EndCall needs the call's dial status")
	}
	if _, _, err := insertCall(ctx, db, tenantID, c); err != nil {
		return 0, false, err
	}
	err = db.QueryRow(ctx, `UPDATE calls SET dial_status = $3, ended_at = coalesce($4, now())
		WHERE tenant_id = $1 AND call_sid = $2 AND dial_status = ''
		RETURNING id`, tenantID, c.CallSid, c.DialStatus, nullTime(c.EndedAt)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("error ending call %s: %w", c.CallSid, err)
	}
	return id, true, nil
}

// GetCall returns one of the tenant's calls by row id, or ErrNotFound.
func (s *Store) GetCall(ctx context.Context, tenantID uuid.UUID, id int64) (Call, error) {
	c, err := scanCall(s.queryRow(ctx, tenantID, `SELECT `+callColumns+` FROM calls WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Call{}, fmt.Errorf("call %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Call{}, fmt.Errorf("error reading call %d: %w", id, err)
	}
	return c, nil
}

// MarkCallHandled records that a missed call was acted on, against its
// lead (uuid.Nil: none), and, when texted is not zero, that the caller's
// text was queued then. It reports whether this call marked it: of two
// runs of one call's handling, only one acts.
func (s *Store) MarkCallHandled(ctx context.Context, tenantID uuid.UUID, id int64, leadID uuid.UUID, texted time.Time) (marked bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE calls SET handled_at = now(), lead_id = $3, texted_at = $4
		WHERE tenant_id = $1 AND id = $2 AND handled_at IS NULL`, tenantID, id, nullUUID(leadID), nullTime(texted))
	if err != nil {
		return false, fmt.Errorf("error marking call %d handled: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// CallerTextedSince reports whether a missed call from the number was
// texted at or after since. Call it under the customer's lock
// (LockCustomer on from), so two missed calls handled at once cannot both
// find none.
func (s *Store) CallerTextedSince(ctx context.Context, tenantID uuid.UUID, from string, since time.Time) (bool, error) {
	var texted bool
	err := s.queryRow(ctx, tenantID, `SELECT EXISTS (SELECT 1 FROM calls
		WHERE tenant_id = $1 AND from_number = $2 AND texted_at >= $3)`, tenantID, from, since).Scan(&texted)
	if err != nil {
		return false, fmt.Errorf("error looking for missed-call texts to a number: %w", err)
	}
	return texted, nil
}
