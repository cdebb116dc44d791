package main

import (
	"context"
	"fmt"
	"slices"
)

// tenantShowCmd prints every setting of one tenant. Its CRM secret shows
// only as the id of the key that sealed it, with a word on that key when
// the configuration has credentials.keys.
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
	if d.keys == nil || t.CRMSecret.IsZero() {
		return nil
	}
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
