package main

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// child is a process the demo started.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs a binary with its output in logPath.
func start(name, bin, logPath string, env []string, args ...string) (*child, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: run `make demo-build` first (make demo does): %w", bin, err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: Ctrl-C and a closed terminal reach the demo,
	// which then stops each child in order (workers first, so none is
	// left without its database or its providers). And should the demo
	// itself die without stopping them (SIGKILL), the kernel tells the
	// child (see process_linux.go).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stopWithParent(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(c.done) }()
	return c, nil
}

// childStopTimeout is how long a child has to stop after SIGTERM before
// it is killed: a worker hands its running jobs back within its own
// shutdown timeout, well under this.
const childStopTimeout = 20 * time.Second

// stop asks the child to stop (SIGTERM: a graceful shutdown) and kills it
// if it has not stopped in childStopTimeout.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(childStopTimeout):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// stopAll stops children at once and returns when all have exited: the
// replicas stop side by side, not one after another (two replicas took up
// to twice the timeout).
func stopAll(children []*child) {
	var wg sync.WaitGroup
	for _, c := range children {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop() }()
	}
	wg.Wait()
}
