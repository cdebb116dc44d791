package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/leadorch/lead-orchestrator/db/migrations"
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
