package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// newReplyToken is 128 random bits in lower-case base32: 26 characters a
// mail program keeps as they are, that no one guesses.
func newReplyToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ReplyToken returns the lead's reply token for purpose, making it the
// first time: one token per lead and purpose, for every email after.
func (s *Store) ReplyToken(ctx context.Context, tenantID, leadID uuid.UUID, purpose lead.ReplyPurpose) (token string, err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return "", err
	}
	defer done(&err)
	// A token another transaction made meanwhile is not in this
	// statement's snapshot: the second try reads it.
	for range 2 {
		err = db.QueryRow(ctx, `
			WITH made AS (
				INSERT INTO reply_addresses (token, tenant_id, lead_id, purpose) VALUES ($4, $1, $2, $3)
				ON CONFLICT (tenant_id, lead_id, purpose) DO NOTHING
				RETURNING token)
			SELECT token FROM made
			UNION ALL
			SELECT token FROM reply_addresses WHERE tenant_id = $1 AND lead_id = $2 AND purpose = $3
			LIMIT 1`, tenantID, leadID, string(purpose), newReplyToken()).Scan(&token)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("error making the %s reply token of lead %s: %w", purpose, leadID, err)
	}
	return token, nil
}

// ReplyAddressOwner is what a reply token names.
type ReplyAddressOwner struct {
	TenantID uuid.UUID
	LeadID   uuid.UUID
	Purpose  lead.ReplyPurpose
}

// ResolveReplyToken finds the tenant, lead and purpose of a reply token,
// before any tenant is known (the inbound webhook is one URL for every
// shop); ErrNotFound for a token no one was given.
func (s *Store) ResolveReplyToken(ctx context.Context, token string) (ReplyAddressOwner, error) {
	var o ReplyAddressOwner
	err := s.db.QueryRow(ctx, `SELECT tenant_id, lead_id, purpose FROM leadorch_reply_address($1)`, token).
		Scan(&o.TenantID, &o.LeadID, &o.Purpose)
	if errors.Is(err, pgx.ErrNoRows) {
		return ReplyAddressOwner{}, fmt.Errorf("reply token: %w", ErrNotFound)
	}
	if err != nil {
		return ReplyAddressOwner{}, fmt.Errorf("error resolving a reply token: %w", err)
	}
	return o, nil
}
