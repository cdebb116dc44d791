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

// BookingRecord is a booking as the book_appointment job needs it: the
// customer's view (lead.Booking) and the outbox's own columns.
type BookingRecord struct {
	lead.Booking
	// Ref is our marker in the appointment's notes ("leadorch-" and the
	// first 12 hex digits of the id): how a retry after a lost answer
	// finds what it created.
	Ref string
	// ClaimedAt is when the job last claimed it for a CRM call (zero:
	// never).
	ClaimedAt time.Time
	// BookedAt is when the CRM gave its id (zero: not yet).
	BookedAt time.Time
	// ChangeKey is the form key of the last change (empty: none): a
	// double tap of the same change is recognised by it.
	ChangeKey string
}

// BookingRef is the marker written with a booking's appointment.
func BookingRef(id uuid.UUID) string {
	return "leadorch-" + id.String()[:8] + id.String()[9:13]
}

// liveBookingStates are the states the one-live-booking index covers.
const liveBookingStates = `('requested', 'booking', 'booked', 'ambiguous')`

const bookingColumns = `id, lead_id, starts_at, ends_at, state, reason, crm_appointment_id, change,
	coalesce(change_starts_at, 'epoch'), coalesce(change_ends_at, 'epoch'), change_state, change_reason,
	created_at, updated_at, ref, coalesce(claimed_at, 'epoch'), coalesce(booked_at, 'epoch'), change_key`

func scanBooking(row pgx.Row) (BookingRecord, error) {
	var b BookingRecord
	err := row.Scan(&b.ID, &b.LeadID, &b.Start, &b.End, &b.State, &b.Reason, &b.CRMAppointmentID, &b.Change,
		&b.ChangeStart, &b.ChangeEnd, &b.ChangeState, &b.ChangeReason, &b.CreatedAt, &b.UpdatedAt,
		&b.Ref, &b.ClaimedAt, &b.BookedAt, &b.ChangeKey)
	if err != nil {
		return BookingRecord{}, err
	}
	for _, t := range []*time.Time{&b.ChangeStart, &b.ChangeEnd, &b.ClaimedAt, &b.BookedAt} {
		if t.Equal(time.Unix(0, 0)) {
			*t = time.Time{}
		}
	}
	return b, nil
}

// bookingSlotLockClass is the first key of the transaction-level advisory
// lock on one (tenant, slot start) ("bk"): the desk checks a slot's free
// places and records a booking under it, so two requests for the last
// place in a slot are ordered, and the second sees the first.
const bookingSlotLockClass int32 = 0x626b

// LockBookingSlot takes, until tx ends, the lock on the tenant's slot
// starting at start.
func LockBookingSlot(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, start time.Time) error {
	key := tenantID.String() + "/" + start.UTC().Format(time.RFC3339)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, bookingSlotLockClass, key); err != nil {
		return fmt.Errorf("error locking the slot at %s: %w", start.Format(time.RFC3339), err)
	}
	return nil
}

// CreateBooking records a lead's booking request (state requested) under
// the form's key. created is false when the key was used already (a double
// tap: its booking is returned) or the lead has a live booking (two tabs:
// the live one is returned, and no second appointment is made).
func (s *Store) CreateBooking(ctx context.Context, tenantID, leadID uuid.UUID, key string, start, end time.Time) (b BookingRecord, created bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return BookingRecord{}, false, err
	}
	defer done(&err)
	id := uuid.New()
	b, err = scanBooking(db.QueryRow(ctx, `
		INSERT INTO bookings (id, tenant_id, lead_id, request_key, starts_at, ends_at, ref)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
		RETURNING `+bookingColumns, id, tenantID, leadID, key, start, end, BookingRef(id)))
	if err == nil {
		return b, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return BookingRecord{}, false, fmt.Errorf("error recording a booking of lead %s: %w", leadID, err)
	}
	b, found, err := s.RepeatedBooking(ctx, tenantID, leadID, key)
	if err == nil && !found {
		err = fmt.Errorf("booking request %q of lead %s: %w", key, leadID, ErrNotFound)
	}
	return b, false, err
}

// RepeatedBooking is the booking a request under key would repeat: the
// key's own booking (a double tap, answered with what became of it, not
// with a newer one), else the lead's live booking (two tabs), else found
// false. The desk asks it before it checks the slot, so that a repeat is
// not refused as taken by its own first tap.
func (s *Store) RepeatedBooking(ctx context.Context, tenantID, leadID uuid.UUID, key string) (b BookingRecord, found bool, err error) {
	b, err = scanBooking(s.queryRow(ctx, tenantID, `SELECT `+bookingColumns+` FROM bookings
		WHERE tenant_id = $1 AND lead_id = $2 AND (request_key = $3 OR state IN `+liveBookingStates+`)
		ORDER BY request_key = $3 DESC LIMIT 1`, tenantID, leadID, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return BookingRecord{}, false, nil
	}
	if err != nil {
		return BookingRecord{}, false, fmt.Errorf("error reading the booking that request %q of lead %s repeats: %w", key, leadID, err)
	}
	return b, true, nil
}

// GetBooking returns one of the tenant's bookings.
func (s *Store) GetBooking(ctx context.Context, tenantID, bookingID uuid.UUID) (BookingRecord, error) {
	b, err := scanBooking(s.queryRow(ctx, tenantID, `SELECT `+bookingColumns+` FROM bookings WHERE tenant_id = $1 AND id = $2`,
		tenantID, bookingID))
	if errors.Is(err, pgx.ErrNoRows) {
		return BookingRecord{}, fmt.Errorf("booking %s: %w", bookingID, ErrNotFound)
	}
	if err != nil {
		return BookingRecord{}, fmt.Errorf("error fetching booking %s: %w", bookingID, err)
	}
	return b, nil
}

// LockBooking returns a booking with its row locked until tx ends: the
// job's claim and record read it under the lock, so two workers running
// the same job take turns and the second sees what the first wrote.
func (s *Store) LockBooking(ctx context.Context, tenantID, bookingID uuid.UUID) (b BookingRecord, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return BookingRecord{}, err
	}
	defer done(&err)
	b, err = scanBooking(db.QueryRow(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
		tenantID, bookingID))
	if errors.Is(err, pgx.ErrNoRows) {
		return BookingRecord{}, fmt.Errorf("booking %s: %w", bookingID, ErrNotFound)
	}
	if err != nil {
		return BookingRecord{}, fmt.Errorf("error locking booking %s: %w", bookingID, err)
	}
	return b, nil
}

// LeadBookings returns a lead's bookings, newest first.
func (s *Store) LeadBookings(ctx context.Context, tenantID, leadID uuid.UUID) (out []BookingRecord, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE tenant_id = $1 AND lead_id = $2
		ORDER BY created_at DESC, id`, tenantID, leadID)
	if err != nil {
		return nil, fmt.Errorf("error listing the bookings of lead %s: %w", leadID, err)
	}
	out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BookingRecord, error) { return scanBooking(r) })
	if err != nil {
		return nil, fmt.Errorf("error reading the bookings of lead %s: %w", leadID, err)
	}
	return out, nil
}

// LiveBookingTimes returns the times our live bookings (and the targets of
// moves not yet made) hold in [from, to): busy for the desk, whether or
// not the CRM has them yet. Bookings the CRM has are also in its list;
// the caller drops those by appointment id.
func (s *Store) LiveBookingTimes(ctx context.Context, tenantID uuid.UUID, from, to time.Time) (out []BookingRecord, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE tenant_id = $1 AND state IN `+liveBookingStates+`
		AND ((starts_at < $3 AND ends_at > $2) OR (change = 'move' AND change_state = 'requested' AND change_starts_at < $3 AND change_ends_at > $2))
		ORDER BY starts_at`, tenantID, from, to)
	if err != nil {
		return nil, fmt.Errorf("error listing the live bookings: %w", err)
	}
	out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (BookingRecord, error) { return scanBooking(r) })
	if err != nil {
		return nil, fmt.Errorf("error reading the live bookings: %w", err)
	}
	return out, nil
}

// BookingUpdate is what a job writes to a booking.
type BookingUpdate struct {
	State  lead.BookingState
	Reason string
	// CRMAppointmentID is set with State booked.
	CRMAppointmentID string
	// At is when: claimed_at for State booking, booked_at for booked.
	At time.Time
}

// UpdateBooking moves a booking to u.State.
func (s *Store) UpdateBooking(ctx context.Context, tenantID, bookingID uuid.UUID, u BookingUpdate) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	var claimedAt, bookedAt *time.Time
	switch u.State {
	case lead.BookingInProgress:
		claimedAt = &u.At
	case lead.BookingBooked:
		bookedAt = &u.At
	}
	tag, err := db.Exec(ctx, `UPDATE bookings SET state = $3, reason = $4,
		crm_appointment_id = CASE WHEN $5 = '' THEN crm_appointment_id ELSE $5 END,
		claimed_at = coalesce($6, claimed_at), booked_at = coalesce($7, booked_at), updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tenantID, bookingID, string(u.State), u.Reason, u.CRMAppointmentID, claimedAt, bookedAt)
	if err != nil {
		return fmt.Errorf("error updating booking %s to %s: %w", bookingID, u.State, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("booking %s: %w", bookingID, ErrNotFound)
	}
	return nil
}

// RequestBookingChange records a move or cancel of a booked appointment
// under the form's key (change requested). changed is false when the key
// was used already (a double tap) or another change is still under way;
// b is then the booking as it stands.
func (s *Store) RequestBookingChange(ctx context.Context, tenantID, bookingID uuid.UUID, key string, action lead.BookingAction,
	start, end time.Time) (b BookingRecord, changed bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return BookingRecord{}, false, err
	}
	defer done(&err)
	var startArg, endArg *time.Time
	if action == lead.BookingMove {
		startArg, endArg = &start, &end
	}
	b, err = scanBooking(db.QueryRow(ctx, `UPDATE bookings SET change = $4, change_starts_at = $5, change_ends_at = $6,
		change_state = 'requested', change_reason = '', change_key = $3, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND state = 'booked' AND change_key <> $3 AND change_state <> 'requested'
		RETURNING `+bookingColumns, tenantID, bookingID, key, string(action), startArg, endArg))
	if err == nil {
		return b, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return BookingRecord{}, false, fmt.Errorf("error recording a %s of booking %s: %w", action, bookingID, err)
	}
	b, err = s.GetBooking(ctx, tenantID, bookingID)
	return b, false, err
}

// FinishBookingChange records what became of the booking's change: done
// (a move takes its new times, a cancel cancels the booking), asked_shop
// or failed with reason.
func (s *Store) FinishBookingChange(ctx context.Context, tenantID, bookingID uuid.UUID, state lead.ChangeState, reason string) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	tag, err := db.Exec(ctx, `UPDATE bookings SET change_state = $3, change_reason = $4,
		starts_at = CASE WHEN $3 = 'done' AND change = 'move' THEN change_starts_at ELSE starts_at END,
		ends_at = CASE WHEN $3 = 'done' AND change = 'move' THEN change_ends_at ELSE ends_at END,
		state = CASE WHEN $3 = 'done' AND change = 'cancel' THEN 'cancelled' ELSE state END,
		updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND change_state = 'requested'`, tenantID, bookingID, string(state), reason)
	if err != nil {
		return fmt.Errorf("error recording the change of booking %s as %s: %w", bookingID, state, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("booking %s with a change under way: %w", bookingID, ErrNotFound)
	}
	return nil
}

// MarkLeadBooked moves a lead to booked (lead.NextStatus: anything but
// closed) and stamps when; it reports whether the lead is booked now.
func (s *Store) MarkLeadBooked(ctx context.Context, tenantID, leadID uuid.UUID, at time.Time) (booked bool, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return false, err
	}
	defer done(&err)
	var status lead.Status
	if err := db.QueryRow(ctx, `SELECT status FROM leads WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`, tenantID, leadID).Scan(&status); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return false, fmt.Errorf("lead %s: %w", leadID, ErrNotFound)
		}
		return false, fmt.Errorf("error reading lead %s to book it: %w", leadID, err)
	}
	next := lead.NextStatus(status, lead.EventBooked)
	if next != lead.StatusBooked {
		return false, nil
	}
	if _, err := db.Exec(ctx, `UPDATE leads SET status = 'booked', booked_at = coalesce(booked_at, $3), updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tenantID, leadID, at); err != nil {
		return false, fmt.Errorf("error marking lead %s booked: %w", leadID, err)
	}
	return true, nil
}
