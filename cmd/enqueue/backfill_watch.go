package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

const (
	// watchInterval is how often --wait counts the backfill's jobs (more
	// rarely when a count takes longer: see watchBackfill).
	watchInterval = time.Second
	// plainLineEvery is how often --wait prints a line when stdout is not
	// a terminal: a log or a CI job wants a record, not a redraw a second.
	plainLineEvery = 10 * time.Second
	barWidth       = 24
)

// watchBackfill shows backfill id's progress until its last window has
// run, or until ctx ends (Ctrl-C), which stops the watching only: the jobs
// are committed and the fleet's workers run them whatever happens here.
//
// Counting a backfill reads each of its jobs (through its own index, not
// the rest of river_job): 0.7 s for 1,000,000 jobs on 2 cores, 0.45 s
// again warm (TestBackfillProgressUsesIndex, LEADORCH_BACKFILL_JOBS), so
// the next count waits at least five times as long as the last one took:
// watching never keeps more than a fifth of one backend busy.
func watchBackfill(ctx context.Context, d *deps, tenant lead.Tenant, id int64) error {
	terminal := d.isTerminal(d.stdout)
	fmt.Fprintf(d.stdout, "watching backfill %d (Ctrl-C stops the watching, not the backfill)\n", id)
	var lastLine time.Time
	for {
		start := d.now()
		p, err := d.store.BackfillProgress(ctx, tenant.ID, id)
		if ctx.Err() != nil {
			return stoppedWatching(d, tenant, id, terminal)
		}
		if err != nil {
			return err
		}
		now := d.now()
		switch {
		case !p.Running():
			if terminal {
				fmt.Fprint(d.stdout, "\r\x1b[K")
			}
			_, err := fmt.Fprintf(d.stdout, "backfill %d: %s\n", id, backfillState(p, now))
			return err
		case terminal:
			fmt.Fprintf(d.stdout, "\r\x1b[K%s", progressBar(p, now))
		case lastLine.IsZero() || now.Sub(lastLine) >= plainLineEvery:
			fmt.Fprintf(d.stdout, "backfill %d: %s\n", id, backfillState(p, now))
			lastLine = now
		}
		wait := max(watchInterval, 5*now.Sub(start))
		select {
		case <-ctx.Done():
			return stoppedWatching(d, tenant, id, terminal)
		case <-d.after(wait):
		}
	}
}

func stoppedWatching(d *deps, tenant lead.Tenant, id int64, terminal bool) error {
	if terminal {
		fmt.Fprintln(d.stdout)
	}
	_, err := fmt.Fprintf(d.stdout, "stopped watching; backfill %d keeps running (see `enqueue backfill status --tenant %s`)\n", id, tenant.ID)
	return err
}

// progressBar is the one-line redraw of a running backfill on a terminal.
func progressBar(p store.BackfillProgress, now time.Time) string {
	filled := 0
	if p.WindowsTotal > 0 {
		filled = p.Finished * barWidth / p.WindowsTotal
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled)
	s := fmt.Sprintf("[%s] %d/%d windows, %d leads, %s", bar, p.Finished, p.WindowsTotal, p.Leads, rateAndTimeLeft(p, now))
	if p.Failed > 0 {
		s += fmt.Sprintf(", %d failed", p.Failed)
	}
	return s
}

// backfillState says where a backfill is, in the words `status` and the
// plain lines of --wait share: running (with rate and time left), done,
// or how many windows failed and where to find them.
func backfillState(p store.BackfillProgress, now time.Time) string {
	counts := fmt.Sprintf("%d of %d windows done, %d leads found", p.Finished, p.WindowsTotal, p.Leads)
	if p.Cancelled > 0 {
		counts += fmt.Sprintf(", %d cancelled", p.Cancelled)
	}
	switch {
	case p.Running() && p.Failed > 0:
		return fmt.Sprintf("running: %s, %s; %d failed so far (%s)", counts, rateAndTimeLeft(p, now), p.Failed, failedInRiverUI(p))
	case p.Running():
		return fmt.Sprintf("running: %s, %s", counts, rateAndTimeLeft(p, now))
	case p.Failed > 0:
		return fmt.Sprintf("some windows failed: %d of %d (%s); %s", p.Failed, p.WindowsTotal, failedInRiverUI(p), counts)
	}
	return "done: " + counts
}

// failedInRiverUI says where an operator finds a backfill's failed
// windows, with the errors of every attempt.
func failedInRiverUI(p store.BackfillProgress) string {
	return fmt.Sprintf(`see them in River UI: Jobs, Discarded, kind %s, args "backfill_id": %d`, jobs.PollCRMArgs{}.Kind(), p.ID)
}

// rateAndTimeLeft is the backfill's average speed since it was started
// and the time its remaining windows take at that speed.
func rateAndTimeLeft(p store.BackfillProgress, now time.Time) string {
	elapsed := now.Sub(p.CreatedAt)
	if p.Finished == 0 || elapsed <= 0 {
		return "time left unknown"
	}
	rate := float64(p.Finished) / elapsed.Seconds()
	left := time.Duration(float64(p.WindowsTotal-p.Finished) / rate * float64(time.Second))
	return fmt.Sprintf("%s windows/s, about %s left", formatRate(rate), left.Round(time.Second))
}

func formatRate(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.2f", r)
}
