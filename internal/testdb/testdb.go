// Package testdb gives each test its own migrated Postgres database, so that
// tests run in parallel against a real server and never see each other's
// rows. The first caller on a server migrates a template database (named by
// a hash of the migrations, so a changed schema gets a new template); every
// test then clones it with CREATE DATABASE ... TEMPLATE, which takes tens of
// milliseconds, and drops its clone at cleanup.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/db/migrations"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// AdminURL is the server tests use: TEST_DATABASE_URL if set, else the
// machine's Postgres on 127.0.0.1:5432 as user postgres.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// templateLockID serialises template creation across test processes (go
// test runs packages in parallel).
const templateLockID int64 = 0x74657374_6462 // "testdb"

// New creates a fresh, fully migrated database for t and returns a pool on
// it and its URL (for code under test that opens its own connections, such
// as a worker started by run()). The database is dropped when t ends.
func New(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	name := "leadorch_test_" + randomSuffix()
	tmpl := ensureTemplate(t)
	admin := adminConn(t)
	defer admin.Close(ctx)
	var err error
	for i := 0; i < 50; i++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
		if err == nil || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("error creating test database: %v", err)
	}
	dbURL := withDatabase(t, AdminURL(), name)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("error opening test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		DropDatabase(t, name)
	})
	return pool, dbURL
}

// AppRole is the LOGIN role tests connect as when they play the
// application: a member of leadorch_app that owns nothing, so row-level
// security applies to it exactly as to a deployed worker.
const AppRole = "leadorch_test_app"

// DB is a test database seen two ways: as its owner (to set up and to
// inspect across tenants) and as the application role (what the code under
// test uses).
type DB struct {
	Owner    *pgxpool.Pool
	OwnerURL string
	App      *pgxpool.Pool
	AppURL   string
}

// NewApp creates a fresh migrated database for t, like New, and opens it as
// the application role too.
func NewApp(t testing.TB) DB {
	t.Helper()
	owner, ownerURL := New(t)
	appURL := AppURLOf(t, ownerURL)
	app, err := pgxpool.New(context.Background(), appURL)
	if err != nil {
		t.Fatalf("error opening test database as %s: %v", AppRole, err)
	}
	t.Cleanup(app.Close)
	return DB{Owner: owner, OwnerURL: ownerURL, App: app, AppURL: appURL}
}

// AppURLOf returns dbURL with the user changed to AppRole, creating the
// role on the server first if it is missing (roles are server-wide; the
// migrations made leadorch_app).
func AppURLOf(t testing.TB, dbURL string) string {
	t.Helper()
	appURL, err := store.DevAppURL(context.Background(), dbURL, AppRole)
	if err != nil {
		t.Fatalf("error creating the test application role: %v", err)
	}
	return appURL
}

// NewEmpty creates an empty database (no migrations), for tests of the
// migrations themselves.
func NewEmpty(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	ctx := context.Background()
	name := "leadorch_test_" + randomSuffix()
	admin := adminConn(t)
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("error creating test database: %v", err)
	}
	dbURL := withDatabase(t, AdminURL(), name)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("error opening test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		DropDatabase(t, name)
	})
	return pool, dbURL
}

// DropDatabase drops a test database, disconnecting anything still on it.
func DropDatabase(t testing.TB, name string) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Errorf("error connecting to drop %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("error dropping %s: %v", name, err)
	}
}

func ensureTemplate(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := "leadorch_tmpl_" + schemaHash(t)
	admin := adminConn(t)
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockID); err != nil {
		t.Fatalf("error taking template lock: %v", err)
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", templateLockID) //nolint:errcheck

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		t.Fatalf("error looking for template: %v", err)
	}
	if exists {
		return name
	}
	// A half-built template from a crashed run is not marked datistemplate.
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Fatalf("error clearing template: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("error creating template: %v", err)
	}
	pool, err := pgxpool.New(ctx, withDatabase(t, AdminURL(), name))
	if err != nil {
		t.Fatalf("error opening template: %v", err)
	}
	err = store.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	pool.Close()
	if err != nil {
		t.Fatalf("error migrating template: %v", err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true"); err != nil {
		t.Fatalf("error marking template: %v", err)
	}
	return name
}

// schemaHash names the template after the migrations it holds, so a
// changed migration never reuses a stale template.
func schemaHash(t testing.TB) string {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%s\x00", path, b)
		return nil
	})
	if err != nil {
		t.Fatalf("error hashing migrations: %v", err)
	}
	// River's schema version is part of what the template holds.
	fmt.Fprint(h, riverSchemaMarker)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// riverSchemaMarker changes when River is upgraded (bump with go.mod).
const riverSchemaMarker = "river v0.51.2"

func adminConn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("error connecting to test Postgres at TEST_DATABASE_URL or 127.0.0.1:5432 (is it running?): %v", err)
	}
	return conn
}

func withDatabase(t testing.TB, base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("error parsing TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
