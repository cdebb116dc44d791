// Package monitoring holds the tests of what an operator loads into
// Prometheus and Grafana: the alert rules (alerts.yml), their promtool unit
// tests (alerts_test.yml) and the dashboard (../grafana/lead-orchestrator.json).
// The package has test files only: the rules and the dashboard are files,
// not Go, and promtool is the parser that matters, since it is the one
// Prometheus runs.
package monitoring

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	rulesFile     = "alerts.yml"
	ruleTestsFile = "alerts_test.yml"
	dashboardFile = "../grafana/lead-orchestrator.json"
)

// promtoolPath finds promtool or fails the test saying where it comes from:
// a missing tool must never turn into a skipped check.
func promtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found on PATH (%v): install Debian's `prometheus` package (apt-get install prometheus), which ships /usr/bin/promtool", err)
	}
	return path
}

// runPromtool runs promtool with args in dir and returns its combined
// output and whether it succeeded.
func runPromtool(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(promtoolPath(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// checkExprsParse writes each expression as a recording rule into a rule
// file of its own and has `promtool check rules` parse them: the same
// parser, and the same version of PromQL, that Prometheus loads rules
// with. Names are what a failure names each expression by.
func checkExprsParse(t *testing.T, names, exprs []string) (string, error) {
	t.Helper()
	require.Len(t, names, len(exprs))
	var b strings.Builder
	b.WriteString("groups:\n  - name: parse_check\n    rules:\n")
	for i, expr := range exprs {
		fmt.Fprintf(&b, "      # %s\n      - record: parse_check:expr_%d\n        expr: %q\n", names[i], i, expr)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "exprs.yml")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o600))
	return runPromtool(t, dir, "check", "rules", file)
}

func TestPromtoolChecksRules(t *testing.T) {
	t.Parallel()

	out, err := runPromtool(t, ".", "check", "rules", rulesFile)
	require.NoError(t, err, "promtool check rules %s:\n%s", rulesFile, out)
	require.Contains(t, out, "SUCCESS", out)
}

func TestPromtoolUnitTestsPass(t *testing.T) {
	t.Parallel()

	out, err := runPromtool(t, ".", "test", "rules", ruleTestsFile)
	require.NoError(t, err, "promtool test rules %s:\n%s", ruleTestsFile, out)
	require.Contains(t, out, "SUCCESS", out)
}

// TestPromtoolRejects proves the two promtool checks above can fail: a
// broken expression is refused by the parse helper the dashboard test uses,
// and a unit test expecting the wrong thing fails promtool test rules.
func TestPromtoolRejects(t *testing.T) {
	t.Parallel()

	t.Run("a broken expression", func(t *testing.T) {
		t.Parallel()
		out, err := checkExprsParse(t, []string{"good", "broken"}, []string{
			`sum(rate(leadorch_job_runs_total[5m]))`,
			`sum(rate(leadorch_job_runs_total[5m])`,
		})
		require.Error(t, err, "promtool accepted an unclosed parenthesis:\n%s", out)
		require.Contains(t, out, "parse_check:expr_1", "the failure should name the broken expression:\n%s", out)
	})

	t.Run("a wrong expectation", func(t *testing.T) {
		t.Parallel()
		abs, err := filepath.Abs(rulesFile)
		require.NoError(t, err)
		dir := t.TempDir()
		// One ambiguous text for 20 minutes fires LeadOrchMessagesAmbiguous;
		// this test says it stays quiet.
		wrong := fmt.Sprintf(`rule_files: [%q]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'leadorch_outbox_messages{channel="sms",status="ambiguous"}'
        values: '1x20'
    alert_rule_test:
      - eval_time: 20m
        alertname: LeadOrchMessagesAmbiguous
        exp_alerts: []
`, abs)
		file := filepath.Join(dir, "wrong_test.yml")
		require.NoError(t, os.WriteFile(file, []byte(wrong), 0o600))
		out, err := runPromtool(t, dir, "test", "rules", file)
		require.Error(t, err, "promtool passed a unit test that expects the wrong alerts:\n%s", out)
		require.Contains(t, out, "LeadOrchMessagesAmbiguous", out)
	})
}
