package monitoring

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// contractMetric is one metric of the contract between internal/metrics
// (which exports it), these rules and the dashboard (which query it). labels
// maps each label to the values it may take; nil means any value (kinds,
// queues, tenant classes and attention reasons are open sets).
type contractMetric struct {
	histogram bool
	labels    map[string][]string
}

// Closed label value sets of the contract.
var (
	jobOutcomes      = []string{"completed", "failed", "cancelled", "snoozed", "panicked"}
	providers        = []string{"twilio", "sendgrid"}
	providerOps      = []string{"send", "lookup"}
	providerOutcomes = []string{"ok", "retry", "permanent", "opted_out", "ambiguous"}
	crmOutcomes      = []string{"ok", "retry", "permanent", "rate_limited"}
	webhookRoutes    = []string{"crm_shopmonkey", "crm_tekmetric", "twilio_sms", "twilio_status", "twilio_voice", "twilio_voice_dial", "sendgrid_events"}
	webhookResults   = []string{"accepted", "refused"}
	webhookReasons   = []string{"ok", "unverified", "stale", "malformed", "unknown_tenant", "disabled", "rate_limited", "too_large", "unavailable"}
	leadPaths        = []string{"webhook", "poll", "backfill", "operator"}
	channels         = []string{"sms", "email"}
	queueStates      = []string{"available", "scheduled", "retryable"}
	outboxStatuses   = []string{"pending", "sending", "ambiguous", "failed"}
)

// contract is the metric contract of issue 11 (the metrics helper's brief),
// written out so that a misspelt name or label in a rule or a panel fails
// here instead of drawing an empty graph or never firing. It also holds
// Prometheus's own up and the series alerts.yml records (leadorch:...),
// which TestRecordedSeriesAreInContract keeps in step with the rules.
func contract() map[string]contractMetric {
	open := []string(nil)
	return map[string]contractMetric{
		"leadorch_build_info":                                   {labels: map[string][]string{"version": open, "goversion": open}},
		"leadorch_job_runs_total":                               {labels: map[string][]string{"kind": open, "queue": open, "outcome": jobOutcomes}},
		"leadorch_job_run_duration_seconds":                     {histogram: true, labels: map[string][]string{"kind": open}},
		"leadorch_provider_requests_total":                      {labels: map[string][]string{"provider": providers, "operation": providerOps, "outcome": providerOutcomes}},
		"leadorch_provider_request_duration_seconds":            {histogram: true, labels: map[string][]string{"provider": providers, "operation": providerOps}},
		"leadorch_crm_requests_total":                           {labels: map[string][]string{"crm": open, "outcome": crmOutcomes}},
		"leadorch_crm_request_duration_seconds":                 {histogram: true, labels: map[string][]string{"crm": open}},
		"leadorch_crm_budget_waits_total":                       {labels: map[string][]string{"crm": open, "tenant": open}},
		"leadorch_crm_rate_limited_total":                       {labels: map[string][]string{"crm": open, "tenant": open}},
		"leadorch_webhooks_total":                               {labels: map[string][]string{"route": webhookRoutes, "result": webhookResults, "reason": webhookReasons}},
		"leadorch_speed_to_lead_seconds":                        {histogram: true, labels: map[string][]string{"crm": open, "path": leadPaths, "channel": channels}},
		"leadorch_speed_to_lead_from_first_seen_seconds":        {histogram: true, labels: map[string][]string{"crm": open, "path": leadPaths, "channel": channels}},
		"leadorch_queue_jobs":                                   {labels: map[string][]string{"queue": open, "state": queueStates}},
		"leadorch_queue_oldest_available_age_seconds":           {labels: map[string][]string{"queue": open}},
		"leadorch_outbox_messages":                              {labels: map[string][]string{"channel": channels, "status": outboxStatuses}},
		"leadorch_poll_lag_seconds":                             {labels: map[string][]string{"crm": open, "tenant": open}},
		"leadorch_tenants_polls_failing":                        {labels: map[string][]string{"crm": open}},
		"leadorch_tenants_needing_attention":                    {labels: map[string][]string{"reason": open}},
		"leadorch_poll_schedule_age_seconds":                    {labels: map[string][]string{}},
		"leadorch_database_stats_up":                            {labels: map[string][]string{}},
		"up":                                                    {labels: map[string][]string{}},
		"leadorch:queue_oldest_available_age_threshold_seconds": {labels: map[string][]string{"queue": open, "severity": {"critical", "warning"}}},
	}
}

// targetLabels are added by Prometheus to every scraped series.
var targetLabels = []string{"job", "instance"}

// promqlKeywords are the identifiers of PromQL that are not metric names.
var promqlKeywords = []string{
	"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
	"and", "or", "unless", "offset", "inf", "nan",
}

var (
	stringLiteral = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	rangeSelector = regexp.MustCompile(`\[[^\]]*\]`)
	labelList     = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	selector      = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}`)
	matcher       = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$`)
	identifier    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	literalAlts   = regexp.MustCompile(`^[a-z0-9_]+(\|[a-z0-9_]+)*$`)
)

// metricUse is one selector of one expression: the metric it names (empty
// for a bare {...}) and its label matchers.
type metricUse struct {
	metric   string
	matchers [][3]string // label, operator, value
}

// exprUses reads the metric names, selectors and grouping labels of a
// PromQL expression. It is a small lexer, not a parser (promtool parses):
// it drops string literals and range selectors, takes label lists after
// by/on/..., selectors {...}, and then every identifier not called as a
// function and not a keyword is a metric name.
func exprUses(expr string) (uses []metricUse, grouping []string, err error) {
	for _, m := range labelList.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[2], ",") {
			if l = strings.TrimSpace(l); l != "" {
				grouping = append(grouping, l)
			}
		}
	}
	rest := labelList.ReplaceAllString(expr, " ")
	rest = rangeSelector.ReplaceAllString(rest, " ")
	for _, m := range selector.FindAllStringSubmatchIndex(rest, -1) {
		use := metricUse{}
		if m[2] >= 0 {
			use.metric = rest[m[2]:m[3]]
		}
		for _, part := range splitMatchers(rest[m[4]:m[5]]) {
			mm := matcher.FindStringSubmatch(part)
			if mm == nil {
				return nil, nil, fmt.Errorf("error reading matcher %q in %q", part, expr)
			}
			use.matchers = append(use.matchers, [3]string{mm[1], mm[2], mm[3]})
		}
		uses = append(uses, use)
	}
	rest = selector.ReplaceAllString(rest, " ")
	rest = stringLiteral.ReplaceAllString(rest, " ")
	for _, loc := range identifier.FindAllStringIndex(rest, -1) {
		word := rest[loc[0]:loc[1]]
		after := strings.TrimLeft(rest[loc[1]:], " \t\n")
		if slices.Contains(promqlKeywords, strings.ToLower(word)) || strings.HasPrefix(after, "(") {
			continue
		}
		if loc[0] > 0 && isDigit(rest[loc[0]-1]) {
			continue // the unit of a number such as 1e3 or a duration
		}
		uses = append(uses, metricUse{metric: word})
	}
	return uses, grouping, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// splitMatchers splits the inside of {...} at the commas outside quotes.
func splitMatchers(s string) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == ',' && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		parts = append(parts, s[start:])
	}
	return parts
}

// contractProblems lists what in expr is not in the contract: unknown
// metric names (a histogram's _bucket, _sum and _count are its own),
// labels a metric does not have, values outside a closed set, and
// grouping labels no metric has. where names the expression in each line.
func contractProblems(where, expr string) []string {
	c := contract()
	uses, grouping, err := exprUses(expr)
	if err != nil {
		return []string{where + ": " + err.Error()}
	}
	var problems []string
	known := map[string]bool{"le": true}
	for _, l := range targetLabels {
		known[l] = true
	}
	for _, use := range uses {
		m, name, ok := lookupMetric(c, use.metric)
		if use.metric != "" && !ok {
			problems = append(problems, fmt.Sprintf("%s: metric %q is not in the contract", where, use.metric))
			continue
		}
		for l := range m.labels {
			known[l] = true
		}
		for _, mt := range use.matchers {
			problems = append(problems, matcherProblems(where, name, m, ok, mt)...)
		}
	}
	for _, l := range grouping {
		if !known[l] {
			problems = append(problems, fmt.Sprintf("%s: grouping label %q is on none of the metrics used", where, l))
		}
	}
	return problems
}

// lookupMetric finds name in the contract, reading a histogram's series
// names back to the histogram.
func lookupMetric(c map[string]contractMetric, name string) (contractMetric, string, bool) {
	if m, ok := c[name]; ok && !m.histogram {
		return m, name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suffix)
		if m, ok := c[base]; found && ok && m.histogram {
			if suffix == "_bucket" {
				m.labels = mapsWith(m.labels, "le")
			}
			return m, base, true
		}
	}
	return contractMetric{}, name, false
}

func mapsWith(labels map[string][]string, extra string) map[string][]string {
	out := map[string][]string{extra: nil}
	for k, v := range labels {
		out[k] = v
	}
	return out
}

// matcherProblems checks one label matcher of a selector of metric m.
func matcherProblems(where, name string, m contractMetric, known bool, mt [3]string) []string {
	label, op, value := mt[0], mt[1], mt[2]
	if label == "__name__" || slices.Contains(targetLabels, label) || !known {
		return nil
	}
	allowed, ok := m.labels[label]
	if !ok {
		return []string{fmt.Sprintf("%s: %s has no label %q", where, name, label)}
	}
	if allowed == nil || (op != "=" && op != "=~") || strings.Contains(value, "$") {
		return nil
	}
	if op == "=~" && !literalAlts.MatchString(value) {
		return nil
	}
	var problems []string
	for _, v := range strings.Split(value, "|") {
		if !slices.Contains(allowed, v) {
			problems = append(problems, fmt.Sprintf("%s: %s{%s} takes %v, not %q", where, name, label, allowed, v))
		}
	}
	return problems
}
