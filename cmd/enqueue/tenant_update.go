package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// tenantUpdateCmd changes the settings given on the command line and no
// other. The tenant as it will be is checked as tenant add checks a new
// one, its CRM's rules with the secret it will be used with, so an update
// cannot leave a tenant that no worker can poll.
type tenantUpdateCmd struct {
	tenant string
	flags  tenantFlags
	// secret is the new CRM secret; empty keeps the stored one.
	secret lead.Secret
	// webhookSecret is the new ShopMonkey signing secret, when
	// flags.webhookSecret is given.
	webhookSecret lead.Secret
}

func (c *tenantUpdateCmd) keyringUser() string { return "tenant update" }

func (c *tenantUpdateCmd) parseArgs(args []string, getenv func(string) string) error {
	const name = "tenant update"
	fs := newFlagSet(name)
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	c.flags.register(fs)
	if err := parseFlags(fs, name, tenantUpdateSyn, args); err != nil {
		return err
	}
	if err := requireFlags(name, tenantUpdateSyn, "tenant", c.tenant); err != nil {
		return err
	}
	if !c.flags.settingsGiven() {
		return usageErrorf(tenantUpdateSyn, "%s: nothing to change: give the flags of the settings to change (those of tenant add)", name)
	}
	// Values that do not parse are found now, before anything connects;
	// the rules are checked in run, on the tenant as it will be.
	var problems tenantProblems
	c.flags.apply(&lead.Tenant{}, &problems)
	if c.flags.secret.isGiven() {
		secret, err := c.flags.secret.read(getenv)
		if err != nil {
			problems.addText("crm_secret", err.Error())
		}
		c.secret = secret
	}
	c.webhookSecret = c.flags.readWebhookSecret(getenv, &problems)
	return problems.err(name, tenantUpdateSyn)
}

func (c *tenantUpdateCmd) run(ctx context.Context, d *deps) error {
	const name = "tenant update"
	before, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	after, err := c.checkedUpdate(d, before)
	if err != nil {
		return err
	}

	changes := c.flags.changes(before, after)
	// The settings UpdateTenant saves changed (the webhook credentials are
	// stored on their own).
	settingsChanged := len(changes) > 0 || c.flags.secret.isGiven()
	if c.flags.secret.isGiven() {
		if err := d.keys.SealFor(&after, c.secret); err != nil {
			return fmt.Errorf("%s: error sealing the CRM secret: %w", name, err)
		}
		changes = append(changes, tenantChange{label: "crm secret", before: "sealed with key " + before.CRMSecret.KeyID,
			after: "a new secret, sealed with key " + after.CRMSecret.KeyID})
	}
	changes = append(changes, c.flags.webhookChanges(before, d.keys.CurrentKeyID())...)
	if len(changes) == 0 {
		_, err := fmt.Fprintf(d.stdout, "tenant %s (%s): nothing changed; every setting given already had that value\n", before.Name, before.ID)
		return err
	}

	updated, token, err := c.save(ctx, d, before, after, settingsChanged)
	if err != nil {
		return err
	}
	return c.report(d, before, updated, changes, token)
}

// checkedUpdate is the tenant as it will be, checked as tenant add checks a
// new one.
func (c *tenantUpdateCmd) checkedUpdate(d *deps, before lead.Tenant) (lead.Tenant, error) {
	const name = "tenant update"
	after := before
	var problems tenantProblems
	c.flags.apply(&after, &problems) // parsed once already: no problems now
	secret := c.secret
	if c.flags.secret.isGiven() {
		problems.settle("crm_secret") // sealed below
	} else {
		// The CRM's rules are checked with the secret the tenant keeps.
		var err error
		secret, err = d.keys.OpenFor(before)
		if err != nil {
			return lead.Tenant{}, fmt.Errorf("%s: %w; give the secret again (--secret-env or --secret-file) or put its key back in credentials.keys", name, err)
		}
	}
	checkTenant(&problems, after, secret, &c.flags)
	return after, problems.err(name, tenantUpdateSyn)
}

// save stores the changed settings (when they changed), then the webhook
// credentials, and returns the tenant as stored and the new webhook URL
// token, if one was made.
func (c *tenantUpdateCmd) save(ctx context.Context, d *deps, before, after lead.Tenant, settingsChanged bool) (lead.Tenant, string, error) {
	const name = "tenant update"
	updated := before
	if settingsChanged {
		var newSecret *lead.SealedSecret
		if c.flags.secret.isGiven() {
			newSecret = &after.CRMSecret
		}
		var err error
		updated, err = d.store.UpdateTenant(ctx, after, newSecret)
		if errors.Is(err, store.ErrConflict) {
			return lead.Tenant{}, "", fmt.Errorf("%s: --name %q: a tenant with this name already exists", name, after.Name)
		}
		if err != nil {
			return lead.Tenant{}, "", err
		}
	}
	updated, token, err := c.flags.saveWebhookCredentials(ctx, d, updated, c.webhookSecret)
	if err != nil && settingsChanged {
		return lead.Tenant{}, "", errWebhookNotSaved(name, updated, err)
	}
	if err != nil {
		return lead.Tenant{}, "", fmt.Errorf("%s: %w", name, err)
	}
	return updated, token, nil
}

// report tells the operator what changed, and what follows from it.
func (c *tenantUpdateCmd) report(d *deps, before, updated lead.Tenant, changes []tenantChange, token string) error {
	fmt.Fprintf(d.stdout, "updated tenant %s (%s):\n", updated.Name, updated.ID)
	tw := tabwriter.NewWriter(d.stdout, 0, 0, 2, ' ', 0)
	for _, ch := range changes {
		fmt.Fprintf(tw, "  %s:\t%s\t-> %s\n", ch.label, ch.before, ch.after)
	}
	if !updated.NextPollAt.Equal(before.NextPollAt) {
		// A shorter poll interval brings the next poll forward.
		fmt.Fprintf(tw, "  next poll:\t%s\t-> %s\n", inTenantZone(before, before.NextPollAt), inTenantZone(updated, updated.NextPollAt))
	}
	if before.NeedsAttention && !updated.NeedsAttention {
		// New credentials (or CRM settings): the backed-off polls try them now.
		fmt.Fprintf(tw, "  attention:\tthe CRM rejected the credentials\t-> none: the next poll tries the new ones\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !sameSequence(before, updated) {
		if err := writeSequence(d.stdout, updated); err != nil {
			return err
		}
	}
	if token != "" {
		if err := writeWebhookToken(d.stdout, updated, token); err != nil {
			return err
		}
	}
	// Workers read the tenant at the start of every job.
	_, err := fmt.Fprintln(d.stdout, "The change applies from the tenant's next poll and send on; nothing needs a restart.")
	return err
}
