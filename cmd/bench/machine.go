package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// machine is what the figures were measured on.
type machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemoryMB  int64  `json:"memory_mb"`
	GoVersion string `json:"go_version"`
	Postgres  string `json:"postgres"`
	Database  string `json:"database"`
	Kernel    string `json:"kernel"`
	// BackgroundBusy is the share of all CPUs busy during two seconds
	// before the first measurement: load from outside the bench (other
	// processes on the machine), which every figure competes with.
	BackgroundBusy float64 `json:"background_cpu_busy"`
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %d MB RAM, %s, %s, kernel %s; database: %s; background load before the run: %.0f%% of the CPUs busy",
		m.CPUs, m.CPUModel, m.MemoryMB, m.GoVersion, m.Postgres, m.Kernel, m.Database, 100*m.BackgroundBusy)
}

func describeMachine(ctx context.Context, db *database) machine {
	m := machine{
		CPUs:      runtime.NumCPU(),
		CPUModel:  cpuModel(),
		MemoryMB:  memInfoKB("MemTotal") / 1024,
		GoVersion: runtime.Version(),
		Database:  db.Where,
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	busy0, idle0 := machineTicks()
	time.Sleep(2 * time.Second)
	busy1, idle1 := machineTicks()
	if total := (busy1 - busy0) + (idle1 - idle0); total > 0 {
		m.BackgroundBusy = float64(busy1-busy0) / float64(total)
	}
	if conn, err := pgx.Connect(ctx, db.adminURL); err == nil {
		var v string
		if conn.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
			m.Postgres = "PostgreSQL " + v
		}
		conn.Close(ctx)
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memInfoKB(name string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			var n int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &n)
			return n
		}
	}
	return 0
}
