package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs starts the bench's child processes and makes sure none outlives
// it: each is in its own process group (a terminal's Ctrl-C reaches only
// the bench, which then stops them in order), gets SIGKILL if the bench
// itself dies (Pdeathsig), and stopAll ends whatever is still running.
type procs struct {
	logDir string

	mu       sync.Mutex
	children []*child
}

func newProcs(logDir string) *procs { return &procs{logDir: logDir} }

// child is a process the bench started.
type child struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

// start runs bin with its output in logName under the log folder.
func (p *procs) start(bin, logName string, env []string, args ...string) (*child, error) {
	logPath := filepath.Join(p.logDir, logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("error starting %s: %w", bin, err)
	}
	c := &child{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(c.done) }()
	p.mu.Lock()
	p.children = append(p.children, c)
	p.mu.Unlock()
	return c, nil
}

// signal asks c to stop (SIGTERM: a graceful shutdown) without waiting.
func (p *procs) signal(c *child) {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// stop asks c to stop and kills it if it has not in 20 seconds.
func (p *procs) stop(c *child) {
	p.signal(c)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// stopAll stops every child still running, all at once.
func (p *procs) stopAll() {
	p.mu.Lock()
	children := p.children
	p.children = nil
	p.mu.Unlock()
	for _, c := range children {
		p.signal(c)
	}
	for _, c := range children {
		p.stop(c)
	}
}

// procStatusKB reads a "Name:   123 kB" line of /proc/<pid>/status.
func procStatusKB(pid int, name string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), name+":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		return n
	}
	return 0
}
