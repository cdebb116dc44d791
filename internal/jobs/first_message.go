package jobs

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// markSent records, in the caller's transaction, that the provider
// accepted msg at acceptedAt: the outbox row is sent with the provider's
// id, a new lead becomes contacted, and the lead's first message on the
// channel is stamped once. It returns that first message when this was
// it (nil otherwise), for observeFirstMessages once the transaction has
// committed: a rolled-back acceptance must not be counted.
func markSent(ctx context.Context, st *store.Store, tenantID uuid.UUID, msg lead.Message, providerID string, acceptedAt time.Time) (*store.FirstMessage, error) {
	if err := st.MarkMessageSent(ctx, tenantID, msg.ID, providerID, acceptedAt); err != nil {
		return nil, err
	}
	if (lead.Step{Name: msg.Step}).IsNotice() {
		// A notice went to the shop: the customer was not contacted.
		return nil, nil
	}
	if err := st.MarkLeadContacted(ctx, tenantID, msg.LeadID); err != nil {
		return nil, err
	}
	first, isFirst, err := st.RecordFirstMessage(ctx, tenantID, msg.LeadID, msg.Channel, acceptedAt)
	if err != nil || !isFirst {
		return nil, err
	}
	return &first, nil
}

// observeFirstMessages records speed to lead for each first message of a
// committed transaction (nils are skipped). A CRM that gave no creation
// time leaves SinceCRMCreated zero, and a clock that puts the acceptance
// before either start (a CRM's clock ahead of ours) counts as zero rather
// than as a negative time.
func (d *Deps) observeFirstMessages(firsts ...*store.FirstMessage) {
	for _, f := range firsts {
		if f == nil {
			continue
		}
		var sinceCRM time.Duration
		if !f.CRMCreatedAt.IsZero() {
			sinceCRM = max(0, f.AcceptedAt.Sub(f.CRMCreatedAt))
		}
		d.Metrics.ObserveFirstMessage(metrics.FirstMessage{
			CRM: f.CRM, Path: string(f.FoundVia), Channel: string(f.Channel),
			SinceCRMCreated: sinceCRM, SinceFirstSeen: max(0, f.AcceptedAt.Sub(f.FirstSeenAt)),
		})
	}
}
