package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// HandleMissedCallArgs names a call to the shop's number that nobody
// answered. The call itself (the caller's number) is in the tenant's calls
// row, stored by the webhook intake in the transaction that inserted this
// job: river_job has no row-level security, so its args carry ids only.
type HandleMissedCallArgs struct {
	TenantID uuid.UUID `json:"tenant_id" river:"unique"`
	CallID   int64     `json:"call_id" river:"unique"`
}

// Kind is the River job kind.
func (HandleMissedCallArgs) Kind() string { return "handle_missed_call" }

// InsertOpts: once per missed call.
func (HandleMissedCallArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// HandleMissedCallWorker turns a missed call into a lead, a text and a
// notice.
type HandleMissedCallWorker struct {
	river.WorkerDefaults[HandleMissedCallArgs]
	deps *Deps
}

// NewHandleMissedCallWorker returns the worker.
func NewHandleMissedCallWorker(deps *Deps) *HandleMissedCallWorker {
	return &HandleMissedCallWorker{deps: deps}
}

// Work handles the missed call; see applyMissedCall. A caller who
// withheld their number (or whose number is not one, or not one of the
// shop's phone regions) cannot be texted or known again: the call is
// marked handled with no lead. A disabled shop's
// calls are still recorded as leads (the caller called, whatever the
// automation's state); the text's own job is cancelled for a disabled
// shop, as every send is.
func (w *HandleMissedCallWorker) Work(ctx context.Context, job *river.Job[HandleMissedCallArgs]) error {
	d := w.deps
	st := store.New(d.Pool)
	tenant, err := loadTenant(ctx, st, job.Args.TenantID, evenDisabled)
	if err != nil {
		return err
	}
	call, err := st.GetCall(ctx, tenant.ID, job.Args.CallID)
	if err != nil {
		return cancelIfNotFound(err)
	}
	from, err := tenant.ParsePhoneNumber(call.From)
	if !call.HandledAt.IsZero() || err != nil {
		if err != nil {
			d.Logger.InfoContext(ctx, "missed call from a withheld or invalid number; no lead, no text",
				slog.String("tenant_id", tenant.ID.String()), slog.Int64("call_id", call.ID), slog.String("reason", err.Error()))
		}
		return d.inTx(ctx, func(tx pgx.Tx) error {
			if _, err := store.New(tx).MarkCallHandled(ctx, tenant.ID, call.ID, uuid.Nil, time.Time{}); err != nil {
				return err
			}
			return completeTx(ctx, tx, job)
		})
	}
	return d.inTx(ctx, func(tx pgx.Tx) error { return applyMissedCall(ctx, d, tx, job, tenant, call, from) })
}

// applyMissedCall is the missed call's one transaction, under the
// caller's number lock (store.LockCustomer, as a text from them takes):
//   - the caller's newest lead is the call's, or, when the number has no
//     lead, a new one of source missed_call;
//   - unless a missed call from the number was texted in the last
//     lead.MissedCallTextEvery, the caller's text is queued, a one-off
//     step that goes through the outbox and every guard (window, STOP,
//     suppression, consent as for a first reply);
//   - the shop is notified, when it has a notify_email;
//   - the call is marked handled, with its lead and whether it was texted.
//
// The lock makes the once-a-day check exact: two missed calls from one
// number handled at once run one after the other, and the second sees the
// first's texted_at (and its lead).
func applyMissedCall(ctx context.Context, d *Deps, tx pgx.Tx, job *river.Job[HandleMissedCallArgs], tenant lead.Tenant, call store.Call, from lead.PhoneNumber) error {
	st := store.New(tx)
	leads, err := lockCustomerLeads(ctx, tx, st, tenant.ID, from)
	if err != nil {
		return err
	}
	// Read again under the lock: another run of this job may have handled
	// the call while this one waited.
	if call, err = st.GetCall(ctx, tenant.ID, call.ID); err != nil {
		return err
	}
	if !call.HandledAt.IsZero() {
		return completeTx(ctx, tx, job)
	}
	l, err := missedCallLead(ctx, st, tenant, call, from, leads)
	if err != nil {
		return err
	}
	now := d.now()
	texted, err := st.CallerTextedSince(ctx, tenant.ID, string(from), now.Add(-lead.MissedCallTextEvery))
	if err != nil {
		return err
	}
	client := river.ClientFromContext[pgx.Tx](ctx)
	var textedAt time.Time
	if !texted {
		if _, err := client.InsertTx(ctx, tx, SendSMSArgs{TenantID: tenant.ID, LeadID: l.ID, Step: lead.MissedCallStep(call.ID)}, nil); err != nil {
			return fmt.Errorf("error enqueueing the text of missed call %d: %w", call.ID, err)
		}
		textedAt = now
	}
	if tenant.NotifyEmail != "" {
		notice := NotifyShopArgs{TenantID: tenant.ID, LeadID: l.ID, MessageSID: lead.MissedCallExternalIDPrefix + call.CallSid, Reason: NoticeMissedCall}
		if _, err := client.InsertTx(ctx, tx, notice, nil); err != nil {
			return fmt.Errorf("error enqueueing the notice of missed call %d: %w", call.ID, err)
		}
	}
	if _, err := st.MarkCallHandled(ctx, tenant.ID, call.ID, l.ID, textedAt); err != nil {
		return err
	}
	d.Logger.InfoContext(ctx, "missed call handled", slog.String("tenant_id", tenant.ID.String()), slog.Int64("call_id", call.ID),
		slog.String("lead_id", l.ID.String()), slog.Bool("new_lead", len(leads) == 0), slog.Bool("texted", !texted))
	return completeTx(ctx, tx, job)
}

// missedCallLead is the lead a missed call belongs to: the caller's newest
// (leads, newest first), or a new missed_call lead when they have none. A
// customer who already has a lead is not made a second one: the shop
// would see the same person twice.
func missedCallLead(ctx context.Context, st *store.Store, tenant lead.Tenant, call store.Call, from lead.PhoneNumber, leads []lead.Lead) (lead.Lead, error) {
	if len(leads) > 0 {
		return leads[0], nil
	}
	l, err := lead.NewMissedCallLead(tenant.ID, tenant.CRMKind, call.CallSid, from, call.ReceivedAt)
	if err != nil {
		return lead.Lead{}, river.JobCancel(fmt.Errorf("missed call %d: %w", call.ID, err))
	}
	if l.ID, _, err = st.UpsertLead(ctx, tenant.ID, l, false); err != nil {
		return lead.Lead{}, err
	}
	return l, nil
}
