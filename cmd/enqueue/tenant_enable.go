package main

import (
	"context"
	"fmt"
)

// tenantSetEnabledCmd disables or enables a tenant. Jobs of a disabled
// tenant already queued cancel themselves when they run; enabling it again
// lets the scheduler resume from its poll cursor, so the gap is polled.
type tenantSetEnabledCmd struct {
	enabled bool
	tenant  string
}

func (c *tenantSetEnabledCmd) name() string {
	if c.enabled {
		return "tenant enable"
	}
	return "tenant disable"
}

func (c *tenantSetEnabledCmd) synopsis() string {
	if c.enabled {
		return tenantEnableSyn
	}
	return tenantDisableSyn
}

func (c *tenantSetEnabledCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet(c.name())
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	if err := parseFlags(fs, c.name(), c.synopsis(), args); err != nil {
		return err
	}
	return requireFlags(c.name(), c.synopsis(), "tenant", c.tenant)
}

func (c *tenantSetEnabledCmd) run(ctx context.Context, d *deps) error {
	t, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	state := "disabled"
	if c.enabled {
		state = "enabled"
	}
	if t.Enabled == c.enabled {
		_, err := fmt.Fprintf(d.stdout, "tenant %s (%s) is already %s\n", t.Name, t.ID, state)
		return err
	}
	if err := d.store.SetTenantEnabled(ctx, t.ID, c.enabled); err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "tenant %s (%s) is now %s\n", t.Name, t.ID, state)
	return err
}
