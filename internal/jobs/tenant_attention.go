package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// maxAttentionBackoff is the longest a tenant whose CRM rejects its
// credentials waits between polls. Polls go on (each one cancelled) so
// that a key fixed in the CRM itself is noticed without an operator; an
// hour keeps that to 24 refused requests a day instead of one per poll
// interval (1,440 a day at the default minute).
const maxAttentionBackoff = time.Hour

// credentialsRefused flags the tenant as needing attention when err says
// its CRM rejected the credentials, backs its polls off, and logs it at
// warn when the flag goes up (not on every refused job). Any other err is
// left alone.
func (d *Deps) credentialsRefused(ctx context.Context, tenantID uuid.UUID, err error) error {
	if !errors.Is(err, crm.ErrUnauthorized) {
		return nil
	}
	mark, mErr := store.New(d.Pool).MarkTenantNeedsAttention(ctx, tenantID, err.Error(), d.now(), maxAttentionBackoff)
	if mErr != nil {
		return mErr
	}
	if mark.Began {
		d.Logger.WarnContext(ctx, "tenant needs attention: the CRM rejected its credentials; polls back off until they change "+
			"(enqueue tenant update --tenant T --secret-env VAR)",
			slog.String("tenant", mark.TenantName), slog.String("tenant_id", tenantID.String()),
			slog.String("reason", err.Error()), slog.Time("next_poll", mark.NextPollAt))
	}
	return nil
}
