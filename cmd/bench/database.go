package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/devpg"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// templateDB is the migrated database every measurement clones.
const templateDB = "bench_tmpl"

// database is the Postgres server the bench measures against: a private
// cluster (wiped at start, stopped at the end) or BENCH_DATABASE_URL's
// server. Each measurement gets a fresh clone of a migrated template, so
// none sees another's rows, dead tuples or sequences.
type database struct {
	adminURL string
	cluster  *devpg.Cluster // nil with BENCH_DATABASE_URL
	// Where is what the results say about the server.
	Where string
	// statements says pg_stat_statements is loaded and in the template,
	// so every clone has it.
	statements bool

	mu      sync.Mutex
	created []string
}

func openDatabase(ctx context.Context, dataDir, benchURL string, statements bool, say func(string, ...any)) (*database, error) {
	d := &database{}
	if benchURL != "" {
		d.adminURL = benchURL
		d.Where = "BENCH_DATABASE_URL " + redactURL(benchURL)
	} else {
		dir := filepath.Join(dataDir, "bench-pg")
		stopStaleCluster(dir)
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("error wiping %s: %w", dir, err)
		}
		say("starting a private Postgres under %s ...", dir)
		cluster, err := devpg.Start(ctx, dir)
		if err != nil {
			return nil, err
		}
		d.cluster = cluster
		d.adminURL = cluster.URL("postgres")
		d.Where = fmt.Sprintf("private cluster %s (devpg: fsync=off, max_connections=300)", dir)
		if statements {
			// pg_stat_statements needs a restart to load; it costs a few
			// percent and says where Postgres spends its time.
			if err := d.exec(ctx, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"); err != nil {
				return nil, err
			}
			if err := cluster.Stop("fast"); err != nil {
				return nil, err
			}
			if err := cluster.Restart(ctx); err != nil {
				return nil, err
			}
			if err := waitPostgres(ctx, d.adminURL); err != nil {
				return nil, err
			}
			d.Where += ", pg_stat_statements loaded"
		}
	}
	say("migrating the template database ...")
	if err := d.makeTemplate(ctx); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *database) makeTemplate(ctx context.Context) error {
	if err := d.exec(ctx, "DROP DATABASE IF EXISTS "+templateDB+" WITH (FORCE)"); err != nil {
		return err
	}
	if err := d.exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("error creating the template database (BENCH_DATABASE_URL's user needs CREATEDB): %w", err)
	}
	d.remember(templateDB)
	pool, err := store.NewPool(ctx, d.url(templateDB), store.PoolOpts{MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		return err
	}
	// Workers connect as the application role, under row-level security,
	// as deployed ones do (the role is server-wide, its grants are cloned
	// with the template).
	if err := store.EnsureAppLogin(ctx, pool, appRole); err != nil {
		return err
	}
	// With BENCH_DATABASE_URL this works only where the server preloads
	// the library; without it the figures simply lack the statements.
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err == nil {
		var rows int
		d.statements = pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_statements").Scan(&rows) == nil
	}
	return nil
}

// appRole is the role bench workers and the enqueue CLI connect as.
const appRole = "leadorch_worker"

// appURL is dbURL (an owner's) with appRole as the user.
func appURL(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	u.User = url.User(appRole)
	return u.String()
}

func waitPostgres(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clone creates a fresh migrated database called name and returns its URL.
func (d *database) clone(ctx context.Context, name string) (string, error) {
	if err := d.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return "", err
	}
	var err error
	for range 50 {
		err = d.exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pgx.Identifier{name}.Sanitize(), templateDB))
		if err == nil || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("error creating database %s: %w", name, err)
	}
	d.remember(name)
	return d.url(name), nil
}

// drop removes a clone, disconnecting whatever is still on it.
func (d *database) drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = d.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func (d *database) remember(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.created = append(d.created, name)
}

// close stops the private cluster, or drops what the bench created on
// BENCH_DATABASE_URL's server.
func (d *database) close() {
	if d.cluster != nil {
		if err := d.cluster.Stop("fast"); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		return
	}
	d.mu.Lock()
	names := d.created
	d.mu.Unlock()
	for _, n := range names {
		d.drop(n)
	}
}

// pool opens a pool on database name.
func (d *database) pool(ctx context.Context, name string, maxConns int32) (*pgxpool.Pool, error) {
	return store.NewPool(ctx, d.url(name), store.PoolOpts{MaxConns: maxConns})
}

func (d *database) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, d.adminURL)
	if err != nil {
		return fmt.Errorf("error connecting to %s: %w", redactURL(d.adminURL), err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// execIn runs sql in database name.
func (d *database) execIn(ctx context.Context, name, sql string) error {
	conn, err := pgx.Connect(ctx, d.url(name))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// url is the admin URL with its database replaced by name.
func (d *database) url(name string) string {
	u, err := url.Parse(d.adminURL)
	if err != nil {
		return d.adminURL
	}
	u.Path = "/" + name
	return u.String()
}

// postmasterPID is the private cluster's server process, 0 otherwise.
func (d *database) postmasterPID() int {
	if d.cluster == nil {
		return 0
	}
	return readPostmasterPID(d.cluster.Dir)
}

func readPostmasterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// stopStaleCluster stops a cluster a killed earlier run left running in
// dir (immediate shutdown: its data is about to be wiped anyway).
func stopStaleCluster(dir string) {
	pid := readPostmasterPID(dir)
	if pid <= 0 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "postgres") {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	for range 100 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}

// fresh clones a database for one measurement and opens a pool of
// maxConns on it; cleanup closes the pool and drops the database.
func (d *database) fresh(ctx context.Context, name string, maxConns int32) (dbURL string, pool *pgxpool.Pool, cleanup func(), err error) {
	if dbURL, err = d.clone(ctx, name); err != nil {
		return "", nil, nil, err
	}
	if pool, err = d.pool(ctx, name, maxConns); err != nil {
		d.drop(name)
		return "", nil, nil, err
	}
	return dbURL, pool, func() { pool.Close(); d.drop(name) }, nil
}
