package devpg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// clusterDir returns a folder for a test's cluster that the postgres system
// user can reach when the test runs as root (t.TempDir's folders are 0700).
func clusterDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	return filepath.Join(dir, "pg")
}

// deadPID returns the id of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestStartClearsAStaleCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := clusterDir(t)

	first, err := Start(ctx, dir)
	require.NoError(t, err)
	require.Zero(t, first.ClearedStale)
	server := readPID(filepath.Join(dir, "postmaster.pid"))
	require.True(t, isPostgres(server), "the first server runs")
	// The process that started it dies without stopping it, as `make demo`
	// did when its terminal closed.
	require.NoError(t, os.WriteFile(ownerFile(dir), []byte(strconv.Itoa(deadPID(t))+"\n"), 0o644))

	second, err := Start(ctx, dir)
	require.NoError(t, err, "a server whose owner is gone must not stop the next start")
	t.Cleanup(func() { _ = second.Stop("immediate") })
	require.Equal(t, server, second.ClearedStale)
	require.False(t, alive(server), "the stale server was stopped")
	require.Equal(t, os.Getpid(), readPID(ownerFile(dir)), "the new server's owner is recorded")

	require.NoError(t, second.CreateDatabase(ctx, "leadorch"), "the new server answers")
	require.NoError(t, second.Stop("fast"))
	_, err = os.Stat(ownerFile(dir))
	require.ErrorIs(t, err, os.ErrNotExist, "a clean stop forgets the owner")
}

func TestStartRefusesAClusterInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := clusterDir(t)

	running, err := Start(ctx, dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = running.Stop("immediate") })
	server := readPID(filepath.Join(dir, "postmaster.pid"))

	// Its owner (this process) is alive: another run must not take it over.
	_, err = Start(ctx, dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "is in use by process "+strconv.Itoa(os.Getpid()))
	require.Contains(t, err.Error(), "pg_ctl -D "+dir+" -m fast stop")
	require.True(t, isPostgres(server), "the server in use still runs")
}

func TestStartRemovesALockOfAProcessThatIsNoServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := clusterDir(t)

	c, err := Start(ctx, dir)
	require.NoError(t, err)
	require.NoError(t, c.Stop("immediate"))
	// An immediate stop leaves postmaster.pid; after a reboot its id may
	// belong to any process, here this test's.
	lock := filepath.Join(dir, "postmaster.pid")
	require.NoError(t, os.WriteFile(lock, []byte(strconv.Itoa(os.Getpid())+"\n"+dir+"\n"), 0o600))
	require.NoError(t, c.chown(lock))

	again, err := Start(ctx, dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = again.Stop("immediate") })
	require.Zero(t, again.ClearedStale)
}
