package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// enqueueResult is one run of the real `enqueue backfill`.
type enqueueResult struct {
	Windows int `json:"windows"`
	// Seconds and JobsPerSec are enqueue's own figures (the insert
	// transaction); WallSeconds is the whole process.
	Seconds     float64 `json:"seconds"`
	JobsPerSec  float64 `json:"jobs_per_sec"`
	WallSeconds float64 `json:"wall_seconds"`
	PeakRSS     int64   `json:"peak_rss_bytes"`
	Inserted    int     `json:"jobs_in_database"`
}

var enqueueTook = regexp.MustCompile(`took (\S+) \(([0-9.]+) jobs/s\)`)

func (b *bench) runEnqueue(ctx context.Context, res *results) error {
	const dbName = "bench_enqueue"
	n := b.o.enqueueWindows
	b.say("bulk enqueue: `enqueue backfill` of %d one-minute windows ...", n)
	dbURL, pool, cleanup, err := b.db.fresh(ctx, dbName, 2)
	if err != nil {
		return err
	}
	defer cleanup()
	if _, err := createTenant(ctx, store.New(pool), lead.Tenant{
		Name: "backfill-shop", CRMKind: "shopmonkey", CRMLocationID: "loc-backfill",
		TimeZone: "UTC", PollInterval: time.Minute, SMSFrom: "+15125550100", Enabled: true,
	}, "sm_key_backfill"); err != nil {
		return err
	}

	until := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	since := until.Add(-time.Duration(n) * time.Minute)
	cmd := exec.CommandContext(ctx, filepath.Join(b.o.binDir, "enqueue"), "backfill", "--tenant", "backfill-shop",
		"--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339), "--window", "1m")
	cmd.Env = append(os.Environ(), "LEADORCH_DATABASE_URL="+appURL(dbURL))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("enqueue backfill failed: %w\n%s%s", err, stdout.String(), stderr.String())
	}
	r := &enqueueResult{Windows: n, WallSeconds: time.Since(start).Seconds()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSS = ru.Maxrss * 1024
	}
	m := enqueueTook.FindStringSubmatch(stdout.String())
	if m == nil {
		return fmt.Errorf("cannot find `took ... (N jobs/s)` in enqueue's output:\n%s", stdout.String())
	}
	took, err := time.ParseDuration(m[1])
	if err != nil {
		return fmt.Errorf("enqueue's took %q: %w", m[1], err)
	}
	r.Seconds = took.Seconds()
	r.JobsPerSec, _ = strconv.ParseFloat(m[2], 64)
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'poll_crm'`).Scan(&r.Inserted); err != nil {
		return err
	}
	res.Enqueue = r
	b.say("bulk enqueue: %.0f jobs/s (%d jobs in %.2fs; process %.2fs, peak RSS %s)", r.JobsPerSec, r.Inserted, r.Seconds, r.WallSeconds, mb(r.PeakRSS))
	if r.Inserted != n {
		return fmt.Errorf("enqueue said it inserted %d windows but the database has %d poll_crm jobs", n, r.Inserted)
	}
	return nil
}
