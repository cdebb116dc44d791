package jobs

import (
	"context"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// replyDomain is where tenant t's reply addresses receive mail; "" when
// neither the shop nor the fleet has a receiving domain.
func (d *Deps) replyDomain(t lead.Tenant) string {
	if !d.ReceiveReplies {
		return ""
	}
	if t.ReplyDomain != "" {
		return t.ReplyDomain
	}
	return d.ReplyDomain
}

// replyAddress is the lead's reply address for purpose at tenant t, made
// the first time; "" when t receives no email replies.
func (d *Deps) replyAddress(ctx context.Context, t lead.Tenant, leadID uuid.UUID, purpose lead.ReplyPurpose) (string, error) {
	domain := d.replyDomain(t)
	if domain == "" {
		return "", nil
	}
	token, err := store.New(d.Pool).ReplyToken(ctx, t.ID, leadID, purpose)
	if err != nil {
		return "", err
	}
	return lead.ReplyAddress(token, domain), nil
}
