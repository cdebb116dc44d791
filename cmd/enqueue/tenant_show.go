package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// tenantShowCmd prints every setting of one tenant. Its secrets show only
// as the ids of the keys that sealed them, with a word on a key that is
// not current when the configuration has credentials.keys; the Tekmetric
// webhook token shows only as set or not.
type tenantShowCmd struct {
	tenant string
}

func (c *tenantShowCmd) parseArgs(args []string, _ func(string) string) error {
	const name = "tenant show"
	fs := newFlagSet(name)
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	if err := parseFlags(fs, name, tenantShowSyn, args); err != nil {
		return err
	}
	return requireFlags(name, tenantShowSyn, "tenant", c.tenant)
}

func (c *tenantShowCmd) run(ctx context.Context, d *deps) error {
	t, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "tenant %s\n", t.Name)
	if err := writeTenant(d.stdout, t); err != nil {
		return err
	}
	if err := c.noteRefusedRecords(ctx, d, t); err != nil {
		return err
	}
	if err := noteCarrierAttention(ctx, d, t); err != nil {
		return err
	}
	if d.keys == nil {
		return nil
	}
	if err := c.noteCRMSecretKey(d, t); err != nil {
		return err
	}
	return c.noteWebhookSecretKey(d, t)
}

// noteRefusedRecords says how many of the shop's CRM records ingest
// refused as bad input: polls skip them until they are edited in the CRM.
func (c *tenantShowCmd) noteRefusedRecords(ctx context.Context, d *deps, t lead.Tenant) error {
	n, err := d.store.CountRefusedRecords(ctx, t.ID)
	if err != nil || n == 0 {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "note: %d CRM record(s) were refused as bad input (reasons in refused_records, "+
		"and in their cancelled ingest_lead jobs); polls skip each until it is edited in the CRM\n", n)
	return err
}

func (c *tenantShowCmd) noteCRMSecretKey(d *deps, t lead.Tenant) error {
	if t.CRMSecret.IsZero() {
		return nil
	}
	var err error
	switch keyID := t.CRMSecret.KeyID; {
	case keyID == d.keys.CurrentKeyID():
	case slices.Contains(d.keys.KeyIDs(), keyID):
		_, err = fmt.Fprintf(d.stdout, "note: key %s is not the current key (%s); `enqueue tenant rotate-keys` re-seals the secret\n",
			keyID, d.keys.CurrentKeyID())
	default:
		_, err = fmt.Fprintf(d.stdout, "warning: key %s is not in credentials.keys: workers cannot open this secret; "+
			"put the key back, or give the secret again with `enqueue tenant update --tenant %s --secret-env VAR`\n", keyID, t.ID)
	}
	return err
}

// noteWebhookSecretKey is noteCRMSecretKey for the webhook signing secret
// (`tenant rotate-keys` re-seals both).
func (c *tenantShowCmd) noteWebhookSecretKey(d *deps, t lead.Tenant) error {
	if t.WebhookSecret.IsZero() {
		return nil
	}
	var err error
	switch keyID := t.WebhookSecret.KeyID; {
	case keyID == d.keys.CurrentKeyID():
	case slices.Contains(d.keys.KeyIDs(), keyID):
		_, err = fmt.Fprintf(d.stdout, "note: the webhook secret is sealed with key %s, not the current key (%s): "+
			"run `enqueue tenant rotate-keys` before dropping key %s\n",
			keyID, d.keys.CurrentKeyID(), keyID)
	default:
		_, err = fmt.Fprintf(d.stdout, "warning: key %s of the webhook secret is not in credentials.keys: the shop's webhooks are refused; "+
			"put the key back, or give the secret again with `enqueue tenant update --tenant %s --webhook-secret-env VAR`\n", keyID, t.ID)
	}
	return err
}
