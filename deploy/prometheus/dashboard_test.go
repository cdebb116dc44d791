package monitoring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// dashboard is the part of Grafana's dashboard JSON model the file uses.
// Decoding refuses any other field, so a misspelt "gridpos" or "legendformat"
// (which Grafana would silently ignore) fails the test.
type dashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Description   string   `json:"description"`
	Tags          []string `json:"tags"`
	Timezone      string   `json:"timezone"`
	Editable      bool     `json:"editable"`
	GraphTooltip  int      `json:"graphTooltip"`
	SchemaVersion int      `json:"schemaVersion"`
	Version       int      `json:"version"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Refresh    string `json:"refresh"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []json.RawMessage `json:"list"`
	} `json:"annotations"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name        string          `json:"name"`
	Label       string          `json:"label"`
	Type        string          `json:"type"`
	Datasource  *datasourceRef  `json:"datasource"`
	Definition  string          `json:"definition"`
	Query       json.RawMessage `json:"query"`
	Refresh     int             `json:"refresh"`
	Sort        int             `json:"sort"`
	Multi       bool            `json:"multi"`
	IncludeAll  bool            `json:"includeAll"`
	AllValue    string          `json:"allValue"`
	Current     json.RawMessage `json:"current"`
	Hide        int             `json:"hide"`
	Regex       string          `json:"regex"`
	Description string          `json:"description"`
}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

type panel struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Datasource  *datasourceRef `json:"datasource"`
	GridPos     gridPos        `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit       string `json:"unit"`
			Thresholds *struct {
				Mode  string `json:"mode"`
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
		Overrides []json.RawMessage `json:"overrides"`
	} `json:"fieldConfig"`
	Targets   []target          `json:"targets"`
	Options   json.RawMessage   `json:"options"`
	Collapsed bool              `json:"collapsed"`
	Panels    []json.RawMessage `json:"panels"`
}

type target struct {
	Datasource   *datasourceRef `json:"datasource"`
	Expr         string         `json:"expr"`
	LegendFormat string         `json:"legendFormat"`
	RefID        string         `json:"refId"`
}

// decodeDashboard decodes raw strictly. encoding/json matches field names
// without regard to case, and Grafana does not, so the keys are also
// compared exactly with the typed struct's own.
func decodeDashboard(raw []byte) (dashboard, error) {
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("error decoding the dashboard: %w", err)
	}
	var asWritten, asTyped any
	typed, err := json.Marshal(d)
	if err != nil {
		return d, fmt.Errorf("error encoding the dashboard again: %w", err)
	}
	if err := errors.Join(json.Unmarshal(raw, &asWritten), json.Unmarshal(typed, &asTyped)); err != nil {
		return d, fmt.Errorf("error decoding the dashboard: %w", err)
	}
	return d, sameKeys("dashboard", asWritten, asTyped)
}

// sameKeys reports the first key of written (at any depth) that typed, the
// same document decoded and encoded again, does not have spelt the same.
func sameKeys(path string, written, typed any) error {
	switch w := written.(type) {
	case map[string]any:
		tm, _ := typed.(map[string]any)
		for k, v := range w {
			tv, ok := tm[k]
			if !ok {
				return fmt.Errorf("unknown field %q at %s", k, path)
			}
			if err := sameKeys(path+"."+k, v, tv); err != nil {
				return err
			}
		}
	case []any:
		ta, _ := typed.([]any)
		for i, v := range w {
			if i >= len(ta) {
				return fmt.Errorf("element %d of %s lost in decoding", i, path)
			}
			if err := sameKeys(fmt.Sprintf("%s[%d]", path, i), v, ta[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	d, err := decodeDashboard(raw)
	require.NoError(t, err)
	return d
}

// layoutProblems lists panels with a duplicate id, a position outside
// Grafana's 24 columns, or a rectangle that overlaps another panel's.
func layoutProblems(panels []panel) []string {
	var p []string
	ids := map[int]string{}
	for i, a := range panels {
		if prev, dup := ids[a.ID]; dup {
			p = append(p, fmt.Sprintf("panels %q and %q share id %d", prev, a.Title, a.ID))
		}
		ids[a.ID] = a.Title
		g := a.GridPos
		if g.X < 0 || g.Y < 0 || g.W < 1 || g.H < 1 || g.X+g.W > 24 {
			p = append(p, fmt.Sprintf("panel %q: gridPos %+v is outside 24 columns", a.Title, g))
		}
		for _, b := range panels[:i] {
			h := b.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				p = append(p, fmt.Sprintf("panels %q and %q overlap", b.Title, a.Title))
			}
		}
	}
	return p
}

var (
	legendLabel     = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	grafanaVariable = regexp.MustCompile(`\$\{([a-zA-Z0-9_]+)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)`)
	labelValuesCall = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)
)

// builtinIntervals are what Grafana puts for its own variables, at a
// typical dashboard range.
var builtinIntervals = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "6h", "__range_s": "21600", "__interval_ms": "60000",
}

// substituteVariables replaces Grafana's variables in expr with what
// Grafana would put there: its interval variables with durations, a
// dashboard variable with its "All" value. An unknown variable is an error.
func substituteVariables(expr string, vars map[string]variable) (string, error) {
	var unknown []string
	out := grafanaVariable.ReplaceAllStringFunc(expr, func(m string) string {
		sm := grafanaVariable.FindStringSubmatch(m)
		name := sm[1] + sm[2]
		if v, ok := builtinIntervals[name]; ok {
			return v
		}
		if v, ok := vars[name]; ok && v.Type == "query" {
			return v.AllValue
		}
		unknown = append(unknown, name)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown variables %v in %q", unknown, expr)
	}
	return out, nil
}

// panelProblems lists what a panel lacks: a title, the dashboard's
// datasource variable, a unit, targets each with an expr and a refId
// unique in the panel.
func panelProblems(p panel) []string {
	if p.Type == "row" {
		if len(p.Targets) > 0 || p.GridPos.W != 24 || p.GridPos.H != 1 {
			return []string{fmt.Sprintf("row %q: a row is 24x1 and has no targets", p.Title)}
		}
		return nil
	}
	var out []string
	if p.Title == "" {
		out = append(out, fmt.Sprintf("panel %d has no title", p.ID))
	}
	if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
		out = append(out, fmt.Sprintf("panel %q does not use the datasource variable", p.Title))
	}
	if p.FieldConfig.Defaults.Unit == "" {
		out = append(out, fmt.Sprintf("panel %q sets no unit", p.Title))
	}
	if len(p.Targets) == 0 {
		out = append(out, fmt.Sprintf("panel %q has no targets", p.Title))
	}
	refs := map[string]bool{}
	for _, tg := range p.Targets {
		if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" || refs[tg.RefID] {
			out = append(out, fmt.Sprintf("panel %q: target %q needs an expr and a unique refId", p.Title, tg.RefID))
		}
		refs[tg.RefID] = true
	}
	return out
}

func TestDashboardShape(t *testing.T) {
	t.Parallel()

	d := loadDashboard(t)
	require.Regexp(t, `^[a-zA-Z0-9_-]{8,40}$`, d.UID)
	require.NotEmpty(t, d.Title)
	require.GreaterOrEqual(t, d.SchemaVersion, 36)
	require.Equal(t, "now", d.Time.To)
	require.NotEmpty(t, d.Time.From)
	require.NotEmpty(t, d.Refresh)
	require.Empty(t, layoutProblems(d.Panels))
	for _, p := range d.Panels {
		require.Empty(t, panelProblems(p))
	}

	t.Run("overlapping, out of bounds and duplicate panels are reported", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []string{
			`panel "b": gridPos {H:8 W:12 X:16 Y:0} is outside 24 columns`,
			`panels "a" and "b" overlap`,
			`panels "a" and "c" share id 1`,
		}, layoutProblems([]panel{
			{ID: 1, Title: "a", GridPos: gridPos{H: 8, W: 20, X: 0, Y: 0}},
			{ID: 2, Title: "b", GridPos: gridPos{H: 8, W: 12, X: 16, Y: 0}},
			{ID: 1, Title: "c", GridPos: gridPos{H: 8, W: 24, X: 0, Y: 8}},
		}))
	})

	t.Run("a panel without unit, datasource or refId is reported", func(t *testing.T) {
		t.Parallel()
		bare := panel{ID: 3, Type: "timeseries", Title: "bare", Targets: []target{{Expr: "up"}}}
		require.Len(t, panelProblems(bare), 3)
	})

	t.Run("a misspelt field is refused", func(t *testing.T) {
		t.Parallel()
		_, err := decodeDashboard([]byte(`{"uid": "abcdefgh", "panels": [{"id": 1, "gridpos": {"h": 1}}]}`))
		require.ErrorContains(t, err, `unknown field "gridpos" at dashboard.panels[0]`)
		_, err = decodeDashboard([]byte(`{"uid": "abcdefgh", "panels": [{"id": 1, "targets": [{"exp": "up"}]}]}`))
		require.ErrorContains(t, err, `unknown field "exp"`)
	})
}

func TestDashboardVariables(t *testing.T) {
	t.Parallel()

	d := loadDashboard(t)
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	ds, ok := vars["datasource"]
	require.True(t, ok, "no datasource variable")
	require.Equal(t, "datasource", ds.Type)
	require.JSONEq(t, `"prometheus"`, string(ds.Query))
	c := contract()
	for _, name := range []string{"queue", "crm"} {
		v, ok := vars[name]
		require.True(t, ok, "no %s variable", name)
		require.Equal(t, "query", v.Type)
		require.Equal(t, ".*", v.AllValue, "%s: All must mean every value, also ones not seen yet", name)
		require.Equal(t, "${datasource}", v.Datasource.UID)
		var q struct {
			Query string `json:"query"`
			RefID string `json:"refId"`
		}
		require.NoError(t, json.Unmarshal(v.Query, &q))
		require.Equal(t, v.Definition, q.Query)
		m := labelValuesCall.FindStringSubmatch(q.Query)
		require.NotNil(t, m, "%s: %q is not label_values(metric, label)", name, q.Query)
		metric, found := c[m[1]]
		require.True(t, found, "%s: metric %s is not in the contract", name, m[1])
		require.Contains(t, metric.labels, m[2], "%s: %s has no label %s", name, m[1], m[2])
	}
}

// dashboardExprs returns every target's expression, variables substituted,
// with where it is.
func dashboardExprs(t *testing.T, d dashboard) (names, exprs []string) {
	t.Helper()
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			expr, err := substituteVariables(tg.Expr, vars)
			require.NoError(t, err, "panel %q target %s", p.Title, tg.RefID)
			names = append(names, fmt.Sprintf("panel %q target %s", p.Title, tg.RefID))
			exprs = append(exprs, expr)
		}
	}
	return names, exprs
}

func TestDashboardQueriesParse(t *testing.T) {
	t.Parallel()

	names, exprs := dashboardExprs(t, loadDashboard(t))
	require.NotEmpty(t, exprs)
	out, err := checkExprsParse(t, names, exprs)
	require.NoError(t, err, "promtool refused a dashboard query:\n%s", out)
	require.Contains(t, out, fmt.Sprintf("SUCCESS: %d rules found", len(exprs)), out)

	t.Run("variables are substituted, unknown ones refused", func(t *testing.T) {
		t.Parallel()
		vars := map[string]variable{"queue": {Name: "queue", Type: "query", AllValue: ".*"}}
		got, err := substituteVariables(`rate(x{queue=~"$queue"}[$__rate_interval]) or y{q=~"${queue:regex}"}`, vars)
		require.NoError(t, err)
		require.Equal(t, `rate(x{queue=~".*"}[5m]) or y{q=~".*"}`, got)
		_, err = substituteVariables(`x{crm=~"$crms"}`, vars)
		require.ErrorContains(t, err, "unknown variables [crms]")
	})
}

func TestDashboardUsesOnlyContractMetrics(t *testing.T) {
	t.Parallel()

	names, exprs := dashboardExprs(t, loadDashboard(t))
	var problems []string
	used := map[string]bool{}
	for i, expr := range exprs {
		problems = append(problems, contractProblems(names[i], expr)...)
		uses, _, err := exprUses(expr)
		require.NoError(t, err)
		for _, u := range uses {
			_, base, _ := lookupMetric(contract(), u.metric)
			used[base] = true
		}
	}
	require.Empty(t, problems)
	// What the issue asks the dashboard to show: every figure of the
	// contract but the build's version.
	for name := range contract() {
		if !slices.Contains([]string{"leadorch_build_info"}, name) {
			require.True(t, used[name], "no panel shows %s", name)
		}
	}
}

// legendProblems lists the labels a target's legendFormat names that its
// expression's result cannot have: one the aggregation keeps (by ...), or,
// with no aggregation, one of the metric's own. A misspelt one draws every
// series with the same blank name.
func legendProblems(where, expr, legend string) []string {
	return resultLabelProblems(where, expr, legend, legendLabel)
}

// resultLabelProblems lists the labels named in text (as ref captures them)
// that expr's result cannot have.
func resultLabelProblems(where, expr, text string, ref *regexp.Regexp) []string {
	uses, grouping, err := exprUses(expr)
	if err != nil {
		return []string{where + ": " + err.Error()}
	}
	allowed := map[string]bool{}
	for _, l := range grouping {
		allowed[l] = true
	}
	if len(grouping) == 0 {
		for _, u := range uses {
			m, _, _ := lookupMetric(contract(), u.metric)
			for l := range m.labels {
				allowed[l] = true
			}
		}
		for _, l := range targetLabels {
			allowed[l] = true
		}
	}
	var p []string
	for _, m := range ref.FindAllStringSubmatch(text, -1) {
		if !allowed[m[1]] {
			p = append(p, fmt.Sprintf("%s: %s names %s, which the query's result does not have", where, text, m[0]))
		}
	}
	return p
}

func TestDashboardLegendsNameResultLabels(t *testing.T) {
	t.Parallel()

	d := loadDashboard(t)
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	var problems []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			expr, err := substituteVariables(tg.Expr, vars)
			require.NoError(t, err)
			problems = append(problems, legendProblems(fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), expr, tg.LegendFormat)...)
		}
	}
	require.Empty(t, problems)

	t.Run("a label the aggregation drops is reported", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, []string{
			"x: {{kind}} {{outcome}} names {{outcome}}, which the query's result does not have",
		}, legendProblems("x", `sum by (kind) (rate(leadorch_job_runs_total[5m]))`, "{{kind}} {{outcome}}"))
		require.Equal(t, []string{
			"x: {{queu}} names {{queu}}, which the query's result does not have",
		}, legendProblems("x", `leadorch_queue_jobs`, "{{queu}}"))
	})
}
