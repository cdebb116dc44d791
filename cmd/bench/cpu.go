package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc's CPU times (USER_HZ, 100 on Linux).
const userHZ = 100

// cpuSplit is where a measurement's CPU time went: the worker replicas,
// Postgres, the bench process itself (which serves the provider fakes) and
// everything else, in CPU seconds and as a share of the machine's
// capacity (CPUs x wall time).
type cpuSplit struct {
	WallSeconds     float64 `json:"wall_seconds"`
	CapacitySeconds float64 `json:"capacity_cpu_seconds"`
	Workers         float64 `json:"workers_cpu_seconds"`
	Postgres        float64 `json:"postgres_cpu_seconds"`
	BenchAndFakes   float64 `json:"bench_and_fakes_cpu_seconds"`
	Other           float64 `json:"other_cpu_seconds"`
	Idle            float64 `json:"idle_cpu_seconds"`
}

func (c cpuSplit) String() string {
	if c.CapacitySeconds == 0 {
		return "n/a"
	}
	pct := func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v/c.CapacitySeconds) }
	return fmt.Sprintf("workers %s, postgres %s, bench+fakes %s, other %s, idle %s",
		pct(c.Workers), pct(c.Postgres), pct(c.BenchAndFakes), pct(c.Other), pct(c.Idle))
}

// cpuMeter takes the snapshots a cpuSplit is the difference of.
type cpuMeter struct {
	workers     []int
	postmaster  int
	start       cpuSnap
	startedWall time.Time
}

type cpuSnap struct {
	workers, postgres, self, busy, idle int64
}

func startCPUMeter(workers []int, postmaster int) *cpuMeter {
	m := &cpuMeter{workers: workers, postmaster: postmaster, startedWall: time.Now()}
	m.start = m.snap()
	return m
}

func (m *cpuMeter) snap() cpuSnap {
	var s cpuSnap
	for _, pid := range m.workers {
		u, sys, _, _ := procTimes(pid)
		s.workers += u + sys
	}
	s.postgres = postgresTicks(m.postmaster)
	u, sys, _, _ := procTimes(os.Getpid())
	s.self = u + sys
	s.busy, s.idle = machineTicks()
	return s
}

// stop returns the split since start. Call it before the workers exit.
func (m *cpuMeter) stop() cpuSplit {
	end := m.snap()
	wall := time.Since(m.startedWall).Seconds()
	sec := func(t int64) float64 { return float64(t) / userHZ }
	c := cpuSplit{
		WallSeconds:     wall,
		CapacitySeconds: wall * float64(runtime.NumCPU()),
		Workers:         sec(end.workers - m.start.workers),
		Postgres:        sec(end.postgres - m.start.postgres),
		BenchAndFakes:   sec(end.self - m.start.self),
		Idle:            sec(end.idle - m.start.idle),
	}
	c.Other = max(0, sec(end.busy-m.start.busy)-c.Workers-c.Postgres-c.BenchAndFakes)
	return c
}

// procTimes reads utime, stime, cutime and cstime of pid.
func procTimes(pid int) (utime, stime, cutime, cstime int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return
	}
	_, after, ok := strings.Cut(string(b), ") ")
	if !ok {
		return
	}
	f := strings.Fields(after)
	// after ") " field 0 is state (stat field 3); utime is stat field 14.
	if len(f) < 15 {
		return
	}
	utime, _ = strconv.ParseInt(f[11], 10, 64)
	stime, _ = strconv.ParseInt(f[12], 10, 64)
	cutime, _ = strconv.ParseInt(f[13], 10, 64)
	cstime, _ = strconv.ParseInt(f[14], 10, 64)
	return
}

func procPPidAndComm(pid int) (int, string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ""
	}
	s := string(b)
	open, end := strings.Index(s, "("), strings.LastIndex(s, ")")
	if open < 0 || end < open {
		return 0, ""
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return 0, ""
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid, s[open+1 : end]
}

// postgresTicks is the CPU time of the private cluster: its postmaster,
// its live children, and the children that exited (the postmaster's
// cutime). Without a private cluster it sums every process named
// postgres on the machine.
func postgresTicks(postmaster int) int64 {
	var total int64
	if postmaster > 0 {
		u, s, cu, cs := procTimes(postmaster)
		total += u + s + cu + cs
	}
	entries, _ := filepath.Glob("/proc/[0-9]*")
	for _, e := range entries {
		pid, err := strconv.Atoi(filepath.Base(e))
		if err != nil || pid == postmaster {
			continue
		}
		ppid, comm := procPPidAndComm(pid)
		if (postmaster > 0 && ppid == postmaster) || (postmaster == 0 && comm == "postgres") {
			u, s, _, _ := procTimes(pid)
			total += u + s
		}
	}
	return total
}

// machineTicks reads the busy and idle time of all CPUs from /proc/stat.
func machineTicks() (busy, idle int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch i {
		case 3, 4: // idle, iowait
			idle += n
		case 8, 9: // guest, guest_nice: already counted in user and nice
		default:
			busy += n
		}
	}
	return busy, idle
}
