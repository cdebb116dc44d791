package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests run `make demo` as a user does: the demo binary, which
// starts a private Postgres, the sandbox and worker replicas, against a
// data folder of the test's own. TestMain builds the binaries once.

// binDir holds the binaries TestMain built.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "demo-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/worker", "./cmd/sandbox", "./cmd/enqueue", "./cmd/demo")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "error building the demo's binaries: %v\n%s", err, out)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// demoRun is a running demo process and what it has printed.
type demoRun struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	exited  chan struct{}

	mu    sync.Mutex
	lines []string
	more  chan struct{} // closed and replaced at every new line
}

// dataDir returns a data folder for a demo that the postgres system user
// can reach when the tests run as root (t.TempDir's folders are 0700).
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		require.NoError(t, os.Chmod(d, 0o755))
	}
	return filepath.Join(dir, "data")
}

// startDemo starts the demo on data with one replica and a slow trickle
// of leads (the machine is shared); the test's end stops it if the test
// has not.
func startDemo(t *testing.T, data string) *demoRun {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "demo"), "-bin", binDir, "-data", data, "-replicas", "1", "-rate", "1")
	// The demo's own environment, without a DATABASE_URL of the caller's.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "LEADORCH_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	r := &demoRun{t: t, cmd: cmd, dataDir: data, exited: make(chan struct{}), more: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.mu.Lock()
			r.lines = append(r.lines, sc.Text())
			close(r.more)
			r.more = make(chan struct{})
			r.mu.Unlock()
		}
		_ = cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.exited:
			case <-time.After(90 * time.Second):
				_ = cmd.Process.Kill()
				<-r.exited
			}
		}
		// A demo that failed to stop its Postgres (the old one on SIGHUP)
		// must not leave it running on the shared machine: SIGINT is
		// Postgres's fast shutdown.
		if pid := postmasterPID(data); pid != 0 && running(pid) {
			_ = syscall.Kill(pid, syscall.SIGINT)
		}
		if t.Failed() {
			t.Logf("demo output:\n%s", r.output())
		}
	})
	return r
}

// postmasterPID is the process id of the demo's private Postgres (0: none
// recorded).
func postmasterPID(data string) int {
	raw, err := os.ReadFile(filepath.Join(data, "pg", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	return pid
}

func (r *demoRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// waitLine waits for a line printed from line number from on that match
// accepts, and returns it and its number. It fails the test if the demo
// exits first or timeout passes.
func (r *demoRun) waitLine(from int, timeout time.Duration, what string, match func(string) bool) (string, int) {
	r.t.Helper()
	deadline := time.After(timeout)
	for i := from; ; {
		r.mu.Lock()
		lines, more := r.lines, r.more
		r.mu.Unlock()
		for ; i < len(lines); i++ {
			if match(lines[i]) {
				return lines[i], i
			}
		}
		select {
		case <-more:
		case <-r.exited:
			r.mu.Lock()
			done := len(r.lines) == len(lines)
			r.mu.Unlock()
			if done {
				r.t.Fatalf("the demo exited before printing %s", what)
			}
		case <-deadline:
			r.t.Fatalf("the demo printed no %s in %s", what, timeout)
		}
	}
}

// waitRunning waits for the demo's banner and returns the line after it.
func (r *demoRun) waitRunning() int {
	r.t.Helper()
	_, i := r.waitLine(0, 3*time.Minute, "banner", func(l string) bool { return strings.HasPrefix(l, "Lead Orchestrator demo is running") })
	return i + 1
}

// stop sends sig to the demo and waits for it to exit.
func (r *demoRun) stop(sig syscall.Signal) {
	r.t.Helper()
	require.NoError(r.t, r.cmd.Process.Signal(sig))
	select {
	case <-r.exited:
	case <-time.After(90 * time.Second):
		r.t.Fatalf("the demo did not exit within 90s of %s", sig)
	}
}

// countsLine is the demo's live count.
var countsLine = regexp.MustCompile(`leads ingested: (\d+) \(shopmonkey (\d+), tekmetric (\d+)\) \| texts sent: (\d+) \| .* \| in flight: (\d+) \| .* providers received: \{"sms":(\d+)`)

// liveCounts is a parsed countsLine.
type liveCounts struct {
	leads, shopMonkey, tekmetric, texts, inFlight, providerTexts int
}

func parseCounts(line string) (liveCounts, bool) {
	m := countsLine.FindStringSubmatch(line)
	if m == nil {
		return liveCounts{}, false
	}
	n := make([]int, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.Atoi(m[i])
	}
	return liveCounts{leads: n[1], shopMonkey: n[2], tekmetric: n[3], texts: n[4], inFlight: n[5], providerTexts: n[6]}, true
}

// settled reports a count where every lead ingested was texted once, as
// the providers saw it, with nothing in flight.
func (c liveCounts) settled() bool {
	return c.inFlight == 0 && c.leads == c.texts && c.texts == c.providerTexts
}

func TestSecondRunBehavesLikeTheFirst(t *testing.T) {
	t.Parallel()
	data := dataDir(t)

	first := startDemo(t, data)
	from := first.waitRunning()
	first.waitLine(from, 2*time.Minute, "count with Tekmetric leads texted", func(l string) bool {
		c, ok := parseCounts(l)
		return ok && c.tekmetric > 0 && c.settled()
	})
	first.stop(syscall.SIGTERM)

	// The second run on the same .data: the sandbox restarts, its leads
	// must be new leads, texted, and the counts must be this run's. The
	// old demo kept the first run's rows: its counts never matched what
	// the providers received, and the Tekmetric leads upserted onto the
	// old rows were not texted.
	second := startDemo(t, data)
	from = second.waitRunning()
	line, _ := second.waitLine(from, 2*time.Minute, "count where every lead of this run was texted once", func(l string) bool {
		c, ok := parseCounts(l)
		// More Tekmetric leads than the 5 seeded: the trickle's are texted too.
		return ok && c.tekmetric > 5 && c.shopMonkey > 5 && c.settled()
	})
	c, _ := parseCounts(line)
	require.Equal(t, c.leads, c.shopMonkey+c.tekmetric)
	require.Contains(t, second.output(), "(fresh for this run)")
	second.stop(syscall.SIGTERM)
}

// childrenOf returns the processes whose parent is pid.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid ...": comm may hold spaces, not ")".
		rest := string(b[bytes.LastIndexByte(b, ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, child)
		}
	}
	return out
}

// running reports whether pid is a process that has not exited (a zombie
// has).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	state := b[bytes.LastIndexByte(b, ')')+2]
	return state != 'Z' && state != 'X'
}

func TestSIGHUPStopsEverything(t *testing.T) {
	t.Parallel()
	data := dataDir(t)
	demo := startDemo(t, data)
	demo.waitRunning()

	children := childrenOf(t, demo.cmd.Process.Pid)
	require.GreaterOrEqual(t, len(children), 2, "the sandbox and the worker run")
	lock := filepath.Join(data, "pg", "postmaster.pid")
	postmaster := postmasterPID(data)
	require.True(t, running(postmaster))

	// What closing the terminal sends. The old demo died of it at once,
	// leaving all of these running.
	demo.stop(syscall.SIGHUP)
	require.Zero(t, demo.cmd.ProcessState.ExitCode(), "a hang-up is a clean stop")
	require.Contains(t, demo.output(), "stopping ...")
	for _, pid := range children {
		require.False(t, running(pid), "child %d of the demo still runs", pid)
	}
	require.False(t, running(postmaster), "the private Postgres still runs")
	_, err := os.Stat(lock)
	require.ErrorIs(t, err, os.ErrNotExist, "Postgres stopped cleanly")

	// And the next run starts.
	again := startDemo(t, data)
	again.waitRunning()
	again.stop(syscall.SIGTERM)
}

func TestStaleClusterOfAKilledDemoIsCleared(t *testing.T) {
	t.Parallel()
	data := dataDir(t)
	demo := startDemo(t, data)
	demo.waitRunning()
	postmaster := postmasterPID(data)
	// A demo that cannot stop anything: its Postgres (a daemon) stays.
	require.NoError(t, demo.cmd.Process.Kill())
	<-demo.exited
	require.True(t, running(postmaster))

	again := startDemo(t, data)
	again.waitRunning()
	require.Contains(t, again.output(), fmt.Sprintf("stopped the private Postgres an earlier run left running (pid %d", postmaster))
	require.False(t, running(postmaster))
	again.stop(syscall.SIGTERM)
}

// exportLine is a line of the CLI environment the demo prints.
var exportLine = regexp.MustCompile(`^\s+export ([A-Z_]+)='([^']*)'$`)

func TestPrintedEnvironmentRunsTheCLI(t *testing.T) {
	t.Parallel()
	data := dataDir(t)
	demo := startDemo(t, data)
	from := demo.waitRunning()
	// The banner's lines before the first count.
	_, end := demo.waitLine(from, time.Minute, "count", func(l string) bool { _, ok := parseCounts(l); return ok })
	var printed []string
	for _, l := range strings.Split(demo.output(), "\n")[:end] {
		if m := exportLine.FindStringSubmatch(l); m != nil {
			printed = append(printed, m[1]+"="+m[2])
		}
	}
	require.NotEmpty(t, printed, "the demo prints the CLI's environment")

	// Exactly the printed environment, and a PATH: nothing of the test's.
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, printed...)
	enqueue := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(binDir, "enqueue"), args...)
		cmd.Env = env
		cmd.Dir = t.TempDir() // no config.yaml around
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "enqueue %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	list := enqueue("tenant", "list")
	require.Contains(t, list, "Maple Street Auto")
	require.Contains(t, list, "Oak Ridge Garage")
	// update needs credentials.keys, which the demo never printed.
	require.Contains(t, enqueue("tenant", "update", "--tenant", "Oak Ridge Garage", "--poll-interval", "7s"), "7s")

	// The file the README sources holds the same.
	script := ". " + filepath.Join(data, "demo.env") + ` && "$0" tenant list`
	cmd := exec.Command("sh", "-c", script, filepath.Join(binDir, "enqueue"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "Maple Street Auto")

	// The banner's metrics address (startDemo runs one replica) serves
	// Prometheus's text format with the fleet's series.
	var metricsLine string
	for _, l := range strings.Split(demo.output(), "\n")[:end] {
		if strings.Contains(l, "Metrics:") {
			metricsLine = l
		}
	}
	urls := regexp.MustCompile(`http://127\.0\.0\.1:\d+/metrics`).FindAllString(metricsLine, -1)
	require.Len(t, urls, 1, "one metrics address per replica in %q", metricsLine)
	for _, u := range urls {
		resp, err := http.Get(u)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, u)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/plain", u)
		require.Contains(t, string(body), "# TYPE leadorch_job_runs_total counter", u)
		require.Contains(t, string(body), "leadorch_queue_oldest_available_age_seconds{", u)
	}
	demo.stop(syscall.SIGTERM)
}

func TestConsoleShowsAHandPlayedCustomer(t *testing.T) {
	t.Parallel()
	demo := startDemo(t, dataDir(t))
	from := demo.waitRunning()
	// The demo offers a real customer's number to play.
	stopCmd := regexp.MustCompile(`curl -d '\{"from": "(\+1\d{10})"\}' (http://[0-9.:]+)/_sandbox/simulate/stop`)
	line, _ := demo.waitLine(from, time.Minute, "invitation to play a customer", stopCmd.MatchString)
	m := stopCmd.FindStringSubmatch(line)
	phone, sandboxURL := m[1], m[2]

	status, answer, err := postJSON(t.Context(), sandboxURL+"/_sandbox/simulate/stop", []byte(`{"from": "`+phone+`"}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "the sandbox takes the number the demo offered: %s", answer)

	_, at := demo.waitLine(from, time.Minute, "the STOP", func(l string) bool {
		return strings.Contains(l, "customer STOP (played by hand): "+phone+" texts ")
	})
	demo.waitLine(at, time.Minute, "what the fleet did about the STOP", func(l string) bool {
		return strings.Contains(l, "opted out: "+phone+" is suppressed for ")
	})
	demo.stop(syscall.SIGTERM)
}

// TestDemoPlaysTheConversation: the console shows a customer answering by
// email and the sequence stopping, the shop answering from its inbox and
// the customer receiving the text, and a missed call becoming a text,
// each as it happens; then a customer books online from the link in their
// text, and the booking reaches the CRM, the lead and a confirmation text.
func TestDemoPlaysTheConversation(t *testing.T) {
	t.Parallel()
	demo := startDemo(t, dataDir(t))
	from := demo.waitRunning()
	_, at := demo.waitLine(from, 2*time.Minute, "the customer's email reply", func(l string) bool {
		return strings.Contains(l, "customer email reply: ") && strings.Contains(l, emailReplyText)
	})
	_, at = demo.waitLine(at, time.Minute, "the email reply recorded", func(l string) bool {
		return strings.Contains(l, "email reply recorded in ") && strings.Contains(l, "lead replied")
	})
	_, at = demo.waitLine(at, time.Minute, "the shop's answer", func(l string) bool {
		return strings.Contains(l, "shop answers from its inbox: ")
	})
	demo.waitLine(at, time.Minute, "the answer texted", func(l string) bool {
		return strings.Contains(l, "customer receives the shop's answer as a text to +1") && strings.Contains(l, shopAnswerText)
	})
	demo.waitLine(from, 2*time.Minute, "the missed call's text", func(l string) bool {
		return strings.Contains(l, "missed call became a lead (source missed_call)") && strings.Contains(l, "Sorry we missed your call")
	})
	_, at = demo.waitLine(from, 2*time.Minute, "the booking link opened", func(l string) bool {
		return strings.Contains(l, "online booking: ") && strings.Contains(l, "/book/")
	})
	_, at = demo.waitLine(at, time.Minute, "the page answering booked", func(l string) bool {
		return strings.Contains(l, "the booking page says: Booked")
	})
	demo.waitLine(at, time.Minute, "the booking confirmed", func(l string) bool {
		return strings.Contains(l, "  booked: appointment ") && strings.Contains(l, ", lead booked, ") && strings.Contains(l, " is texted ")
	})
	demo.stop(syscall.SIGTERM)
}
