// Package store is the orchestrator's Postgres: the pool, the migrations
// and the tenant-scoped repositories. Every repository method that touches a
// tenant's rows takes the tenant id first; the few fleet-wide methods (the
// poll scheduler, the operator's tenant list) say so in their names.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what repositories run on: a pool for single statements or a
// transaction shared with River (so a step's writes, the jobs it inserts and
// its completion commit together).
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store runs the repositories on one DBTX.
type Store struct {
	db DBTX
	// The tenant this Store's transaction is scoped to, once set.
	isScoped bool
	scope    uuid.UUID
}

// New returns a Store on db: store.New(pool) for single statements,
// store.New(tx) inside a job's transaction.
func New(db DBTX) *Store { return &Store{db: db} }

// ErrNotFound is returned when a row the caller named does not exist for
// the tenant given. It is the same error whether the row is missing or
// belongs to another tenant, so callers cannot probe other tenants' ids.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a uniqueness rule (a
// tenant name in use, say).
var ErrConflict = errors.New("conflict")

// PoolOpts shape a pool for where it connects: straight to Postgres, or
// through a pooler in transaction mode (README: Running in production,
// PgBouncer).
type PoolOpts struct {
	// MaxConns caps the pool; zero keeps pgx's default (the larger of 4
	// and the number of CPUs).
	MaxConns int32
	// QueryExecMode is pgx's default_query_exec_mode by name (see
	// ParseQueryExecMode); empty keeps the URL's, else pgx's default,
	// cache_statement.
	QueryExecMode string
}

// NewPool opens a pgx pool and checks that the database answers.
func NewPool(ctx context.Context, databaseURL string, opts PoolOpts) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's parse error can quote the URL, password included.
		return nil, errors.New("error parsing database.url: not a valid Postgres URL or DSN")
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.QueryExecMode != "" {
		mode, err := ParseQueryExecMode(opts.QueryExecMode)
		if err != nil {
			return nil, err
		}
		cfg.ConnConfig.DefaultQueryExecMode = mode
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("error opening database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("error connecting to database %s: %w", redactedTarget(cfg.ConnConfig), err)
	}
	return pool, nil
}

// ParseQueryExecMode names the pgx query exec modes database.query_exec_mode
// may choose. describe_exec is left out on purpose: its two round trips
// (describe, then execute) may reach two different server connections
// behind a pooler in transaction mode, where the other modes are safe or
// (cache_statement) plainly unsafe (pgx's doc.go, "PgBouncer").
func ParseQueryExecMode(name string) (pgx.QueryExecMode, error) {
	switch name {
	case "cache_statement":
		return pgx.QueryExecModeCacheStatement, nil
	case "cache_describe":
		return pgx.QueryExecModeCacheDescribe, nil
	case "exec":
		return pgx.QueryExecModeExec, nil
	case "simple_protocol":
		return pgx.QueryExecModeSimpleProtocol, nil
	}
	return 0, fmt.Errorf("error choosing the query exec mode: %q is not one of cache_statement, cache_describe, exec, simple_protocol", name)
}

func redactedTarget(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// jsonParam passes encoded JSON for a json or jsonb parameter as text, and
// nil (no value) as NULL. A []byte would do on a direct connection, where
// pgx prepares the statement and learns the column's type; in exec or
// simple_protocol mode (behind PgBouncer, database.query_exec_mode) pgx
// knows only the Go type, sends a []byte as bytea (\x7b22...), and
// Postgres refuses it as JSON (TestPipelineThroughPgBouncer caught it
// creating the first tenant).
func jsonParam(encoded []byte) any {
	if encoded == nil {
		return nil
	}
	return string(encoded)
}

// uuidStrings passes ids for a uuid[] parameter (cast $n::uuid[] in the
// SQL). pgx finds no text encoding for []uuid.UUID when it does not know
// the parameter's type, as in exec mode behind PgBouncer.
func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// nullTime stores the zero time as NULL: a CRM that did not say when is
// not the year 1.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
