package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The database isolates tenants itself (row-level security, migration 3):
// a transaction sees only the rows of the tenant named by the
// transaction-local setting leadorch.tenant_id, and the fleet's own rows
// (tenant_id NULL) only when leadorch.fleet is on. The application connects
// as a role that owns no table, so it cannot turn the policies off; a query
// that forgets its tenant finds nothing rather than another shop's rows.
//
// Every repository method runs its statements through open (or queryRow),
// which names the method's tenant for the transaction it runs in.

// Fleet is the tenant id of the fleet's own rows (the execution rows of the
// poll scheduler, which serves every tenant).
var Fleet = uuid.Nil

type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// open returns what a repository method of tenantID runs its statements
// on, and done, which the method defers with its error: on a transaction,
// the transaction itself, scoped once (a Store is made per transaction and
// a transaction serves one tenant); on a pool, a
// transaction of its own that done commits, or rolls back when the method
// failed.
func (s *Store) open(ctx context.Context, tenantID uuid.UUID) (db DBTX, done func(*error), err error) {
	if tx, ok := s.db.(pgx.Tx); ok {
		if !s.isScoped || s.scope != tenantID {
			if err := setScope(ctx, tx, tenantID); err != nil {
				return nil, nil, err
			}
			s.isScoped, s.scope = true, tenantID
		}
		return tx, func(*error) {}, nil
	}
	b, ok := s.db.(beginner)
	if !ok {
		return nil, nil, errors.New("store: the database handle can neither begin a transaction nor is one")
	}
	tx, err := b.Begin(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("error beginning transaction: %w", err)
	}
	if err := setScope(ctx, tx, tenantID); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return tx, func(errp *error) {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if *errp != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return
		}
		if err := tx.Commit(ctx); err != nil {
			*errp = fmt.Errorf("error committing: %w", err)
		}
	}, nil
}

// setScope names the tenant for the rest of tx. Both settings are written
// every time, so a transaction that served the fleet and then a tenant (or
// the reverse) never keeps the other's view.
func setScope(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID) error {
	if _, err := tx.Exec(ctx, setScopeSQL, scopeArgs(tenantID)...); err != nil {
		return fmt.Errorf("error setting the tenant of the transaction: %w", err)
	}
	return nil
}

// setScopeSQL sets both scope settings for the rest of the transaction.
const setScopeSQL = `SELECT set_config('leadorch.tenant_id', $1, true), set_config('leadorch.fleet', $2, true)`

// scopeArgs are setScopeSQL's arguments for tenantID (Fleet: no tenant,
// the fleet's own rows).
func scopeArgs(tenantID uuid.UUID) []any {
	if tenantID == Fleet {
		return []any{"", "on"}
	}
	return []any{tenantID.String(), "off"}
}

// batcher is a pool (or connection) that can send several statements in
// one round trip.
type batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// queryRow runs one single-row query of tenantID. On a pool it sends the
// tenant setting and the query as one batch: the extended protocol runs a
// batch in one implicit transaction, so the transaction-local setting
// holds for the query, at the cost of one round trip instead of four
// (begin, set, query, commit). The hot paths (a send's tenant and lead, a
// CRM request's budget) read this way.
func (s *Store) queryRow(ctx context.Context, tenantID uuid.UUID, sql string, args ...any) pgx.Row {
	b, ok := s.db.(batcher)
	if _, isTx := s.db.(pgx.Tx); isTx || !ok {
		db, done, err := s.open(ctx, tenantID)
		if err != nil {
			return errRow{err}
		}
		return &doneRow{row: db.QueryRow(ctx, sql, args...), done: done}
	}
	batch := &pgx.Batch{}
	batch.Queue(setScopeSQL, scopeArgs(tenantID)...)
	batch.Queue(sql, args...)
	br := b.SendBatch(ctx, batch)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return errRow{fmt.Errorf("error setting the tenant of the statement: %w", err)}
	}
	return &batchRow{row: br.QueryRow(), br: br}
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// doneRow ends its transaction (see open) once scanned.
type doneRow struct {
	row  pgx.Row
	done func(*error)
}

func (r *doneRow) Scan(dest ...any) (err error) {
	defer r.done(&err)
	return r.row.Scan(dest...)
}

// batchRow closes its batch once scanned.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r *batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}
