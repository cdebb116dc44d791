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
	flags  tenantFlags
	tenant lead.Tenant
	// secret and webhookSecret are sealed by run, with the keyring of the
	// configuration.
	secret        lead.Secret
	webhookSecret lead.Secret
}

func (c *tenantAddCmd) keyringUser() string { return "tenant add" }

func (c *tenantAddCmd) parseArgs(args []string, getenv func(string) string) error {
	const name = "tenant add"
	fs := newFlagSet(name)
	c.flags.register(fs)
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
	c.flags.apply(&t, &problems)
	secret, err := c.flags.secret.read(getenv)
	if err != nil {
		problems.addText("crm_secret", err.Error())
	} else {
		// Validate would find no sealed secret: run seals it.
		problems.settle("crm_secret")
	}
	c.webhookSecret = c.flags.readWebhookSecret(getenv, &problems)
	checkTenant(&problems, t, secret, &c.flags)
	if err := problems.err(name, tenantAddSyn); err != nil {
		return err
	}
	c.tenant, c.secret = t, secret
	return nil
}

func (c *tenantAddCmd) run(ctx context.Context, d *deps) error {
	const name = "tenant add"
	t := c.tenant
	// SealFor gives the tenant its id: the id is bound into the sealed
	// secret, so the secret does not open on another tenant's row.
	if err := d.keys.SealFor(&t, c.secret); err != nil {
		return fmt.Errorf("%s: error sealing the CRM secret: %w", name, err)
	}
	created, err := d.store.CreateTenant(ctx, t)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%s: --name %q: a tenant with this name already exists", name, t.Name)
	}
	if err != nil {
		return err
	}
	created, token, err := c.flags.saveWebhookCredentials(ctx, d, created, c.webhookSecret)
	if err != nil {
		return errWebhookNotSaved(name, created, err)
	}
	fmt.Fprintf(d.stdout, "added tenant %s\n", created.Name)
	if err := writeTenant(d.stdout, created); err != nil {
		return err
	}
	if token != "" {
		return writeWebhookToken(d.stdout, created, token)
	}
	return nil
}
