package main

import (
	"context"
	"fmt"
)

// backfillStatusCmd shows a tenant's backfills and how far each has got.
type backfillStatusCmd struct {
	tenant string
}

func (c *backfillStatusCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("backfill status")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	if err := parseFlags(fs, "backfill status", backfillStatusSyn, args); err != nil {
		return err
	}
	return requireFlags("backfill status", backfillStatusSyn, "tenant", c.tenant)
}

// run prints one line per backfill, newest first. A disabled tenant's
// backfills are shown too: their windows cancel themselves, and the
// operator wants to see that.
func (c *backfillStatusCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	backfills, err := d.store.Backfills(ctx, tenant.ID)
	if err != nil {
		return err
	}
	if len(backfills) == 0 {
		_, err := fmt.Fprintf(d.stdout, "tenant %s has no backfills\n", tenant.Name)
		return err
	}
	now := d.now()
	for _, p := range backfills {
		if _, err := fmt.Fprintf(d.stdout, "backfill %d: %s to %s, window %s, started %s: %s\n",
			p.ID, inTenantZone(tenant, p.Since), inTenantZone(tenant, p.Until), p.Window,
			inTenantZone(tenant, p.CreatedAt), backfillState(p, now)); err != nil {
			return err
		}
	}
	return nil
}
