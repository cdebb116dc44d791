package testdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncerOpts shape the pooler a test puts in front of its database.
type PgBouncerOpts struct {
	// PoolSize is PgBouncer's default_pool_size: the server connections
	// it opens per (database, user). Small (the default is 5) so that
	// clients really share server connections, as a fleet behind the
	// pooler does; 1 makes every transaction of a user run on the same
	// server connection, one after another.
	PoolSize int
}

// PgBouncer is a real PgBouncer (a child process) in transaction pooling
// mode in front of one test database, stopped when the test ends.
type PgBouncer struct {
	// Addr is where it listens, host:port on loopback.
	Addr string
	// PoolSize is the default_pool_size it runs with.
	PoolSize int
	log      *lockedBuffer
}

// pgBouncerBinary is where Debian's pgbouncer package installs it.
const pgBouncerBinary = "/usr/sbin/pgbouncer"

// StartPgBouncer starts PgBouncer in transaction pooling mode in front of
// the database of dbURL (as made by New or NewApp) and waits until it
// answers. It lets in the users of the test database (its owner and
// AppRole) without a password, as the test server trusts them; each
// client's user is the one it logs in to Postgres as.
//
// A missing pgbouncer fails the test: the tests that need it prove the
// fleet works behind the pooler operators put in front of Postgres.
func StartPgBouncer(t testing.TB, dbURL string, opts PgBouncerOpts) *PgBouncer {
	t.Helper()
	bin, err := findPgBouncer()
	if err != nil {
		t.Fatal(err)
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = 5
	}
	target, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("error parsing the test database URL: %v", err)
	}
	// The port is free when picked and may be taken before PgBouncer binds
	// it; a PgBouncer that exits at once is started again on another.
	var lastErr error
	for range 3 {
		p, err := startPgBouncer(t, bin, target, opts)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return nil
}

func findPgBouncer() (string, error) {
	if _, err := os.Stat(pgBouncerBinary); err == nil {
		return pgBouncerBinary, nil
	}
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	return "", errors.New("pgbouncer not found at " + pgBouncerBinary + " nor in PATH: the tests of pooled connections " +
		"need a real PgBouncer; install Debian's pgbouncer package: apt-get install pgbouncer")
}

// startPgBouncer runs one PgBouncer on a fresh port and waits for it; an
// error means it exited or never answered.
func startPgBouncer(t testing.TB, bin string, target *url.URL, opts PgBouncerOpts) (*PgBouncer, error) {
	t.Helper()
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	ini, err := writePgBouncerConfig(t.TempDir(), addr, target, opts.PoolSize)
	if err != nil {
		return nil, err
	}
	args := []string{ini}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root ("PgBouncer should not run as
		// root"), and CI's tests do. -u drops to nobody after it has read
		// its files, which may then stay root's; it reaches Postgres over
		// TCP, so it needs nothing of nobody's.
		args = []string{"-u", "nobody", ini}
	}
	log := &lockedBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("error starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	p := &PgBouncer{Addr: addr, PoolSize: opts.PoolSize, log: log}
	if err := p.waitReady(target, exited); err != nil {
		stop()
		return nil, err
	}
	t.Cleanup(stop)
	return p, nil
}

// writePgBouncerConfig writes pgbouncer.ini and its auth file into dir.
func writePgBouncerConfig(dir, addr string, target *url.URL, poolSize int) (string, error) {
	host, port, _ := strings.Cut(addr, ":")
	dbHost, dbPort := target.Hostname(), target.Port()
	if dbPort == "" {
		dbPort = "5432"
	}
	database := strings.TrimPrefix(target.Path, "/")
	users := []string{target.User.Username(), AppRole}
	var auth strings.Builder
	for _, u := range users {
		fmt.Fprintf(&auth, "%q \"\"\n", u)
	}
	authFile := filepath.Join(dir, "userlist.txt")
	if err := os.WriteFile(authFile, []byte(auth.String()), 0o600); err != nil {
		return "", fmt.Errorf("error writing PgBouncer's auth file: %w", err)
	}
	ini := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s

[pgbouncer]
listen_addr = %s
listen_port = %s
unix_socket_dir =
pidfile =
logfile =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = %d
reserve_pool_size = 0
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
`, database, dbHost, dbPort, database, host, port, authFile, poolSize)
	path := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(path, []byte(ini), 0o600); err != nil {
		return "", fmt.Errorf("error writing pgbouncer.ini: %w", err)
	}
	return path, nil
}

// waitReady connects through the pooler until a query answers (no fixed
// sleep), giving up when PgBouncer exits or after ten seconds.
func (p *PgBouncer) waitReady(target *url.URL, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	probe := p.URL(target.String())
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, probe)
		if err == nil {
			_, err = conn.Exec(ctx, "SELECT 1", pgx.QueryExecModeSimpleProtocol)
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("pgbouncer exited before it answered; its log:\n%s", p.log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgbouncer on %s never answered: %v; its log:\n%s", p.Addr, err, p.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL returns dbURL (a URL of the database behind the pooler, as any of
// its users) with the pooler's address in place of Postgres's.
func (p *PgBouncer) URL(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		// The URL came from this package, which parsed it already.
		panic(fmt.Sprintf("testdb: unparsable database URL: %v", err))
	}
	u.Host = p.Addr
	return u.String()
}

// Log is what PgBouncer logs, for a failing test's message: formatted
// with %s when the message is printed, it shows the log up to then.
func (p *PgBouncer) Log() fmt.Stringer { return p.log }

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("error finding a free port for pgbouncer: %w", err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// lockedBuffer collects a child process's output while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
