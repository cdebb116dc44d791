package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
)

// ingestCmd ingests one CRM record now.
type ingestCmd struct {
	tenant       string
	externalID   string
	sendMessages bool
}

func (c *ingestCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet("ingest")
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	fs.StringVar(&c.externalID, "external-id", "", "order:<id> or appointment:<id>")
	fs.BoolVar(&c.sendMessages, "send-messages", false, "message the lead if it is new")
	if err := parseFlags(fs, "ingest", ingestSynopsis, args); err != nil {
		return err
	}
	if err := requireFlags("ingest", ingestSynopsis, "tenant", c.tenant, "external-id", c.externalID); err != nil {
		return err
	}
	id, err := parseExternalID(c.externalID)
	if err != nil {
		return usageErrorf(ingestSynopsis, "ingest: --external-id %q: %v", c.externalID, err)
	}
	c.externalID = id
	return nil
}

// parseExternalID checks the shape of a lead's external id as the CRM
// adapters write it (ShopMonkey's, the one CRM so far: "order:<id>" or
// "appointment:<id>"). Operators copy ids from the CRM's screens, where an
// estimate is an order with a bare id, so a bare id means an order.
func parseExternalID(s string) (string, error) {
	s = strings.TrimSpace(s)
	kind, id, found := strings.Cut(s, ":")
	if !found {
		kind, id = "order", s
	}
	if kind != "order" && kind != "appointment" {
		return "", fmt.Errorf(`prefix %q is not "order:" or "appointment:"`, kind+":")
	}
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("no id after %q", kind+":")
	}
	return kind + ":" + id, nil
}

func (c *ingestCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findEnabledTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	res, err := d.river.Insert(ctx, jobs.IngestLeadArgs{
		TenantID:   tenant.ID,
		ExternalID: c.externalID,
		// Ingest jobs are unique per tenant, record and CRM version, so a
		// record already ingested at its current version would be skipped
		// as a duplicate. An operator asks because something needs redoing
		// (a fixed record, a failed run), so this ingest must always run: a
		// version no poll can produce makes it a new job. The ingest upserts
		// the lead, so running it again is safe.
		Version:      d.now().UnixNano(),
		SendMessages: c.sendMessages,
	}, nil)
	if err != nil {
		return fmt.Errorf("error inserting ingest of %s for tenant %s: %w", c.externalID, tenant.Name, err)
	}
	_, err = fmt.Fprintf(d.stdout, "queued ingest_lead job %d for tenant %s, %s (send messages: %v)\n",
		res.Job.ID, tenant.Name, c.externalID, c.sendMessages)
	return err
}
