package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/devnet"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// workerSettings are the LEADORCH_* settings every worker replica of the
// bench runs with, tuned for throughput on a small machine.
type workerSettings struct {
	CRMWorkers         int
	SMSWorkers         int
	EmailWorkers       int
	BookkeepingWorkers int
	FetchCooldown      time.Duration
	FetchPollInterval  time.Duration
	MaxConns           int
	// ScheduleInterval is the scheduler's tick in the runs that use it
	// (latency, schedule lag); the end-to-end runs insert their polls
	// themselves and park the scheduler.
	ScheduleInterval time.Duration
	// PollIntervalSecs is the latency run's tenants' poll interval.
	PollIntervalSecs int
	// Extra is more LEADORCH_KEY=VALUE from -worker-env.
	Extra []string
}

func defaultWorkerSettings() workerSettings {
	return workerSettings{
		CRMWorkers:         50,
		SMSWorkers:         50,
		EmailWorkers:       50,
		BookkeepingWorkers: 100,
		FetchCooldown:      5 * time.Millisecond,
		FetchPollInterval:  100 * time.Millisecond,
		MaxConns:           40,
		ScheduleInterval:   time.Second,
		PollIntervalSecs:   5,
	}
}

// largestQueue is the bare River client's MaxWorkers unless -bare-workers
// says otherwise: the most one of the worker's queues may run at once.
func (w workerSettings) largestQueue() int {
	return max(w.CRMWorkers, w.SMSWorkers, w.EmailWorkers, w.BookkeepingWorkers)
}

// env is the environment of one replica.
func (w workerSettings) env(dbURL string, urls sandbox.BaseURLs, httpAddr string, scheduleInterval time.Duration) []string {
	env := append(urls.WorkerEnv(),
		"LEADORCH_DATABASE_URL="+appURL(dbURL),
		"LEADORCH_DATABASE_MAX_CONNS="+strconv.Itoa(w.MaxConns),
		"LEADORCH_HTTP_ADDR="+httpAddr,
		"LEADORCH_RIVERUI_USERNAME=bench",
		"LEADORCH_RIVERUI_PASSWORD=bench-password-not-secret",
		"LEADORCH_QUEUES_CRM_MAX_WORKERS="+strconv.Itoa(w.CRMWorkers),
		"LEADORCH_QUEUES_SMS_MAX_WORKERS="+strconv.Itoa(w.SMSWorkers),
		"LEADORCH_QUEUES_EMAIL_MAX_WORKERS="+strconv.Itoa(w.EmailWorkers),
		"LEADORCH_QUEUES_BOOKKEEPING_MAX_WORKERS="+strconv.Itoa(w.BookkeepingWorkers),
		"LEADORCH_RIVER_FETCH_COOLDOWN="+w.FetchCooldown.String(),
		"LEADORCH_RIVER_FETCH_POLL_INTERVAL="+w.FetchPollInterval.String(),
		"LEADORCH_RIVER_SCHEDULE_INTERVAL="+scheduleInterval.String(),
		"LEADORCH_LOG_LEVEL=warn",
		"LEADORCH_LOG_FORMAT=json",
	)
	return append(env, w.Extra...)
}

// workerReport is the settings as the results show them.
type workerReport struct {
	Env                []string `json:"env"`
	ScheduleInterval   string   `json:"schedule_interval"`
	PollIntervalSecs   int      `json:"latency_poll_interval_seconds"`
	PollOverlapDefault string   `json:"poll_overlap"`
}

func (w workerSettings) report() workerReport {
	env := []string{
		"LEADORCH_QUEUES_CRM_MAX_WORKERS=" + strconv.Itoa(w.CRMWorkers),
		"LEADORCH_QUEUES_SMS_MAX_WORKERS=" + strconv.Itoa(w.SMSWorkers),
		"LEADORCH_QUEUES_EMAIL_MAX_WORKERS=" + strconv.Itoa(w.EmailWorkers),
		"LEADORCH_QUEUES_BOOKKEEPING_MAX_WORKERS=" + strconv.Itoa(w.BookkeepingWorkers),
		"LEADORCH_RIVER_FETCH_COOLDOWN=" + w.FetchCooldown.String(),
		"LEADORCH_RIVER_FETCH_POLL_INTERVAL=" + w.FetchPollInterval.String(),
		"LEADORCH_DATABASE_MAX_CONNS=" + strconv.Itoa(w.MaxConns),
		"LEADORCH_LOG_LEVEL=warn",
	}
	overlap := "2m (default)"
	for _, kv := range w.Extra {
		env = append(env, kv)
		if v, ok := cutPrefix(kv, "LEADORCH_POLL_OVERLAP="); ok {
			overlap = v
		}
	}
	return workerReport{Env: env, ScheduleInterval: w.ScheduleInterval.String(), PollIntervalSecs: w.PollIntervalSecs, PollOverlapDefault: overlap}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// fleet is a set of running worker replicas.
type fleet struct {
	workers []*child
	// metricsURLs are the replicas' /metrics on their operator listeners.
	metricsURLs []string
}

// startFleet starts n replicas with env and waits until each answers
// /readyz.
func (b *bench) startFleet(ctx context.Context, n int, name string, env func(httpAddr string) []string) (*fleet, error) {
	f := &fleet{}
	for i := 1; i <= n; i++ {
		addr, err := devnet.FreeAddr()
		if err != nil {
			return nil, err
		}
		// Each replica's operator listener (metrics, River UI) needs a
		// port of its own.
		operatorAddr, err := devnet.FreeAddr()
		if err != nil {
			return nil, err
		}
		c, err := b.procs.start(filepath.Join(b.o.binDir, "worker"), fmt.Sprintf("%s-worker-%d.log", name, i),
			append(env(addr), "LEADORCH_OPERATOR_ADDR="+operatorAddr), "run")
		if err != nil {
			f.stop(b.procs)
			return nil, err
		}
		f.workers = append(f.workers, c)
		f.metricsURLs = append(f.metricsURLs, "http://"+operatorAddr+"/metrics")
		if err := devnet.WaitOK(ctx, "http://"+addr+"/readyz", time.Minute, c.done); err != nil {
			f.stop(b.procs)
			return nil, fmt.Errorf("worker %d did not become ready (see %s): %w", i, c.logPath, err)
		}
	}
	return f, nil
}

// stop stops every replica gracefully, all at once.
func (f *fleet) stop(p *procs) {
	for _, w := range f.workers {
		p.signal(w)
	}
	for _, w := range f.workers {
		p.stop(w)
	}
}

// peakRSS is the highest VmHWM of the replicas, in bytes, and every
// replica's.
func (f *fleet) peakRSS() (int64, []int64) {
	var peak int64
	var all []int64
	for _, w := range f.workers {
		hwm := procStatusKB(w.cmd.Process.Pid, "VmHWM") * 1024
		all = append(all, hwm)
		peak = max(peak, hwm)
	}
	return peak, all
}

func (f *fleet) pids() []int {
	var out []int
	for _, w := range f.workers {
		out = append(out, w.cmd.Process.Pid)
	}
	return out
}

// goBuild builds the worker and enqueue binaries of this checkout into dir.
func goBuild(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", abs+string(filepath.Separator), "./cmd/worker", "./cmd/enqueue")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/worker ./cmd/enqueue failed (run make bench from the repository root, or pass -bin): %w\n%s", err, out)
	}
	return nil
}
