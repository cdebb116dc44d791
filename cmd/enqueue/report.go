package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

const reportSynopsis = "report [--tenant T] [--since D] [--until D] [--format table|csv|json]"

// defaultReportSpan is how far back a report looks without --since.
const defaultReportSpan = 7 * 24 * time.Hour

// reportCmd prints speed to lead per shop and source: how fast the first
// text went out, how many customers replied, booked or opted out, and what
// failed or waits as ambiguous. It reads each shop in that shop's own
// scope (row-level security), as every other command does.
type reportCmd struct {
	tenant       string
	since, until reportTime
	format       string
}

func (c *reportCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("report")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id (default: every tenant)")
	fs.Var(&c.since, "since", "start: a duration back from now (7d, 24h) or a date (2026-11-01, RFC 3339); default 7d")
	fs.Var(&c.until, "until", "end, excluded: a duration back from now or a date; default now")
	fs.StringVar(&c.format, "format", "table", "table, csv or json")
	if err := parseFlags(fs, "report", reportSynopsis, args); err != nil {
		return err
	}
	switch c.format {
	case "table", "csv", "json":
	default:
		return usageErrorf(reportSynopsis, "report: --format %q: want table, csv or json", c.format)
	}
	if !c.since.set {
		c.since = reportTime{set: true, ago: defaultReportSpan}
	}
	if c.since.isAgo() && c.until.isAgo() && c.since.ago <= c.until.ago {
		return usageErrorf(reportSynopsis, "report: --since %s must be further back than --until %s", c.since.raw, c.until.raw)
	}
	return nil
}

func (c *reportCmd) run(ctx context.Context, d *deps) error {
	tenants, err := c.tenants(ctx, d)
	if err != nil {
		return err
	}
	now := d.now()
	var rows []reportRow
	for _, t := range tenants {
		loc, err := t.Location()
		if err != nil {
			loc = time.UTC
		}
		since, until := c.since.at(now, loc), now
		if c.until.set {
			until = c.until.at(now, loc)
		}
		if !since.Before(until) {
			return fmt.Errorf("--since %s (%s) must be before --until (%s) for tenant %s",
				c.since.raw, inTenantZone(t, since), inTenantZone(t, until), t.Name)
		}
		leads, err := d.store.ReportLeads(ctx, t.ID, since, until)
		if err != nil {
			return err
		}
		problems, err := d.store.ReportMessageProblems(ctx, t.ID, since, until)
		if err != nil {
			return err
		}
		rows = append(rows, shopReport(t, leads, problems)...)
	}
	switch c.format {
	case "csv":
		return writeReportCSV(d.stdout, rows)
	case "json":
		return writeReportJSON(d.stdout, rows)
	}
	return writeReportTable(d.stdout, rows)
}

// tenants are the shops the report covers: the one --tenant names (even a
// disabled one: its history still counts), or every tenant.
func (c *reportCmd) tenants(ctx context.Context, d *deps) ([]lead.Tenant, error) {
	if c.tenant != "" {
		t, err := d.findTenant(ctx, c.tenant)
		if err != nil {
			return nil, err
		}
		return []lead.Tenant{t}, nil
	}
	return d.store.FleetListTenants(ctx)
}

// reportTime is a --since or --until value: a span back from now ("7d",
// "24h", "90m") or a moment (a date, midnight in each shop's time zone, or
// RFC 3339).
type reportTime struct {
	set  bool
	raw  string
	ago  time.Duration
	date dateArg
}

func (r *reportTime) String() string { return r.raw }

func (r *reportTime) Set(s string) error {
	if ago, ok := parseAgo(s); ok {
		if ago <= 0 {
			return errors.New("a duration back from now must be more than zero")
		}
		*r = reportTime{set: true, raw: s, ago: ago}
		return nil
	}
	var d dateArg
	if err := d.Set(s); err != nil {
		return errors.New("want a duration back from now (7d, 24h, 90m) or a date (2026-11-01, or RFC 3339)")
	}
	*r = reportTime{set: true, raw: s, date: d}
	return nil
}

func (r *reportTime) isAgo() bool { return r.set && !r.date.set }

// at is the moment the value names, from now, reading a date in loc.
func (r *reportTime) at(now time.Time, loc *time.Location) time.Time {
	if r.isAgo() {
		return now.Add(-r.ago)
	}
	return r.date.in(loc)
}

// parseAgo reads a Go duration, or whole days written "7d". ok is false
// when s is neither.
func parseAgo(s string) (time.Duration, bool) {
	if days, found := strings.CutSuffix(s, "d"); found {
		n, err := strconv.Atoi(days)
		if err != nil || n > 3660 {
			return 0, false
		}
		return time.Duration(n) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}
