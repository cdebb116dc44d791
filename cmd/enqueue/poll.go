package main

import (
	"context"
	"fmt"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
)

// pollCmd inserts one live poll now, as the scheduler would, for an
// operator who does not want to wait for the tenant's next turn.
type pollCmd struct {
	tenant string
}

func (c *pollCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("poll")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	if err := parseFlags(fs, "poll", pollSynopsis, args); err != nil {
		return err
	}
	return requireFlags("poll", pollSynopsis, "tenant", c.tenant)
}

func (c *pollCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findEnabledTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	// The same window the scheduler (jobs.SchedulePollsWorker) would give.
	since := tenant.PollCursor.Add(-d.cfg.Poll.Overlap)
	until := d.now()
	if d.cfg.Poll.MaxWindow > 0 && until.Sub(since) > d.cfg.Poll.MaxWindow {
		until = since.Add(d.cfg.Poll.MaxWindow)
	}
	res, err := d.river.Insert(ctx, jobs.PollCRMArgs{
		TenantID: tenant.ID, Since: since, Until: until, Live: true, SendMessages: true,
	}, nil)
	if err != nil {
		return fmt.Errorf("error inserting poll of tenant %s: %w", tenant.Name, err)
	}
	// Live polls are unique per tenant while one waits or runs; the next
	// one starts from the cursor that one leaves, so nothing is lost.
	if res.UniqueSkippedAsDuplicate {
		_, err = fmt.Fprintf(d.stdout, "a poll for %s is already queued (job %d, state %s); nothing inserted\n",
			tenant.Name, res.Job.ID, res.Job.State)
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "queued live poll job %d for tenant %s: %s to %s\n",
		res.Job.ID, tenant.Name, inTenantZone(tenant, since), inTenantZone(tenant, until))
	return err
}
