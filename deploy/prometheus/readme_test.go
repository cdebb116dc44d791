package monitoring

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var readmeAlertRow = regexp.MustCompile("(?m)^\\| `(LeadOrch[A-Za-z]+)` \\| ([a-z]+)")

// readmeAlerts reads the alert table of the README's "Alerts and
// dashboard" section: each alert's name and the first word of its severity.
func readmeAlerts(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(raw), "\n### Alerts and dashboard\n")
	require.True(t, found, "README has no \"### Alerts and dashboard\" section")
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}
	rows := map[string]string{}
	for _, m := range readmeAlertRow.FindAllStringSubmatch(section, -1) {
		rows[m[1]] = m[2]
	}
	return rows
}

// TestReadmeListsEveryAlert keeps the README's table of alerts, which is
// what an operator reads when paged, in step with alerts.yml.
func TestReadmeListsEveryAlert(t *testing.T) {
	t.Parallel()

	rows := readmeAlerts(t)
	defined := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		defined[r.Alert] = true
		sev, ok := rows[r.Alert]
		require.True(t, ok, "README's alert table has no row for %s", r.Alert)
		if static, isStatic := r.Labels["severity"]; isStatic {
			require.Equal(t, static, sev, "README gives %s another severity than alerts.yml", r.Alert)
		}
	}
	for name := range rows {
		require.True(t, defined[name], "README lists %s, which alerts.yml does not define", name)
	}
}
