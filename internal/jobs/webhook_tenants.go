package jobs

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// WebhookTenants is the tenant lookup of the webhook routes
// (httpapi.TenantLookup): tenants as the store keeps them, their webhook
// signing secrets opened with the credentials keyring, which binds each
// sealed secret to its tenant's id.
type WebhookTenants struct {
	Pool *pgxpool.Pool
	Keys *credentials.Keyring
}

// Tenant returns the tenant with id, enabled or not, and whether there is
// one; an error is a failed lookup, not an unknown id.
func (wt WebhookTenants) Tenant(ctx context.Context, id uuid.UUID) (lead.Tenant, bool, error) {
	t, err := store.New(wt.Pool).GetTenant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return lead.Tenant{}, false, nil
	}
	if err != nil {
		return lead.Tenant{}, false, err
	}
	return t, true, nil
}

// OpenWebhookSecret opens t's sealed webhook signing secret.
func (wt WebhookTenants) OpenWebhookSecret(t lead.Tenant) (lead.Secret, error) {
	return wt.Keys.OpenWebhook(t.ID, t.WebhookSecret)
}
