package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

// tenantListCmd lists every tenant, one a line, never a secret: only the id
// of the key that sealed it, which is what a key rotation needs to see, and
// since when its CRM has been rejecting its credentials, if it has.
type tenantListCmd struct{}

func (c *tenantListCmd) parseArgs(args []string, _ func(string) string) error {
	return parseFlags(newFlagSet("tenant list"), "tenant list", tenantListSyn, args)
}

func (c *tenantListCmd) run(ctx context.Context, d *deps) error {
	tenants, err := d.store.FleetListTenants(ctx)
	if err != nil {
		return err
	}
	if len(tenants) == 0 {
		_, err := fmt.Fprintln(d.stdout, "no tenants yet (add one with `enqueue tenant add`)")
		return err
	}
	w := tabwriter.NewWriter(d.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCRM\tLOCATION\tTIME ZONE\tQUIET HOURS\tPOLL INTERVAL\tENABLED\tKEY\tPOLL CURSOR\tATTENTION")
	for _, t := range tenants {
		attention := "-"
		if t.NeedsAttention {
			attention = "credentials refused since " + inTenantZone(t, t.AttentionSince)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", t.ID, t.Name, t.CRMKind, t.CRMLocationID,
			t.TimeZone, t.QuietHours, t.PollInterval, t.Enabled, orText(t.CRMSecret.KeyID, "-"), inTenantZone(t, t.PollCursor), attention)
	}
	return w.Flush()
}
