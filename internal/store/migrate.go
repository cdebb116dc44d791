package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"regexp"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/leadorch/lead-orchestrator/db/migrations"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// migrateLockID is the advisory lock every `worker migrate` holds while it
// runs, so replicas that start together migrate one after another: the
// first applies everything, the rest find nothing to do. (golang-migrate
// locks its own part, but River's migrator does not.)
const migrateLockID int64 = 0x6c656164_6f726368 // "leadorch"

// Migrate brings the database up to date: the app's tables (golang-migrate,
// embedded SQL) and River's schema (rivermigrate). It is idempotent and safe
// to run from several processes at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return withMigrateLock(ctx, pool, func() error {
		if err := migrateApp(pool, func(m *migrate.Migrate) error { return m.Up() }); err != nil {
			return err
		}
		migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
		if err != nil {
			return fmt.Errorf("error preparing River migrations: %w", err)
		}
		res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("error migrating River schema: %w", err)
		}
		for _, v := range res.Versions {
			logger.InfoContext(ctx, "applied river migration", slog.Int("version", v.Version))
		}
		// The app's index on river_job (migration 11) needs River's table,
		// which a fresh database has only now.
		if _, err := pool.Exec(ctx, `SELECT leadorch_index_river_job()`); err != nil {
			return fmt.Errorf("error indexing River's jobs: %w", err)
		}
		return nil
	})
}

// MigrateDown removes the app's tables and River's schema. Only tests and
// operators tearing a database down call it.
func MigrateDown(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return withMigrateLock(ctx, pool, func() error {
		if err := migrateApp(pool, func(m *migrate.Migrate) error { return m.Down() }); err != nil {
			return err
		}
		migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
		if err != nil {
			return fmt.Errorf("error preparing River migrations: %w", err)
		}
		_, err = migrator.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
		if err != nil {
			return fmt.Errorf("error removing River schema: %w", err)
		}
		return nil
	})
}

// AppSchemaVersion returns the app migration version applied, and whether
// the last migration failed half way (dirty).
func AppSchemaVersion(pool *pgxpool.Pool) (version uint, dirty bool, err error) {
	err = migrateApp(pool, func(m *migrate.Migrate) error {
		version, dirty, err = m.Version()
		if errors.Is(err, migrate.ErrNilVersion) {
			return nil
		}
		return err
	})
	return version, dirty, err
}

func migrateApp(pool *pgxpool.Pool, do func(*migrate.Migrate) error) error {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return fmt.Errorf("error reading embedded migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	driver, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		return fmt.Errorf("error preparing app migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		return fmt.Errorf("error preparing app migrations: %w", err)
	}
	defer m.Close()
	if err := do(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("error applying app migrations: %w", err)
	}
	return nil
}

// withMigrateLock holds the migration lock on a connection of its own, not
// one from the pool: the migrators need pool connections while the lock is
// held, and replicas waiting for the lock must not starve the one holding it.
func withMigrateLock(ctx context.Context, pool *pgxpool.Pool, do func() error) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("error connecting for migration lock: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockID); err != nil {
		return fmt.Errorf("error taking migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the unlock must run even if ctx was cancelled.
		_, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrateLockID)
	}()
	return do()
}

// LatestSchemaVersion is the app schema version this build's migrations
// reach: a worker refuses a database behind it.
func LatestSchemaVersion() int64 {
	var latest int64
	entries, _ := fs.ReadDir(migrations.FS, ".")
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// SchemaVersion reads the app schema version straight from golang-migrate's
// table. Unlike AppSchemaVersion it needs no more than the read access the
// application role has (golang-migrate's driver tries to create its table,
// which only the owner may).
func SchemaVersion(ctx context.Context, db DBTX) (version int64, dirty bool, err error) {
	err = db.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&version, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("error reading the schema version: %w", err)
	}
	return version, dirty, nil
}

// CheckAppRole refuses a connection that row-level security would not
// bind: a superuser, a role with BYPASSRLS, or the owner of the tenant
// tables. The worker and the CLI call it at start so that a misconfigured
// database.url fails loudly instead of silently seeing every tenant.
func CheckAppRole(ctx context.Context, db DBTX) error {
	var (
		user                    string
		superuser, bypass, owns bool
	)
	err := db.QueryRow(ctx, `
		SELECT current_user, r.rolsuper, r.rolbypassrls,
			pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'public.tenants'::regclass), 'MEMBER')
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &superuser, &bypass, &owns)
	if err != nil {
		return fmt.Errorf("error checking the database role: %w", err)
	}
	why := ""
	switch {
	case superuser:
		why = "is a superuser"
	case bypass:
		why = "has BYPASSRLS"
	case owns:
		why = "owns the tables (or is a member of their owner)"
	}
	if why != "" {
		return fmt.Errorf("database.url connects as %q, which %s: row-level security would not keep tenants apart. "+
			"Connect as a LOGIN role that is a member of leadorch_app and owns nothing (README: Database roles); "+
			"the owner is for `worker migrate` (database.migrate_url) only", user, why)
	}
	return nil
}

// EnsureAppLogin creates (if needed) a LOGIN role that is a member of
// leadorch_app and nothing else, for development clusters and tests; in
// production a DBA creates it with a password. It runs on an owner's
// connection after Migrate.
func EnsureAppLogin(ctx context.Context, db DBTX, role string) error {
	if !pgIdentifier.MatchString(role) {
		return fmt.Errorf("role name %q must be lower-case letters, digits and underscores", role)
	}
	_, err := db.Exec(ctx, `DO $$
		BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+role+`') THEN
				BEGIN
					CREATE ROLE `+role+` LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE leadorch_app;
				EXCEPTION WHEN duplicate_object OR unique_violation THEN
					NULL;
				END;
			END IF;
			IF NOT pg_has_role('`+role+`', 'leadorch_app', 'MEMBER') THEN
				GRANT leadorch_app TO `+role+`;
			END IF;
		END $$`)
	if err != nil {
		return fmt.Errorf("error creating login role %s: %w", role, err)
	}
	return nil
}

var pgIdentifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// SealLegacySecrets seals the plaintext CRM keys that tenants stored before
// migration 3 and blanks them, so that no plaintext secret stays in the
// database. It runs as the owner in `worker migrate`; with no plaintext left
// it does nothing, and without a keyring (seal nil) it fails when there is
// plaintext to seal, naming how many tenants wait.
func SealLegacySecrets(ctx context.Context, db DBTX, seal func(tenantID uuid.UUID, secret lead.Secret) (lead.SealedSecret, error)) (int, error) {
	rows, err := db.Query(ctx, `SELECT id, crm_api_key FROM tenants WHERE crm_api_key <> ''`)
	if err != nil {
		return 0, fmt.Errorf("error looking for plaintext CRM keys: %w", err)
	}
	type legacy struct {
		id  uuid.UUID
		key string
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (legacy, error) {
		var l legacy
		return l, r.Scan(&l.id, &l.key)
	})
	if err != nil {
		return 0, fmt.Errorf("error looking for plaintext CRM keys: %w", err)
	}
	if len(found) > 0 && seal == nil {
		return 0, fmt.Errorf("%d tenants have a plaintext CRM key to seal: set credentials.keys and run `worker migrate` again", len(found))
	}
	for _, l := range found {
		sealed, err := seal(l.id, lead.Secret(l.key))
		if err != nil {
			return 0, err
		}
		if _, err := db.Exec(ctx, `UPDATE tenants SET crm_secret_key_id = $2, crm_secret_sealed = $3, crm_api_key = ''
			WHERE id = $1`, l.id, sealed.KeyID, sealed.Ciphertext); err != nil {
			return 0, fmt.Errorf("error sealing the CRM key of tenant %s: %w", l.id, err)
		}
	}
	return len(found), nil
}

// DevAppURL makes a LOGIN role for the application on the database at
// ownerURL (see EnsureAppLogin) and returns the URL to connect as it: the
// same server and database, the role as user, no password. It is for
// development clusters and tests, whose servers trust local connections.
func DevAppURL(ctx context.Context, ownerURL, role string) (string, error) {
	u, err := url.Parse(ownerURL)
	if err != nil {
		return "", errors.New("error parsing the owner's database URL")
	}
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return "", fmt.Errorf("error connecting as the owner: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := EnsureAppLogin(ctx, conn, role); err != nil {
		return "", err
	}
	u.User = url.User(role)
	return u.String(), nil
}
