package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// Limits of a backfill. A window under a minute makes millions of jobs for
// nothing; one over a month makes a single job list a month of CRM records.
// Five years of one-minute windows is about 2.6 million jobs, which the
// batched COPY below inserts in about a minute and a half (make bench: 24-27k
// jobs/s on 2 cores, 130 MB peak for a million).
const (
	minBackfillWindow = time.Minute
	maxBackfillWindow = 744 * time.Hour
	maxBackfillYears  = 5
	// backfillBatch is how many jobs go into one COPY. All batches share
	// one transaction, so a failed backfill inserts nothing; the batch
	// only bounds the memory the job arguments take.
	backfillBatch = 10_000
)

// backfillCmd inserts historic poll_crm jobs over a date range.
type backfillCmd struct {
	tenant       string
	since, until dateArg
	window       time.Duration
	dryRun       bool
	sendMessages bool
	wait         bool
}

func (c *backfillCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("backfill")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	fs.Var(&c.since, "since", "start of the range (RFC 3339 or YYYY-MM-DD)")
	fs.Var(&c.until, "until", "end of the range, excluded (default now)")
	fs.DurationVar(&c.window, "window", 24*time.Hour, "length of each poll_crm job's window")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the windows, insert nothing")
	fs.BoolVar(&c.sendMessages, "send-messages", false, "message the leads found")
	fs.BoolVar(&c.wait, "wait", false, "show the backfill's progress until it is done")
	if err := parseFlags(fs, "backfill", backfillSynopsis, args); err != nil {
		return err
	}
	if err := requireFlags("backfill", backfillSynopsis, "tenant", c.tenant); err != nil {
		return err
	}
	if !c.since.set {
		return usageErrorf(backfillSynopsis, "backfill: --since is required")
	}
	if c.window < minBackfillWindow || c.window > maxBackfillWindow {
		return usageErrorf(backfillSynopsis, "backfill: --window %s: must be between %s and %s", c.window, minBackfillWindow, maxBackfillWindow)
	}
	return nil
}

func (c *backfillCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findEnabledTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	loc, err := tenant.Location()
	if err != nil {
		return err
	}
	now := d.now()
	since := c.since.in(loc)
	until := now
	if c.until.set {
		until = c.until.in(loc)
	}
	switch {
	case until.After(now):
		return fmt.Errorf("backfill: --until %s is in the future; live polls cover what happens from now on", c.until.raw)
	case !since.Before(until):
		return fmt.Errorf("backfill: --since %s must be before --until %s", since.In(loc).Format(time.RFC3339), until.In(loc).Format(time.RFC3339))
	case since.AddDate(maxBackfillYears, 0, 0).Before(until):
		return fmt.Errorf("backfill: --since %s to --until %s is longer than %d years; split it into several backfills",
			since.In(loc).Format(time.RFC3339), until.In(loc).Format(time.RFC3339), maxBackfillYears)
	}

	w := backfillWindows{since: since, until: until, size: c.window}
	n := w.count()
	if c.dryRun {
		firstSince, firstUntil := w.at(0)
		lastSince, lastUntil := w.at(n - 1)
		_, err := fmt.Fprintf(d.stdout, "dry run: would insert %d poll_crm jobs for tenant %s (send messages: %v)\n"+
			"  first window: %s to %s\n  last window:  %s to %s\nnothing inserted\n",
			n, tenant.Name, c.sendMessages,
			inTenantZone(tenant, firstSince), inTenantZone(tenant, firstUntil),
			inTenantZone(tenant, lastSince), inTenantZone(tenant, lastUntil))
		return err
	}

	start := time.Now()
	id, inserted, err := c.insert(ctx, d, tenant, w)
	if err != nil {
		return fmt.Errorf("backfill of tenant %s failed, nothing was inserted: %w", tenant.Name, err)
	}
	took := time.Since(start)
	_, err = fmt.Fprintf(d.stdout, "inserted %d poll_crm jobs for tenant %s covering %s to %s in windows of %s (send messages: %v)\n"+
		"took %s (%.0f jobs/s)\n",
		inserted, tenant.Name, inTenantZone(tenant, since), inTenantZone(tenant, until), c.window, c.sendMessages,
		took.Round(time.Millisecond), float64(inserted)/took.Seconds())
	if err != nil {
		return err
	}
	if !c.wait {
		_, err = fmt.Fprintf(d.stdout, "backfill %d: see its progress with `enqueue backfill status --tenant %s`\n", id, tenant.ID)
		return err
	}
	return watchBackfill(ctx, d, tenant, id)
}

// insert records the backfill and writes every window's job with COPY
// (InsertManyFastTx: backfill polls have no unique options, so nothing can
// conflict), in batches, in one transaction. It returns the backfill's id,
// which every job's args carry, and how many jobs it inserted.
func (c *backfillCmd) insert(ctx context.Context, d *deps, tenant lead.Tenant, w backfillWindows) (int64, int, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("error beginning transaction: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	n := w.count()
	id, err := store.New(tx).CreateBackfill(ctx, store.Backfill{
		TenantID: tenant.ID, Since: w.since, Until: w.until, Window: w.size, WindowsTotal: n,
		SendMessages: c.sendMessages, CreatedAt: d.now(),
	})
	if err != nil {
		return 0, 0, err
	}
	params := make([]river.InsertManyParams, 0, min(n, backfillBatch))
	total := 0
	for first := 0; first < n; first += backfillBatch {
		params = params[:0]
		for i := first; i < min(first+backfillBatch, n); i++ {
			since, until := w.at(i)
			params = append(params, river.InsertManyParams{Args: jobs.PollCRMArgs{
				TenantID: tenant.ID, Since: since, Until: until, Live: false, SendMessages: c.sendMessages, BackfillID: id,
			}})
		}
		inserted, err := d.river.InsertManyFastTx(ctx, tx, params)
		if err != nil {
			return 0, 0, fmt.Errorf("error inserting jobs %d to %d of %d: %w", first+1, first+len(params), n, err)
		}
		total += inserted
		if n > backfillBatch && (total%(10*backfillBatch) == 0 || total == n) {
			fmt.Fprintf(d.stderr, "inserted %d of %d jobs (committed at the end)\n", total, n)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("error committing: %w", err)
	}
	return id, total, nil
}

// backfillWindows splits [since, until) into consecutive windows of size;
// the last one is shorter when size does not divide the range. Windows are
// computed by index rather than stored, so a multi-million-window backfill
// holds one batch in memory, not the whole range.
type backfillWindows struct {
	since, until time.Time
	size         time.Duration
}

func (w backfillWindows) count() int {
	return int((w.until.Sub(w.since) + w.size - 1) / w.size)
}

// at returns window i.
func (w backfillWindows) at(i int) (since, until time.Time) {
	since = w.since.Add(time.Duration(i) * w.size)
	until = since.Add(w.size)
	if until.After(w.until) {
		until = w.until
	}
	return since, until
}

// dateArg is a --since or --until value: an instant (RFC 3339) or a bare
// date, which means midnight in the tenant's time zone and so becomes an
// instant only once the tenant is known.
type dateArg struct {
	set    bool
	raw    string
	t      time.Time
	isDate bool
}

func (a *dateArg) String() string { return a.raw }

func (a *dateArg) Set(s string) error {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		*a = dateArg{set: true, raw: s, t: t}
		return nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		*a = dateArg{set: true, raw: s, t: t, isDate: true}
		return nil
	}
	return errors.New("want RFC 3339 (2024-03-01T09:00:00-05:00) or a date (2024-03-01)")
}

// in is the instant the argument names, reading a bare date in loc.
func (a *dateArg) in(loc *time.Location) time.Time {
	if !a.isDate {
		return a.t
	}
	y, m, day := a.t.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, loc)
}
