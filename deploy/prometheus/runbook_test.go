package monitoring

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	enqueueCitation = regexp.MustCompile("`enqueue ([^`]*)`")
	cliFlag         = regexp.MustCompile(`^--[a-z][a-z-]*$`)
	riverUIJobsPage = regexp.MustCompile(`/riverui/jobs\?([a-z_=&{}]*[a-z_}])`)
	templateAction  = regexp.MustCompile(`\{\{[^}]*\}\}`)
	jobKindMethod   = regexp.MustCompile(`Kind\(\) string \{ return "([a-z_]+)" \}`)
)

// riverJobStates are the states River UI's job list filters on
// (rivertype.JobState).
var riverJobStates = []string{"available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled"}

// enqueueSource is the text of cmd/enqueue's non-test files, where every
// command's synopsis and every flag is written once.
func enqueueSource(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("../../cmd/enqueue/*.go")
	require.NoError(t, err)
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		b.Write(raw)
	}
	require.Contains(t, b.String(), "func usage() string", "cmd/enqueue moved: the runbook check reads its synopses")
	return b.String()
}

// citationProblems checks one cited command line (what follows `enqueue `):
// its words up to the first flag must start a synopsis of cmd/enqueue, and
// each flag must be one cmd/enqueue defines.
func citationProblems(source, cited string) []string {
	words := strings.Fields(cited)
	var command []string
	for _, w := range words {
		if strings.HasPrefix(w, "-") {
			break
		}
		command = append(command, w)
	}
	var p []string
	if len(command) == 0 || !strings.Contains(source, `"`+strings.Join(command, " ")) {
		p = append(p, fmt.Sprintf("`enqueue %s`: no command %q in cmd/enqueue", cited, strings.Join(command, " ")))
	}
	for _, w := range words[len(command):] {
		if cliFlag.MatchString(w) && !strings.Contains(source, `"`+strings.TrimPrefix(w, "--")+`"`) {
			p = append(p, fmt.Sprintf("`enqueue %s`: cmd/enqueue has no flag %s", cited, w))
		}
	}
	return p
}

func TestRunbooksCiteRealEnqueueCommands(t *testing.T) {
	t.Parallel()

	source := enqueueSource(t)
	var problems []string
	cited := 0
	for _, r := range loadRules(t) {
		for _, m := range enqueueCitation.FindAllStringSubmatch(r.Annotations["runbook"], -1) {
			cited++
			problems = append(problems, citationProblems(source, m[1])...)
		}
	}
	require.Empty(t, problems)
	require.Greater(t, cited, 5, "the runbooks should say which enqueue command to run")

	t.Run("a made-up command or flag is reported", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []string{
			"`enqueue tenant purge --tenant T`: no command \"tenant purge\" in cmd/enqueue",
		}, citationProblems(source, "tenant purge --tenant T"))
		require.Equal(t, []string{
			"`enqueue messages --tenant T --state ambiguous`: cmd/enqueue has no flag --state",
		}, citationProblems(source, "messages --tenant T --state ambiguous"))
	})
}

// jobKinds reads the kinds internal/jobs defines.
func jobKinds(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../internal/jobs/*.go")
	require.NoError(t, err)
	var kinds []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range jobKindMethod.FindAllStringSubmatch(string(raw), -1) {
			kinds = append(kinds, m[1])
		}
	}
	require.Contains(t, kinds, "send_sms", "internal/jobs moved: the runbook check reads its kinds")
	return kinds
}

// riverUIPageProblems checks the query of a cited River UI job list page:
// a state River has and a kind internal/jobs defines (templated values are
// left to the alert's labels).
func riverUIPageProblems(kinds []string, query string) []string {
	var p []string
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.Contains(v, "{{"):
		case k == "state" && !slices.Contains(riverJobStates, v):
			p = append(p, fmt.Sprintf("/riverui/jobs?%s: River has no job state %q", query, v))
		case k == "kind" && !slices.Contains(kinds, v):
			p = append(p, fmt.Sprintf("/riverui/jobs?%s: no job kind %q in internal/jobs", query, v))
		case k != "state" && k != "kind" && k != "queue":
			p = append(p, fmt.Sprintf("/riverui/jobs?%s: River UI's job list has no filter %q", query, k))
		}
	}
	return p
}

func TestRunbooksCiteRealRiverUIPages(t *testing.T) {
	t.Parallel()

	kinds := jobKinds(t)
	var problems []string
	cited := 0
	for _, r := range loadRules(t) {
		runbook := templateAction.ReplaceAllString(r.Annotations["runbook"], "{{}}")
		for _, m := range riverUIJobsPage.FindAllStringSubmatch(runbook, -1) {
			cited++
			problems = append(problems, riverUIPageProblems(kinds, m[1])...)
		}
	}
	require.Empty(t, problems)
	require.Greater(t, cited, 5)

	t.Run("a wrong state, kind or filter is reported", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []string{
			`/riverui/jobs?state=failed&kind=poll_crms&tenant=x: River has no job state "failed"`,
			`/riverui/jobs?state=failed&kind=poll_crms&tenant=x: no job kind "poll_crms" in internal/jobs`,
			`/riverui/jobs?state=failed&kind=poll_crms&tenant=x: River UI's job list has no filter "tenant"`,
		}, riverUIPageProblems(kinds, "state=failed&kind=poll_crms&tenant=x"))
	})
}
