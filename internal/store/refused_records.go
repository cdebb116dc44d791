package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RefuseRecord remembers that ingest refused version of the tenant's CRM
// record externalID as bad input, and why. Only the last refused version
// of a record is kept: an older one is never listed again.
func (s *Store) RefuseRecord(ctx context.Context, tenantID uuid.UUID, externalID string, version int64, reason string) (err error) {
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return err
	}
	defer done(&err)
	_, err = db.Exec(ctx, `
		INSERT INTO refused_records (tenant_id, external_id, version, reason) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, external_id) DO UPDATE SET version = excluded.version, reason = excluded.reason, refused_at = now()`,
		tenantID, externalID, version, reason)
	if err != nil {
		return fmt.Errorf("error recording the refusal of %s of tenant %s: %w", externalID, tenantID, err)
	}
	return nil
}

// RefusedVersions returns, of the tenant's records externalIDs, the
// version ingest last refused of each that has one.
func (s *Store) RefusedVersions(ctx context.Context, tenantID uuid.UUID, externalIDs []string) (refused map[string]int64, err error) {
	refused = map[string]int64{}
	if len(externalIDs) == 0 {
		return refused, nil
	}
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	defer done(&err)
	rows, err := db.Query(ctx, `SELECT external_id, version FROM refused_records
		WHERE tenant_id = $1 AND external_id = ANY($2)`, tenantID, externalIDs)
	if err != nil {
		return nil, fmt.Errorf("error reading the refused records of tenant %s: %w", tenantID, err)
	}
	var (
		id      string
		version int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &version}, func() error {
		refused[id] = version
		return nil
	}); err != nil {
		return nil, fmt.Errorf("error reading the refused records of tenant %s: %w", tenantID, err)
	}
	return refused, nil
}

// CountRefusedRecords counts the tenant's refused records, for the
// operator's `tenant show`.
func (s *Store) CountRefusedRecords(ctx context.Context, tenantID uuid.UUID) (int, error) {
	var n int
	if err := s.queryRow(ctx, tenantID, `SELECT count(*) FROM refused_records WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		return 0, fmt.Errorf("error counting the refused records of tenant %s: %w", tenantID, err)
	}
	return n, nil
}
