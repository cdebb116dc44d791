package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// tenantAddCmd adds a shop. Its settings are checked in full before
// anything connects: by lead.Tenant.Validate and by its CRM's own rules.
type tenantAddCmd struct {
	tenant lead.Tenant
	// secret is sealed by run, with the keyring of the configuration.
	secret lead.Secret
}

func (c *tenantAddCmd) keyringUser() string { return "tenant add" }

func (c *tenantAddCmd) parseArgs(args []string, getenv func(string) string) error {
	const name = "tenant add"
	var flags tenantFlags
	fs := newFlagSet(name)
	flags.register(fs)
	if err := parseFlags(fs, name, tenantAddSyn, args); err != nil {
		return err
	}

	// What the flags leave out.
	t := lead.Tenant{
		CRMKind:      "shopmonkey",
		TimeZone:     "America/New_York",
		QuietHours:   lead.DefaultQuietHours,
		PollInterval: 60 * time.Second,
		Enabled:      true,
	}
	var problems tenantProblems
	flags.apply(&t, &problems)
	secret, err := flags.secret.read(getenv)
	if err != nil {
		problems.addText("crm_secret", err.Error())
	} else {
		// Validate would find no sealed secret: run seals it.
		problems.settle("crm_secret")
	}
	checkTenant(&problems, t, secret)
	if err := problems.err(name, tenantAddSyn); err != nil {
		return err
	}
	c.tenant, c.secret = t, secret
	return nil
}

func (c *tenantAddCmd) run(ctx context.Context, d *deps) error {
	t := c.tenant
	// SealFor gives the tenant its id: the id is bound into the sealed
	// secret, so the secret does not open on another tenant's row.
	if err := d.keys.SealFor(&t, c.secret); err != nil {
		return fmt.Errorf("tenant add: error sealing the CRM secret: %w", err)
	}
	created, err := d.store.CreateTenant(ctx, t)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("tenant add: --name %q: a tenant with this name already exists", t.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "added tenant %s\n", created.Name)
	return writeTenant(d.stdout, created)
}
