package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TouchBookingLink records that a message carries the lead's booking link
// (by its token's SHA-256): the link works until now + ttl, or longer if
// an earlier message gave it longer. Each message pushes the expiry out,
// so the link in the newest text is never the one that expired.
func (s *Store) TouchBookingLink(ctx context.Context, tenantID, leadID uuid.UUID, tokenHash []byte, expiresAt time.Time) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	_, err = db.Exec(ctx, `
		INSERT INTO booking_links (token_sha256, tenant_id, lead_id, expires_at) VALUES ($3, $1, $2, $4)
		ON CONFLICT (token_sha256) DO UPDATE SET expires_at = greatest(booking_links.expires_at, excluded.expires_at)
		WHERE booking_links.tenant_id = excluded.tenant_id AND booking_links.lead_id = excluded.lead_id`,
		tenantID, leadID, tokenHash, expiresAt)
	if err != nil {
		return fmt.Errorf("error recording the booking link of lead %s: %w", leadID, err)
	}
	return nil
}

// BookingLinkOwner is what a booking link names.
type BookingLinkOwner struct {
	TenantID  uuid.UUID
	LeadID    uuid.UUID
	ExpiresAt time.Time
}

// ResolveBookingLink finds the tenant and lead of a booking link's token
// hash before any tenant is known (the page is one URL for every shop);
// ErrNotFound for a token no one was given. Expiry is the caller's to
// judge: an expired link still names its shop, for the page that says how
// to reach it.
func (s *Store) ResolveBookingLink(ctx context.Context, tokenHash []byte) (BookingLinkOwner, error) {
	var o BookingLinkOwner
	err := s.db.QueryRow(ctx, `SELECT tenant_id, lead_id, expires_at FROM leadorch_booking_link($1)`, tokenHash).
		Scan(&o.TenantID, &o.LeadID, &o.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return BookingLinkOwner{}, fmt.Errorf("booking link: %w", ErrNotFound)
	}
	if err != nil {
		return BookingLinkOwner{}, fmt.Errorf("error resolving a booking link: %w", err)
	}
	return o, nil
}
