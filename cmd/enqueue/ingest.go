package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
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
	fs.StringVar(&c.externalID, "external-id", "", "the record's id in the tenant's CRM (ShopMonkey order:<id> or appointment:<id>, Tekmetric repair-order:<id> or appointment:<id>)")
	fs.BoolVar(&c.sendMessages, "send-messages", false, "message the lead if it is new")
	if err := parseFlags(fs, "ingest", ingestSynopsis, args); err != nil {
		return err
	}
	if err := requireFlags("ingest", ingestSynopsis, "tenant", c.tenant, "external-id", c.externalID); err != nil {
		return err
	}
	// Which CRM's format applies is known only with the tenant, from the
	// database; an id no CRM of the registry could mean is refused now,
	// before anything connects.
	if err := anyExternalID(c.externalID); err != nil {
		return usageErrorf(ingestSynopsis, "ingest: --external-id %q: %v", c.externalID, err)
	}
	return nil
}

// anyExternalID reports why s is the external id of no CRM kind of the
// registry, or nil when some kind accepts it.
func anyExternalID(s string) error {
	reg := crmset.NewRegistry(crmset.Opts{})
	var problems []string
	for _, kind := range reg.Kinds() {
		_, err := reg.ParseExternalID(kind, s)
		if err == nil {
			return nil
		}
		problems = append(problems, kind+": "+err.Error())
	}
	return errors.New("not an id of any CRM (" + strings.Join(problems, "; ") + ")")
}

func (c *ingestCmd) run(ctx context.Context, d *deps) error {
	tenant, err := d.findEnabledTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	// The tenant's own CRM reads the id: read as ShopMonkey's, a Tekmetric
	// "repair-order:1520" was refused and a bare "1520" became
	// "order:1520", which Tekmetric's adapter cancelled
	// (TestIngestExternalIDOfTheTenantsCRM).
	externalID, err := crmset.NewRegistry(crmset.Opts{}).ParseExternalID(tenant.CRMKind, c.externalID)
	if err != nil {
		return usageErrorf(ingestSynopsis, "ingest: --external-id %q is not a %s id of tenant %s: %v", c.externalID, tenant.CRMKind, tenant.Name, err)
	}
	res, err := d.river.Insert(ctx, jobs.IngestLeadArgs{
		TenantID:   tenant.ID,
		ExternalID: externalID,
		// Ingest jobs are unique per tenant, record and CRM version, so a
		// record already ingested at its current version would be skipped
		// as a duplicate. An operator asks because something needs redoing
		// (a fixed record, a failed run), so this ingest must always run: a
		// version no poll can produce makes it a new job. The ingest upserts
		// the lead, so running it again is safe.
		Version:      d.now().UnixNano(),
		SendMessages: c.sendMessages,
		FoundVia:     lead.FoundViaOperator,
	}, nil)
	if err != nil {
		return fmt.Errorf("error inserting ingest of %s for tenant %s: %w", externalID, tenant.Name, err)
	}
	_, err = fmt.Fprintf(d.stdout, "queued ingest_lead job %d for tenant %s, %s (send messages: %v)\n",
		res.Job.ID, tenant.Name, externalID, c.sendMessages)
	return err
}
