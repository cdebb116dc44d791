// Package devpg runs a private PostgreSQL cluster for `make demo` (and the
// fault harness): initdb into a folder of the project, pg_ctl start on a
// free loopback port, pg_ctl stop at the end. It needs only the server
// binaries (initdb, pg_ctl), found on PATH or under /usr/lib/postgresql.
//
// initdb refuses to run as root, so as root the cluster belongs to the
// "postgres" system user and the binaries run through runuser.
package devpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running private cluster.
type Cluster struct {
	Dir  string
	Port int
	// ClearedStale is the process id of a server an earlier run left
	// running on Dir, which Start stopped (0: there was none).
	ClearedStale int
	bin          string
	as           string // system user to run as, "" for the current one
}

// URL is the connection URL of database db on the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Start initialises dir if it holds no cluster and starts it on a free
// port (or the port it used last, when still free). It waits until the
// server accepts connections.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, bin: bin}
	if os.Geteuid() == 0 {
		c.as = "postgres"
	}
	// The parent stays world-traversable: as root, the cluster's owner is
	// another user who must reach it.
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("error creating %s: %w", filepath.Dir(abs), err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("error creating %s: %w", abs, err)
	}
	if err := c.chown(abs); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		out, err := c.cmd(ctx, "initdb", "-D", abs, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("error running initdb: %w\n%s", err, out)
		}
	}
	if c.ClearedStale, err = c.clearStale(ctx); err != nil {
		return nil, err
	}
	if c.Port, err = freePort(); err != nil {
		return nil, err
	}
	logFile := filepath.Join(abs, "server.log")
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=300", c.Port, abs)
	out, err := c.cmd(ctx, "pg_ctl", "-D", abs, "-l", logFile, "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("error starting postgres (see %s): %w\n%s", logFile, err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			if err := writeOwner(abs); err != nil {
				_ = c.Stop("fast")
				return nil, err
			}
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("postgres did not accept connections: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CreateDatabase creates db unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	return err
}

// RecreateDatabase drops db if it exists (disconnecting whoever is
// connected to it) and creates it empty. `make demo` starts each run on a
// fresh database: a second run kept the first one's leads, and its counts
// and its texts no longer matched what the sandbox of the run held.
func (c *Cluster) RecreateDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	name := pgx.Identifier{db}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("error dropping database %s: %w", db, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("error creating database %s: %w", db, err)
	}
	return nil
}

// Stop stops the cluster. Mode is "fast" (disconnect clients, clean
// shutdown) or "immediate" (a crash, as the fault harness wants).
func (c *Cluster) Stop(mode string) error {
	out, err := c.cmd(context.Background(), "pg_ctl", "-D", c.Dir, "-m", mode, "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("error stopping postgres: %w\n%s", err, out)
	}
	_ = os.Remove(ownerFile(c.Dir))
	return nil
}

// Restart starts a stopped cluster again on the same port.
func (c *Cluster) Restart(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=300", c.Port, c.Dir)
	out, err := c.cmd(ctx, "pg_ctl", "-D", c.Dir, "-l", filepath.Join(c.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("error restarting postgres: %w\n%s", err, out)
	}
	return writeOwner(c.Dir)
}

func (c *Cluster) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.as != "" {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", c.as, "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

func (c *Cluster) chown(dir string) error {
	if c.as == "" {
		return nil
	}
	u, err := user.Lookup(c.as)
	if err != nil {
		return fmt.Errorf("running as root needs the %q system user to own the cluster: %w", c.as, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// findBin finds the directory of initdb and pg_ctl.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		sort.Strings(matches)
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql) or set DATABASE_URL")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr := ln.Addr().String()
	_, port, _ := strings.Cut(addr, ":")
	return strconv.Atoi(port)
}
