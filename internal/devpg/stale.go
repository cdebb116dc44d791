package devpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A private cluster outlives the process that started it when that process
// dies without stopping it: pg_ctl start daemonizes the server, so a closed
// terminal (SIGHUP) or a SIGKILL of `make demo` left it running, and the
// next Start then failed with pg_ctl's "another server might be running".
// Start tells such a stale server from one in use by recording who started
// it: the owner file beside the cluster's folder holds that process's id.

// ownerFile is where the id of the process that started the cluster in dir
// is kept: beside dir, not in it, since the data folder belongs to
// Postgres (and, as root, to the postgres user).
func ownerFile(dir string) string { return dir + ".owner" }

// writeOwner records this process as the one that started dir's server.
func writeOwner(dir string) error {
	if err := os.WriteFile(ownerFile(dir), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("error recording the owner of the private Postgres: %w", err)
	}
	return nil
}

// readPID reads the process id on the first line of path (0: none).
func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// alive reports whether process pid exists and has not exited (a zombie,
// exited but not yet reaped, counts as gone).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) // no /proc here: trust kill
	}
	// The state follows the command name in parentheses: "1234 (postgres) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// isPostgres reports whether process pid is a Postgres server. Where /proc
// cannot tell, a live process is taken to be one.
func isPostgres(pid int) bool {
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return alive(pid)
	}
	name := strings.TrimSpace(string(comm))
	return alive(pid) && (name == "postgres" || name == "postmaster")
}

// clearStale makes dir ready for a server to start. A server still running
// on dir whose owner has gone is stale: it is stopped, and its process id
// returned. One whose owner is alive is in use: Start fails and says what
// to do. A postmaster.pid left by a server that is gone is removed when
// its id now belongs to another process (Postgres would refuse to start,
// taking that process for a server).
func (c *Cluster) clearStale(ctx context.Context) (int, error) {
	lock := c.Dir + "/postmaster.pid"
	server := readPID(lock)
	if server == 0 {
		return 0, nil
	}
	if !isPostgres(server) {
		if err := os.Remove(lock); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("error removing the stale %s: %w", lock, err)
		}
		return 0, nil
	}
	if owner := readPID(ownerFile(c.Dir)); owner != 0 && alive(owner) {
		return 0, fmt.Errorf("the private Postgres under %s (pid %d) is in use by process %d, which started it: "+
			"stop that process first (another make demo, chaos or bench in this folder?), "+
			"or stop the server yourself with: %s", c.Dir, server, owner, c.stopCommand())
	}
	out, err := c.cmd(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("error stopping the private Postgres an earlier run left running under %s (pid %d): %w\n%s"+
			"stop it yourself with: %s", c.Dir, server, err, out, c.stopCommand())
	}
	_ = os.Remove(ownerFile(c.Dir))
	return server, nil
}

// stopCommand is the command line that stops the cluster, to tell a
// person: as root pg_ctl must run as the cluster's owner.
func (c *Cluster) stopCommand() string {
	cmd := filepath.Join(c.bin, "pg_ctl") + " -D " + c.Dir + " -m fast stop"
	if c.as != "" {
		cmd = "runuser -u " + c.as + " -- " + cmd
	}
	return cmd
}
