package jobs

import (
	"context"

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

// Tenant returns the tenant with id, enabled or not; store.ErrNotFound
// when there is none.
func (wt WebhookTenants) Tenant(ctx context.Context, id uuid.UUID) (lead.Tenant, error) {
	return store.New(wt.Pool).GetTenant(ctx, id)
}

// OpenWebhookSecret opens t's sealed webhook signing secret.
func (wt WebhookTenants) OpenWebhookSecret(t lead.Tenant) (lead.Secret, error) {
	return wt.Keys.OpenWebhook(t.ID, t.WebhookSecret)
}
