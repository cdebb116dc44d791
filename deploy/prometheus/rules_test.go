package monitoring

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// ruleFile is the part of Prometheus's rule file format alerts.yml uses;
// decoding refuses any other field, so a misspelt `annotation:` or `for`
// nested one level too deep fails here.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// ruleTests is the part of promtool's unit test format alerts_test.yml uses.
type ruleTests struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	Tests              []struct {
		Name        string `yaml:"name"`
		Interval    string `yaml:"interval"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertRuleTests []struct {
			EvalTime  string `yaml:"eval_time"`
			AlertName string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromQLExprTests []struct {
			Expr       string `yaml:"expr"`
			EvalTime   string `yaml:"eval_time"`
			ExpSamples []struct {
				Labels string  `yaml:"labels"`
				Value  float64 `yaml:"value"`
			} `yaml:"exp_samples"`
		} `yaml:"promql_expr_test"`
	} `yaml:"tests"`
}

// decodeYAMLStrict decodes file into v, refusing fields v does not have.
func decodeYAMLStrict(t *testing.T, file string, v any) {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(v), "decoding %s", file)
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	var f ruleFile
	decodeYAMLStrict(t, rulesFile, &f)
	var rules []rule
	for _, g := range f.Groups {
		require.True(t, strings.HasPrefix(g.Name, "lead-orchestrator."), "group %q: name groups lead-orchestrator.<concern>", g.Name)
		require.NotEmpty(t, g.Rules, "group %s has no rules", g.Name)
		rules = append(rules, g.Rules...)
	}
	return rules
}

var (
	severities = []string{"critical", "warning"}
	// runbookAction is what makes a runbook say what to do: an enqueue
	// command, a River UI page, or a named setting or tool to check.
	runbookAction = regexp.MustCompile("`enqueue [a-z]|/riverui/|kubectl |LEADORCH_|webhooks\\.|http\\.public_url|worker migrate")
)

// alertShapeProblems lists what an alert rule lacks: a for:, a severity
// (static, or from its expression's group_left(severity)), and the three
// annotations, each templated where it should be.
func alertShapeProblems(r rule) []string {
	var p []string
	if !strings.HasPrefix(r.Alert, "LeadOrch") {
		p = append(p, "its name does not start with LeadOrch")
	}
	if r.For == "" {
		p = append(p, "no for:")
	}
	switch sev, ok := r.Labels["severity"]; {
	case ok && !slices.Contains(severities, sev):
		p = append(p, fmt.Sprintf("severity %q is none of %v", sev, severities))
	case !ok && !regexp.MustCompile(`group_left\s*\(\s*severity\s*\)`).MatchString(r.Expr):
		p = append(p, "no severity label, static or from group_left(severity)")
	}
	for _, a := range []string{"summary", "description", "runbook"} {
		if strings.TrimSpace(r.Annotations[a]) == "" {
			p = append(p, "no "+a+" annotation")
		}
	}
	if !strings.Contains(r.Annotations["description"], "{{ $") {
		p = append(p, "its description shows no {{ $labels.* }} or {{ $value }}")
	}
	if !runbookAction.MatchString(r.Annotations["runbook"]) {
		p = append(p, "its runbook names no command, River UI page or setting to act on")
	}
	for a := range r.Annotations {
		if !slices.Contains([]string{"summary", "description", "runbook"}, a) {
			p = append(p, "unexpected annotation "+a)
		}
	}
	return p
}

func TestAlertRulesHaveForSeverityAndRunbook(t *testing.T) {
	t.Parallel()

	seen := map[string]bool{}
	alerts := 0
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		alerts++
		require.False(t, seen[r.Alert], "alert %s is defined twice", r.Alert)
		seen[r.Alert] = true
		require.Empty(t, alertShapeProblems(r), "alert %s", r.Alert)
	}
	require.GreaterOrEqual(t, alerts, 10, "the brief asks for at least ten kinds of alert")

	t.Run("a rule without for, severity or runbook is refused", func(t *testing.T) {
		t.Parallel()
		bare := rule{Alert: "Bare", Expr: "up == 0", Annotations: map[string]string{"summary": "s", "description": "d"}}
		require.ElementsMatch(t, []string{
			"its name does not start with LeadOrch", "no for:", "no severity label, static or from group_left(severity)",
			"no runbook annotation", "its description shows no {{ $labels.* }} or {{ $value }}",
			"its runbook names no command, River UI page or setting to act on",
		}, alertShapeProblems(bare))
	})
}

// testedAlerts says, per alert name, whether alerts_test.yml has a case
// where it fires (each expected alert with a severity and a summary) and
// one where it stays quiet, and which names it tests that alerts.yml does
// not define (a quiet case for a misspelt name passes vacuously).
func testedAlerts(t *testing.T, tests ruleTests, defined map[string]bool) (fires, quiet map[string]bool, unknown []string) {
	t.Helper()
	fires, quiet = map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, at := range tc.AlertRuleTests {
			if !defined[at.AlertName] {
				unknown = append(unknown, at.AlertName)
			}
			if len(at.ExpAlerts) == 0 {
				quiet[at.AlertName] = true
				continue
			}
			for _, ea := range at.ExpAlerts {
				require.Contains(t, severities, ea.ExpLabels["severity"], "%s at %s in %q: expected alert without a severity", at.AlertName, at.EvalTime, tc.Name)
				require.NotEmpty(t, ea.ExpAnnotations["summary"], "%s at %s in %q: expected alert without a summary", at.AlertName, at.EvalTime, tc.Name)
			}
			fires[at.AlertName] = true
		}
	}
	return fires, quiet, unknown
}

func TestEveryAlertFiresAndStaysQuietInUnitTests(t *testing.T) {
	t.Parallel()

	var tests ruleTests
	decodeYAMLStrict(t, ruleTestsFile, &tests)
	require.Equal(t, []string{rulesFile}, tests.RuleFiles)
	defined := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Alert != "" {
			defined[r.Alert] = true
		}
	}
	fires, quiet, unknown := testedAlerts(t, tests, defined)
	require.Empty(t, unknown, "alerts_test.yml tests alerts that alerts.yml does not define")
	for name := range defined {
		require.True(t, fires[name], "no unit test where %s fires", name)
		require.True(t, quiet[name], "no unit test where %s must stay quiet", name)
	}

	t.Run("an untested alert and a misspelt one are reported", func(t *testing.T) {
		t.Parallel()
		var one ruleTests
		require.NoError(t, yaml.Unmarshal([]byte(`tests:
  - alert_rule_test:
      - {eval_time: 1m, alertname: LeadOrchMesagesAmbiguous, exp_alerts: []}
`), &one))
		fires, quiet, unknown := testedAlerts(t, one, map[string]bool{"LeadOrchMessagesAmbiguous": true})
		require.Equal(t, []string{"LeadOrchMesagesAmbiguous"}, unknown)
		require.False(t, fires["LeadOrchMessagesAmbiguous"])
		require.False(t, quiet["LeadOrchMessagesAmbiguous"])
	})
}

func TestRulesUseOnlyContractMetrics(t *testing.T) {
	t.Parallel()

	c := contract()
	var problems []string
	for _, r := range loadRules(t) {
		where := r.Alert + r.Record
		problems = append(problems, contractProblems(where, r.Expr)...)
		if r.Record != "" {
			_, ok := c[r.Record]
			require.True(t, ok, "recorded series %s is not in the test's contract table", r.Record)
		}
	}
	var tests ruleTests
	decodeYAMLStrict(t, ruleTestsFile, &tests)
	for _, tc := range tests.Tests {
		for _, s := range tc.InputSeries {
			problems = append(problems, contractProblems("input series of "+tc.Name, s.Series)...)
		}
		for _, e := range tc.PromQLExprTests {
			problems = append(problems, contractProblems("expr test of "+tc.Name, e.Expr)...)
		}
	}
	require.Empty(t, problems)

	t.Run("misspelt names, labels and values are reported", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []string{
			`x: metric "leadorch_outbox_message" is not in the contract`,
			`x: grouping label "channel" is on none of the metrics used`,
		}, contractProblems("x", `max by (channel) (leadorch_outbox_message{status="ambiguous"}) > 0`))
		require.Equal(t, []string{
			`x: leadorch_outbox_messages{status} takes [pending sending ambiguous failed], not "ambigous"`,
		}, contractProblems("x", `max(leadorch_outbox_messages{status="ambigous"})`))
		require.Equal(t, []string{
			`x: leadorch_job_runs_total has no label "outcomes"`,
			`x: grouping label "knd" is on none of the metrics used`,
		}, contractProblems("x", `sum by (knd) (rate(leadorch_job_runs_total{outcomes=~"failed|panicked"}[5m]))`))
		require.Equal(t, []string{
			`x: metric "leadorch_job_run_duration_seconds_buckets" is not in the contract`,
		}, contractProblems("x", `histogram_quantile(0.9, sum by (le) (rate(leadorch_job_run_duration_seconds_buckets[5m])))`))
		require.Empty(t, contractProblems("x", `histogram_quantile(0.9, sum by (le, kind) (rate(leadorch_job_run_duration_seconds_bucket[5m])))`))
	})
}

var annotationLabel = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)

// TestAnnotationsNameResultLabels: an annotation's {{ $labels.x }} must be a
// label the alert's expression keeps, or the page says "on queue " and
// nothing else.
func TestAnnotationsNameResultLabels(t *testing.T) {
	t.Parallel()

	var problems []string
	for _, r := range loadRules(t) {
		for name, text := range r.Annotations {
			problems = append(problems, resultLabelProblems(r.Alert+" "+name, r.Expr, text, annotationLabel)...)
		}
	}
	require.Empty(t, problems)

	t.Run("a label the aggregation drops is reported", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []string{
			"x: on {{ $labels.instance }} names $labels.instance, which the query's result does not have",
		}, resultLabelProblems("x", `max by (queue) (leadorch_queue_jobs) > 0`, "on {{ $labels.instance }}", annotationLabel))
	})
}
