package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// results is everything one run measured; it is written as JSON.
type results struct {
	StartedAt time.Time    `json:"started_at"`
	Took      jsonDuration `json:"took"`
	Quick     bool         `json:"quick"`
	Machine   machine      `json:"machine"`
	Worker    workerReport `json:"worker_settings"`
	Targets   targets      `json:"targets"`
	Headline  *headline    `json:"headline,omitempty"`
	Bare      *bareResult  `json:"bare_river,omitempty"`
	E2E       []*e2eResult `json:"end_to_end,omitempty"`
	// E2ETelemetry are the telemetry phase's runs with tracing exported
	// and metrics scraped, E2ETelemetryOff its runs without, interleaved
	// with them; TelemetryCost compares their medians.
	E2ETelemetry    []*e2eResult    `json:"end_to_end_with_telemetry,omitempty"`
	E2ETelemetryOff []*e2eResult    `json:"end_to_end_without_telemetry,omitempty"`
	TelemetryCost   *telemetryCost  `json:"telemetry_cost,omitempty"`
	Latency         *latencyResult  `json:"lead_to_text_latency,omitempty"`
	Webhook         *webhookResult  `json:"webhook_to_text_latency,omitempty"`
	Schedule        *scheduleResult `json:"schedule_lag,omitempty"`
	Enqueue         *enqueueResult  `json:"bulk_enqueue,omitempty"`
	Profile         *profileResult  `json:"in_process_profile,omitempty"`
	Errors          []string        `json:"errors,omitempty"`
}

// targets are the figures the issue asks for.
type targets struct {
	LeadsPerSec        float64 `json:"e2e_leads_per_sec"`
	LatencyP99OverPoll float64 `json:"lead_to_text_p99_seconds_over_poll_interval"`
	WebhookP99         float64 `json:"webhook_to_text_p99_seconds"`
	ScheduleLagP99     float64 `json:"schedule_lag_p99_seconds"`
	EnqueueJobsPerSec  float64 `json:"bulk_enqueue_jobs_per_sec"`
	WorkerPeakRSSBytes int64   `json:"worker_peak_rss_bytes"`
}

func defaultTargets() targets {
	return targets{LeadsPerSec: 500, LatencyP99OverPoll: 1, WebhookP99: 0.25, ScheduleLagP99: 2, EnqueueJobsPerSec: 50_000, WorkerPeakRSSBytes: 150 << 20}
}

// headline is the end-to-end figure read against the bare River rate.
type headline struct {
	Replicas       int     `json:"replicas"`
	LeadsPerSec    float64 `json:"leads_per_sec"`
	BareJobsPerSec float64 `json:"bare_river_jobs_per_sec"`
	// Ratio is leads/s over bare no-op jobs/s; JobsRatio is the
	// end-to-end run's jobs/s (every kind, records included) over the same.
	Ratio     float64 `json:"ratio"`
	JobsRatio float64 `json:"jobs_ratio"`
}

func (r *results) best() *e2eResult {
	var best *e2eResult
	for _, e := range r.E2E {
		if best == nil || e.LeadsPerSec > best.LeadsPerSec {
			best = e
		}
	}
	return best
}

// telemetryCost is what tracing and metrics cost the end-to-end rate:
// the median of the telemetry phase's runs with them on against the
// median of its interleaved runs without, both also read against the bare
// River rate of the same bench. The bound is 5% worse.
type telemetryCost struct {
	Pairs          int     `json:"pairs"`
	Replicas       int     `json:"replicas"`
	LeadsPerSecOff float64 `json:"leads_per_sec_off_median"`
	LeadsPerSecOn  float64 `json:"leads_per_sec_on_median"`
	// Off and On are every run's leads/s, in the order they ran.
	Off      []float64 `json:"leads_per_sec_off"`
	On       []float64 `json:"leads_per_sec_on"`
	RatioOff float64   `json:"ratio_off,omitempty"`
	RatioOn  float64   `json:"ratio_on,omitempty"`
	// Worse is 1 - on/off of the medians: 0.05 is 5% fewer leads per
	// second.
	Worse float64 `json:"worse"`
	// WorkerCPUPerLead are the medians of the replicas' CPU time per lead
	// in milliseconds: what the telemetry itself costs, less shaken than
	// the rate by the machine's other work.
	WorkerCPUPerLeadOff float64 `json:"worker_cpu_ms_per_lead_off_median"`
	WorkerCPUPerLeadOn  float64 `json:"worker_cpu_ms_per_lead_on_median"`
}

func (c *telemetryCost) String() string {
	return fmt.Sprintf("%d pairs at %d replicas, medians off %.1f leads/s (1 : %.0f of bare), on %.1f (1 : %.0f): %+.1f%%; runs off %s, on %s; worker CPU per lead %.2f ms off, %.2f ms on",
		c.Pairs, c.Replicas, c.LeadsPerSecOff, inv(c.RatioOff), c.LeadsPerSecOn, inv(c.RatioOn), -100*c.Worse, rates(c.Off), rates(c.On),
		c.WorkerCPUPerLeadOff, c.WorkerCPUPerLeadOn)
}

func rates(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(parts, " ")
}

// workerCPUPerLead is each run's replicas' CPU milliseconds per lead.
func workerCPUPerLead(runs []*e2eResult) []float64 {
	out := make([]float64, len(runs))
	for i, e := range runs {
		out[i] = 1000 * e.CPU.Workers / float64(e.Leads)
	}
	return out
}

func leadsPerSec(runs []*e2eResult) []float64 {
	out := make([]float64, len(runs))
	for i, e := range runs {
		out[i] = e.LeadsPerSec
	}
	return out
}

// median of xs (not empty), which it leaves unsorted.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func (r *results) computeTelemetryCost() {
	if len(r.E2ETelemetry) == 0 || len(r.E2ETelemetryOff) == 0 {
		return
	}
	c := &telemetryCost{Pairs: len(r.E2ETelemetry), Replicas: r.E2ETelemetry[0].Replicas,
		Off: leadsPerSec(r.E2ETelemetryOff), On: leadsPerSec(r.E2ETelemetry)}
	c.LeadsPerSecOff, c.LeadsPerSecOn = median(c.Off), median(c.On)
	c.Worse = 1 - c.LeadsPerSecOn/c.LeadsPerSecOff
	c.WorkerCPUPerLeadOff, c.WorkerCPUPerLeadOn = median(workerCPUPerLead(r.E2ETelemetryOff)), median(workerCPUPerLead(r.E2ETelemetry))
	if r.Bare != nil {
		c.RatioOff, c.RatioOn = c.LeadsPerSecOff/r.Bare.JobsPerSec, c.LeadsPerSecOn/r.Bare.JobsPerSec
	}
	r.TelemetryCost = c
}

func (r *results) computeHeadline() {
	r.computeTelemetryCost()
	best := r.best()
	if best == nil || r.Bare == nil {
		return
	}
	r.Headline = &headline{
		Replicas: best.Replicas, LeadsPerSec: best.LeadsPerSec, BareJobsPerSec: r.Bare.JobsPerSec,
		Ratio: best.LeadsPerSec / r.Bare.JobsPerSec, JobsRatio: best.JobsPerSec / r.Bare.JobsPerSec,
	}
}

func (r *results) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Round(time.Millisecond).String())
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// printTable prints the one table of figures and, under it, where the
// best end-to-end run's CPU and Postgres time went.
func printTable(w io.Writer, r *results) {
	r.computeHeadline()
	fmt.Fprintf(w, "Lead Orchestrator benchmark, %s (%s run, took %s)\n", r.StartedAt.Format(time.RFC3339),
		map[bool]string{true: "quick", false: "full"}[r.Quick], time.Duration(r.Took).Round(time.Second))
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "worker settings: %s\n", strings.Join(r.Worker.Env, " "))
	fmt.Fprintf(w, "  poll.overlap %s; latency run: tenants' poll_interval %ds, river.schedule_interval %s\n\n",
		r.Worker.PollOverlapDefault, r.Worker.PollIntervalSecs, r.Worker.ScheduleInterval)

	printFigures(w, r)
	if best := r.best(); best != nil {
		printWhereTimeWent(w, best, r.Machine.CPUs)
	}
	printRunDetails(w, r)
}

// tableRow prints one row of the figures' table.
type tableRow func(cells ...string)

// printFigures is the table: one row per figure, numbered as in the
// package comment.
func printFigures(w io.Writer, r *results) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tfigure\tvalue\ttarget\tmet\tdetail")
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	r.rateRows(row)
	r.latencyRows(row)
	r.capacityRows(row)
	r.webhookRow(row)
	tw.Flush()
}

// rateRows are figures 1 and 2: the bare River rate and the best end-to-end
// run, with the headline ratio.
func (r *results) rateRows(row tableRow) {
	t := r.Targets
	if b := r.Bare; b != nil {
		row("1", "bare River rate, no-op jobs", fmt.Sprintf("%.0f jobs/s", b.JobsPerSec), "-", "",
			fmt.Sprintf("%d jobs in %.2fs, 1 in-process client, MaxWorkers %d, cooldown %s, poll %s; InsertManyFast %.0f jobs/s",
				b.Jobs, b.Seconds, b.MaxWorkers, b.FetchCooldown, b.FetchPoll, b.InsertPerSec))
	} else {
		row("1", "bare River rate, no-op jobs", "not run", "-", "", "")
	}
	if best := r.best(); best != nil {
		row("2", fmt.Sprintf("end to end, best (%s)", replicas(best.Replicas)), fmt.Sprintf("%.1f leads/s", best.LeadsPerSec),
			fmt.Sprintf("%.0f leads/s", t.LeadsPerSec), verdict(best.LeadsPerSec >= t.LeadsPerSec),
			fmt.Sprintf("%d leads / %d tenants in %.2fs (messages done %.2fs); %d jobs = %.1f per lead, %.0f jobs/s",
				best.Leads, best.Tenants, best.Seconds, best.MessagesSeconds, best.Jobs, float64(best.Jobs)/float64(best.Leads), best.JobsPerSec))
		if h := r.Headline; h != nil {
			row("", "HEADLINE e2e leads/s : bare jobs/s", fmt.Sprintf("1 : %.0f (%.4f)", 1/h.Ratio, h.Ratio), "", "",
				fmt.Sprintf("e2e jobs/s : bare jobs/s = %.3f", h.JobsRatio))
		}
	} else {
		row("2", "end to end", "not run", "", "", "")
	}
	if c := r.TelemetryCost; c != nil {
		row("2t", "end to end with tracing + metrics on", fmt.Sprintf("%.1f leads/s", c.LeadsPerSecOn), "<= 5% worse", verdict(c.Worse <= 0.05), c.String())
	}
}

func inv(x float64) float64 {
	if x == 0 {
		return 0
	}
	return 1 / x
}

// latencyRows are figures 3 and 4: lead-to-text latency and schedule lag.
func (r *results) latencyRows(row tableRow) {
	t := r.Targets
	if l := r.Latency; l != nil {
		poll, _ := time.ParseDuration(l.PollInterval)
		limit := poll.Seconds() + t.LatencyP99OverPoll
		row("3", "lead-to-text latency p50 / p99", fmt.Sprintf("%.2fs / %.2fs", l.P50, l.P99),
			fmt.Sprintf("p99 < %.0fs", limit), verdict(l.P99 < limit && l.Texted == l.Leads),
			fmt.Sprintf("%.0f leads/s for %s, %d tenants, %d replicas; poll interval %s, schedule interval %s; p90 %.2fs, max %.2fs; %d/%d texted; poll claimed -> text p50 %.2fs, p99 %.2fs",
				l.Rate, l.Duration, l.Tenants, l.Replicas, l.PollInterval, l.ScheduleInterval, l.P90, l.Max, l.Texted, l.Leads, l.PipelineP50, l.PipelineP99))
	} else {
		row("3", "lead-to-text latency", "not run", "", "", "")
	}
	if s := r.Schedule; s != nil {
		row("4", fmt.Sprintf("schedule lag p50 / p99, %d tenants", s.Tenants), fmt.Sprintf("%.2fs / %.2fs", s.P50, s.P99),
			fmt.Sprintf("p99 < %.0fs", t.ScheduleLagP99), verdict(s.P99 < t.ScheduleLagP99 && s.Absorbed == 0),
			fmt.Sprintf("every %s for %s, %d replicas, schedule interval %s: %d polls due, %d started (%.0f/s), %d not started, %d absorbed; due->claimed p99 %.2fs, claimed->started p99 %.2fs, max %.2fs",
				s.Interval, s.Duration, s.Replicas, s.ScheduleInterval, s.Claims, s.Started, s.PollsPerSec, s.NotStarted, s.Absorbed, s.ClaimP99, s.QueueP99, s.Max))
	} else {
		row("4", "schedule lag", "not run", "", "", "")
	}
}

// capacityRows are figures 5 to 7: bulk enqueue, worker memory and the
// end-to-end rate by replica count.
func (r *results) capacityRows(row tableRow) {
	t := r.Targets
	if e := r.Enqueue; e != nil {
		row("5", fmt.Sprintf("bulk enqueue, %d windows", e.Windows), fmt.Sprintf("%.0f jobs/s", e.JobsPerSec),
			fmt.Sprintf(">= %.0f jobs/s", t.EnqueueJobsPerSec), verdict(e.JobsPerSec >= t.EnqueueJobsPerSec),
			fmt.Sprintf("inserts took %.2fs, whole process %.2fs, enqueue peak RSS %s", e.Seconds, e.WallSeconds, mb(e.PeakRSS)))
	} else {
		row("5", "bulk enqueue", "not run", "", "", "")
	}
	if len(r.E2E) > 0 {
		var peak int64
		var per []string
		for _, e := range r.E2E {
			peak = max(peak, e.PeakRSS)
			var each []string
			for _, v := range e.RSS {
				each = append(each, fmt.Sprintf("%.0f", float64(v)/(1<<20)))
			}
			per = append(per, fmt.Sprintf("%s: %s MB", replicas(e.Replicas), strings.Join(each, "/")))
		}
		row("6", "worker peak RSS (VmHWM), e2e", mb(peak), fmt.Sprintf("< %s", mb(t.WorkerPeakRSSBytes)), verdict(peak < t.WorkerPeakRSSBytes),
			strings.Join(per, "; "))
		var vals, details []string
		for _, e := range r.E2E {
			vals = append(vals, fmt.Sprintf("%.1f", e.LeadsPerSec))
			details = append(details, fmt.Sprintf("%d: %.2fs, %.0f jobs/s, CPU %s", e.Replicas, e.Seconds, e.JobsPerSec, e.CPU))
		}
		var counts []string
		for _, e := range r.E2E {
			counts = append(counts, fmt.Sprint(e.Replicas))
		}
		row("7", fmt.Sprintf("e2e leads/s with %s replicas", strings.Join(counts, " / ")), strings.Join(vals, " / "), "", "",
			strings.Join(details, "; "))
	}
}

// webhookRow is figure 8: webhook-to-text latency.
func (r *results) webhookRow(row tableRow) {
	t := r.Targets
	if h := r.Webhook; h != nil {
		row("8", "webhook-to-text latency p50 / p99", fmt.Sprintf("%.0f ms / %.0f ms", 1000*h.P50, 1000*h.P99),
			fmt.Sprintf("p99 < %.0f ms", 1000*t.WebhookP99), verdict(h.P99 < t.WebhookP99 && h.Texted == h.Webhooks && h.PollJobs == 0),
			fmt.Sprintf("%.0f webhooks/s for %s, %d tenants, %d replicas round-robin; p90 %.0f ms, max %.0f ms; %d/%d texted, %d rejected, %d not texted; webhook answered p50 %.1f ms, p99 %.1f ms; %d poll_crm jobs",
				h.Rate, h.Duration, h.Tenants, h.Replicas, 1000*h.P90, 1000*h.Max, h.Texted, h.Webhooks, h.Rejected, h.NotTexted, 1000*h.AnswerP50, 1000*h.AnswerP99, h.PollJobs))
	} else {
		row("8", "webhook-to-text latency", "not run", "", "", "")
	}
}

// printWhereTimeWent breaks the best end-to-end run down: CPU, provider
// HTTP, jobs by kind and Postgres.
func printWhereTimeWent(w io.Writer, best *e2eResult, cpus int) {
	fmt.Fprintf(w, "\nwhere the best end-to-end run's time went (%s, %.2fs):\n", replicas(best.Replicas), best.Seconds)
	fmt.Fprintf(w, "  CPU (share of %d CPUs x wall): %s\n", cpus, best.CPU)
	fmt.Fprintf(w, "  provider HTTP: %s\n", best.HTTP)
	fmt.Fprintf(w, "  jobs: %s\n", kindCounts(best.JobsByKind))
	for _, k := range best.Timings {
		fmt.Fprintf(w, "    %-21s %6d  queue wait p50 %6.3fs p99 %6.3fs  run p50 %6.3fs p99 %6.3fs\n", k.Kind, k.Jobs, k.WaitP50, k.WaitP99, k.RunP50, k.RunP99)
	}
	fmt.Fprintf(w, "  Postgres, pg_stat_activity: %s\n", best.PG)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    avg backends\tstate\twait\tquery")
	for _, it := range best.PG.Top {
		fmt.Fprintf(tw, "    %.2f\t%s\t%s\t%s\n", it.AvgBackends, it.State, it.Wait, it.Query)
	}
	tw.Flush()
	if s := best.Statements; s != nil {
		fmt.Fprintf(w, "  Postgres, pg_stat_statements: %d statements (%.1f per lead), %.2fs of execution (%.0f%% of the wall time)\n",
			s.Calls, best.StatementsPerLead, s.ExecSeconds, 100*s.ExecSeconds/best.Seconds)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    share\tcalls\tper lead\tmean ms\tquery")
		for i, st := range s.Top {
			if i == 15 {
				fmt.Fprintf(tw, "    ...\t\t\t\t(%d more in the JSON)\n", len(s.Top)-15)
				break
			}
			fmt.Fprintf(tw, "    %.1f%%\t%d\t%.2f\t%.3f\t%s\n", 100*st.ShareExec, st.Calls, float64(st.Calls)/float64(best.Leads), st.MeanMS, st.Query)
		}
		tw.Flush()
	}
}

// printRunDetails prints the latency and webhook runs' breakdowns, the
// profile and the errors.
func printRunDetails(w io.Writer, r *results) {
	if l := r.Latency; l != nil && len(l.Jobs) > 0 {
		fmt.Fprintf(w, "\nlatency run, per job kind (queue wait = scheduled to started, run = started to finished):\n")
		for _, k := range l.Jobs {
			fmt.Fprintf(w, "    %-21s %6d  queue wait p50 %6.3fs p99 %6.3fs  run p50 %6.3fs p99 %6.3fs\n", k.Kind, k.Jobs, k.WaitP50, k.WaitP99, k.RunP50, k.RunP99)
		}
	}
	if h := r.Webhook; h != nil && len(h.Stages) > 0 {
		fmt.Fprintf(w, "\nwebhook run, where each text's latency went (per lead, at its jobs' timestamps):\n")
		for _, st := range h.Stages {
			fmt.Fprintf(w, "    %-28s p50 %7.1f ms  p99 %7.1f ms\n", st.Stage, 1000*st.P50, 1000*st.P99)
		}
	}
	if p := r.Profile; p != nil {
		fmt.Fprintf(w, "\nin-process profile: %s\n", p)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\nerrors:\n  %s\n", strings.Join(r.Errors, "\n  "))
	}
}

func kindCounts(m map[string]int) string {
	order := []string{"poll_crm", "ingest_lead", "send_sms", "send_email", "record_job_execution", "schedule_polls"}
	var parts []string
	for _, k := range order {
		if n, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	for k, n := range m {
		found := false
		for _, o := range order {
			found = found || o == k
		}
		if !found {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, ", ")
}

func replicas(n int) string {
	if n == 1 {
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", n)
}
