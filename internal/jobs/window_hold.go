package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// holdForWindow judges the sending window again under the outbox row's
// lock, at the instant the row is claimed (or claimed again to resend):
// waitForWindow looked before the claim, and a Postgres restart or a
// reconcile can put seconds or hours between the two, while a text must
// not leave once its window (the shop's, or the customer's clock) has
// closed. A text the window now holds stays pending with the reason on
// its row (lead.WindowHeldPrefix, shown in the thread) and held is the
// job's snooze to the opening, to return once the transaction commits.
func holdForWindow(ctx context.Context, d *Deps, st *store.Store, tenant lead.Tenant, step lead.Step, msg lead.Message, l lead.Lead, ch channel) (held error, err error) {
	if !step.WaitsForWindow() {
		return nil, nil
	}
	to := lead.Recipient{}
	if ch.kind() == lead.ChannelSMS {
		// The number the row goes to, which the CRM may have changed on
		// the lead since the row was made.
		to = lead.RecipientOf(l.CustomerRegion, lead.PhoneNumber(msg.To))
	}
	now := d.now()
	next, err := tenant.NextSendTime(step, to, now)
	if err != nil {
		return nil, river.JobCancel(fmt.Errorf("tenant %s: %w", tenant.Name, err))
	}
	if !next.After(now) {
		return nil, nil
	}
	reason := fmt.Sprintf("%s: it opens at %s", lead.WindowHeldPrefix, next.UTC().Format(time.RFC3339))
	if err := st.SetMessageStatus(ctx, tenant.ID, msg.ID, lead.MessagePending, reason); err != nil {
		return nil, err
	}
	d.Logger.InfoContext(ctx, "window closed before the claim; the message waits",
		slog.String("tenant_id", tenant.ID.String()), slog.String("message_id", msg.ID.String()),
		slog.String("step", step.Name), slog.Duration("wait", next.Sub(now)))
	return river.JobSnooze(next.Sub(now)), nil
}
