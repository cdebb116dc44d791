package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// tenantRotateKeysCmd re-seals with the current key every CRM secret
// sealed with another one: the middle step of a key rotation (put the new
// key first in credentials.keys, run this, then drop the old key). It goes
// on past a tenant it cannot re-seal, so one bad row does not hold up the
// fleet, and fails at the end naming it: the old key must stay until that
// tenant is fixed. Running it again re-seals nothing twice.
type tenantRotateKeysCmd struct{}

func (c *tenantRotateKeysCmd) keyringUser() string { return "tenant rotate-keys" }

func (c *tenantRotateKeysCmd) parseArgs(args []string, _ func(string) string) error {
	return parseFlags(newFlagSet("tenant rotate-keys"), "tenant rotate-keys", tenantRotateKeysSyn, args)
}

func (c *tenantRotateKeysCmd) run(ctx context.Context, d *deps) error {
	tenants, err := d.store.FleetListTenants(ctx)
	if err != nil {
		return err
	}
	current := d.keys.CurrentKeyID()
	var resealed, already int
	var failed []string
	for _, t := range tenants {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case t.CRMSecret.IsZero():
			fmt.Fprintf(d.stdout, "tenant %s (%s): no CRM secret to re-seal; give one with `enqueue tenant update --tenant %s --secret-env VAR`\n",
				t.Name, t.ID, t.ID)
			failed = append(failed, t.Name)
		case t.CRMSecret.KeyID == current:
			fmt.Fprintf(d.stdout, "tenant %s (%s): already sealed with key %s\n", t.Name, t.ID, current)
			already++
		default:
			if err := reseal(ctx, d, t); err != nil {
				fmt.Fprintf(d.stdout, "tenant %s (%s): NOT re-sealed: %v\n", t.Name, t.ID, err)
				failed = append(failed, t.Name)
				continue
			}
			fmt.Fprintf(d.stdout, "tenant %s (%s): re-sealed, key %s -> %s\n", t.Name, t.ID, t.CRMSecret.KeyID, current)
			resealed++
		}
		// The ShopMonkey webhook signing secret is sealed the same way and
		// must move to the new key too, or the shop's webhooks stop
		// verifying once the old key is dropped.
		if !t.WebhookSecret.IsZero() && t.WebhookSecret.KeyID != current {
			if err := resealWebhook(ctx, d, t); err != nil {
				fmt.Fprintf(d.stdout, "tenant %s (%s): webhook secret NOT re-sealed: %v\n", t.Name, t.ID, err)
				failed = append(failed, t.Name)
				continue
			}
			fmt.Fprintf(d.stdout, "tenant %s (%s): webhook secret re-sealed, key %s -> %s\n", t.Name, t.ID, t.WebhookSecret.KeyID, current)
		}
	}
	fmt.Fprintf(d.stdout, "%d re-sealed, %d already current", resealed, already)
	if len(failed) > 0 {
		fmt.Fprintf(d.stdout, ", %d not re-sealed", len(failed))
	}
	fmt.Fprintf(d.stdout, " (current key %s)\n", current)
	if len(failed) > 0 {
		return fmt.Errorf("tenant rotate-keys: %d tenant(s) not re-sealed: %s; keep their keys in credentials.keys until they are fixed",
			len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// reseal opens t's CRM secret and stores it sealed with the current key.
func reseal(ctx context.Context, d *deps, t lead.Tenant) error {
	secret, err := d.keys.OpenFor(t)
	if errors.Is(err, credentials.ErrUnknownKey) {
		return fmt.Errorf("%w; add key %s back to credentials.keys (after the current key) and run this again, "+
			"or give the secret again with `enqueue tenant update --tenant %s --secret-env VAR`", err, t.CRMSecret.KeyID, t.ID)
	}
	if err != nil {
		return err
	}
	sealed, err := d.keys.Seal(t.ID, secret)
	if err != nil {
		return fmt.Errorf("error sealing the CRM secret of tenant %s: %w", t.Name, err)
	}
	err = d.store.ReplaceTenantSecret(ctx, t.ID, t.CRMSecret, sealed)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w; run rotate-keys again to re-seal the new one", err)
	}
	return err
}

// resealWebhook opens t's webhook signing secret and stores it sealed with
// the current key.
func resealWebhook(ctx context.Context, d *deps, t lead.Tenant) error {
	secret, err := d.keys.OpenWebhook(t.ID, t.WebhookSecret)
	if err != nil {
		return fmt.Errorf("%w; add key %s back to credentials.keys and run this again, or give the secret again with "+
			"`enqueue tenant update --tenant %s --webhook-secret-env VAR`", err, t.WebhookSecret.KeyID, t.ID)
	}
	sealed, err := d.keys.SealWebhook(t.ID, secret)
	if err != nil {
		return err
	}
	err = d.store.ReplaceTenantWebhookSecret(ctx, t.ID, t.WebhookSecret, sealed)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w; run rotate-keys again to re-seal the new one", err)
	}
	return err
}
