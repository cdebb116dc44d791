package jobs

import (
	"context"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// HandleInboundEmailArgs names an email that arrived at one of a lead's
// reply addresses. The email itself (sender, text) is in the tenant's
// inbound_messages row, stored with the lead it answers by the webhook
// intake in the transaction that inserted this job.
type HandleInboundEmailArgs struct {
	TenantID  uuid.UUID `json:"tenant_id" river:"unique"`
	InboundID int64     `json:"inbound_id" river:"unique"`
}

// Kind is the River job kind.
func (HandleInboundEmailArgs) Kind() string { return "handle_inbound_email" }

// InsertOpts: once per stored email.
func (HandleInboundEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// HandleInboundEmailWorker acts on an email reply.
type HandleInboundEmailWorker struct {
	river.WorkerDefaults[HandleInboundEmailArgs]
	deps *Deps
}

// NewHandleInboundEmailWorker returns the worker.
func NewHandleInboundEmailWorker(deps *Deps) *HandleInboundEmailWorker {
	return &HandleInboundEmailWorker{deps: deps}
}

// Work acts on the stored email, in one transaction that also marks it
// handled and completes the job:
//   - a customer's reply does what a text reply does: the lead is
//     replied, its pending follow-ups (texts and emails) are cancelled,
//     and the shop is told;
//   - a customer's opt-out word unsubscribes the address from the shop's
//     email (its pending emails are cancelled; texts follow the number's
//     own consent);
//   - an automatic reply (out of office, a bounce) is recorded and stops
//     nothing;
//   - the shop's answer to its notice goes to the customer as a text
//     (sendShopAnswer).
//
// An email handled before changes nothing.
func (w *HandleInboundEmailWorker) Work(ctx context.Context, job *river.Job[HandleInboundEmailArgs]) error {
	d := w.deps
	tenant, in, err := loadInbound(ctx, d, job, job.Args.TenantID, job.Args.InboundID)
	if err != nil || in == nil {
		return err
	}
	return d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		// The lead is locked as a text reply locks it, so a claim of its
		// next follow-up waits for this and then sees it replied.
		if err := store.LockCustomer(ctx, tx, tenant.ID, "", []uuid.UUID{in.LeadID}); err != nil {
			return err
		}
		marked, err := st.MarkInboundHandled(ctx, tenant.ID, in.ID, in.LeadID)
		if err != nil || !marked {
			if err != nil {
				return err
			}
			return completeTx(ctx, tx, job)
		}
		l, err := st.GetLead(ctx, tenant.ID, in.LeadID)
		if err != nil {
			return cancelIfNotFound(err)
		}
		if err := applyInboundEmail(ctx, d, tx, st, tenant, l, *in); err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	})
}

// applyInboundEmail does what the email means, in the caller's
// transaction.
func applyInboundEmail(ctx context.Context, d *Deps, tx pgx.Tx, st *store.Store, t lead.Tenant, l lead.Lead, in store.InboundMessage) error {
	log := d.Logger.With(slog.String("tenant_id", t.ID.String()), slog.String("lead_id", l.ID.String()), slog.Int64("inbound_id", in.ID))
	switch lead.InboundKind(in.Kind) {
	case lead.InboundAutoReply:
		log.InfoContext(ctx, "automatic email reply recorded; the sequence goes on")
		return nil
	case lead.InboundShopAnswer:
		return sendShopAnswer(ctx, tx, t, l, in)
	case lead.InboundStop:
		// The address the lead's emails go to: a reply address is the
		// lead's, whoever's mailbox forwarded it.
		if l.Email != "" {
			if err := st.Suppress(ctx, t.ID, lead.ChannelEmail, string(l.Email), "the customer emailed "+firstLine(in.Body), "inbound_email"); err != nil {
				return err
			}
		}
		n, err := cancelPendingSteps(ctx, tx, t.ID, l.ID, (SendEmailArgs{}).Kind())
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "customer unsubscribed by email; pending emails cancelled", slog.Int("cancelled", n))
		return nil
	}
	return applyToLead(ctx, d, tx, st, t, l, lead.InboundReply, in, true)
}

// sendShopAnswer queues the text that carries the shop's answer to the
// lead's customer, in the caller's transaction: through the outbox like
// every text (claimed, sent at most once, reconciled after a crash), and
// under the customer's STOP and the suppression list (lead.SkipReasonFor).
// An answer with nothing left once the quoted notice is stripped sends
// nothing.
func sendShopAnswer(ctx context.Context, tx pgx.Tx, t lead.Tenant, l lead.Lead, in store.InboundMessage) error {
	if strings.TrimSpace(in.Body) == "" {
		return nil
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	_, err := client.InsertTx(ctx, tx, SendSMSArgs{TenantID: t.ID, LeadID: l.ID, Step: lead.ShopAnswerStep(in.ID)}, nil)
	return err
}
