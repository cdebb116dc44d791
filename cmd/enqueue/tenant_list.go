package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// tenantListCmd lists every tenant, one a line, never a secret: only the id
// of the key that sealed it, which is what a key rotation needs to see, and
// why it needs an operator, if it does: since when its CRM has been
// rejecting its credentials, since when carriers have been filtering its
// texts and why.
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
		attention, err := tenantAttention(ctx, d, t)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", t.ID, t.Name, t.CRMKind, t.CRMLocationID,
			t.TimeZone, t.QuietHours, t.PollInterval, t.Enabled, orText(t.CRMSecret.KeyID, "-"), inTenantZone(t, t.PollCursor), attention)
	}
	return w.Flush()
}

// tenantAttention is the list's ATTENTION cell: every reason the tenant
// needs an operator, "; " between them, or "-". The carrier's flag clears
// by itself (5 delivered texts in a row); the CRM's when its credentials
// work again.
func tenantAttention(ctx context.Context, d *deps, t lead.Tenant) (string, error) {
	var reasons []string
	if t.NeedsAttention {
		reasons = append(reasons, "credentials refused since "+inTenantZone(t, t.AttentionSince))
	}
	carrier, err := d.store.GetCarrierAttention(ctx, t.ID)
	if err != nil {
		return "", err
	}
	if carrier.Reason != "" {
		reasons = append(reasons, "texts filtered since "+inTenantZone(t, carrier.Since)+": "+escapeText(carrier.Reason))
	}
	if len(reasons) == 0 {
		return "-", nil
	}
	return strings.Join(reasons, "; "), nil
}

// noteCarrierAttention is `tenant show`'s line about the carrier's flag
// (its "attention" setting is the CRM's): since when, why, and what
// clears it.
func noteCarrierAttention(ctx context.Context, d *deps, t lead.Tenant) error {
	carrier, err := d.store.GetCarrierAttention(ctx, t.ID)
	if err != nil || carrier.Reason == "" {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "warning: carriers are filtering this shop's texts since %s: %s; check its 10DLC campaign "+
		"or toll-free verification at Twilio and what it sends. The flag clears by itself after 5 delivered texts in a row\n",
		inTenantZone(t, carrier.Since), escapeText(carrier.Reason))
	return err
}
