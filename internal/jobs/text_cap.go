package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// capMargin puts a held text's next try just after the oldest counted
// text leaves the window (a text claimed exactly a window ago still
// counts), and absorbs the clock's jitter between workers.
const capMargin = time.Second

// holdForTextCap is the frequency cap of the claim transaction: a text the
// cap counts (lead.Step.CountsTowardTextCap: solicitations, never an
// answer the customer asked for) goes only while fewer than the tenant's
// cap of counted texts to its number were claimed in the rolling window.
// It locks the number first (store.LockTextCap), so concurrent claims of
// texts to one number count one after another and never both take the
// last place. A text over the cap is held, not dropped: held is the
// snooze until the oldest counted text leaves the window, and why is
// written on the outbox row (enqueue messages shows it) and logged; the
// job's execution row says it snoozed. It snoozes rather than skips: the
// window is at most a week (a day by default), every guard is read again
// when it goes (a reply, a booking or a STOP stops it then), and a late
// follow-up about the same service request is still that follow-up; it
// never sends more than the cap allows. Only claim asks it: a resend
// after an interrupted send (reconcile) takes no new place, its row has
// counted (sending) since its first claim.
func holdForTextCap(ctx context.Context, d *Deps, tx pgx.Tx, st *store.Store, tenant lead.Tenant, step lead.Step, msg lead.Message, ch channel) (held error, err error) {
	if ch.kind() != lead.ChannelSMS || !step.CountsTowardTextCap() {
		return nil, nil
	}
	if err := store.LockTextCap(ctx, tx, tenant.ID, msg.To); err != nil {
		return nil, err
	}
	capped := tenant.Compliance.TextCap.Effective()
	now := d.now()
	window := capped.Window()
	texts, err := st.ClaimedTexts(ctx, tenant.ID, msg.To, now.Add(-window), msg.ID)
	if err != nil {
		return nil, err
	}
	var counted []time.Time
	for _, t := range texts {
		if (lead.Step{Name: t.Step}).CountsTowardTextCap() {
			counted = append(counted, t.SendingAt)
		}
	}
	if len(counted) < capped.Texts {
		return nil, nil
	}
	// The place opens when all but Texts-1 of the counted texts have left
	// the window: when the one at index len-Texts does (oldest first).
	opens := counted[len(counted)-capped.Texts].Add(window + capMargin)
	wait := opens.Sub(now)
	reason := fmt.Sprintf("%s (%s): %d texts to this number in the window; next try at %s",
		lead.TextCapHeldPrefix, capped, len(counted), opens.UTC().Format(time.RFC3339))
	if err := st.SetMessageStatus(ctx, tenant.ID, msg.ID, lead.MessagePending, reason); err != nil {
		return nil, err
	}
	d.Logger.InfoContext(ctx, "text held by the text cap",
		slog.String("tenant_id", tenant.ID.String()), slog.String("message_id", msg.ID.String()),
		slog.String("step", step.Name), slog.String("cap", capped.String()),
		slog.Int("counted", len(counted)), slog.Duration("wait", wait))
	return river.JobSnooze(wait), nil
}
