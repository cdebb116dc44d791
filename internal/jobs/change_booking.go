package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// ChangeBookingArgs makes one move or cancel of a booked appointment, the
// change the customer asked for under ChangeKey (the form's one-time key,
// no customer data): one job per change.
type ChangeBookingArgs struct {
	TenantID  uuid.UUID `json:"tenant_id" river:"unique"`
	LeadID    uuid.UUID `json:"lead_id"`
	BookingID uuid.UUID `json:"booking_id" river:"unique"`
	ChangeKey string    `json:"change_key" river:"unique"`
}

// Kind is the River job kind.
func (ChangeBookingArgs) Kind() string { return "change_booking" }

// InsertOpts: on the crm queue, one job per change.
func (ChangeBookingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCRM, MaxAttempts: callMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ChangeBookingWorker moves or cancels the appointment in the CRM where
// its adapter can (crm.AppointmentEditor: Tekmetric), and otherwise asks
// the shop to, by a notice naming the change (ShopMonkey documents no way
// to change an appointment). Both edits are idempotent (moving to the
// times it has, deleting what is gone), so a retry simply makes the call
// again. Then, in one transaction: the change recorded, the shop told, the
// customer texted, the job completed.
type ChangeBookingWorker struct {
	river.WorkerDefaults[ChangeBookingArgs]
	deps *Deps
}

// NewChangeBookingWorker returns the worker.
func NewChangeBookingWorker(deps *Deps) *ChangeBookingWorker { return &ChangeBookingWorker{deps: deps} }

// Work makes the change.
func (w *ChangeBookingWorker) Work(ctx context.Context, job *river.Job[ChangeBookingArgs]) error {
	d, a := w.deps, job.Args
	st := store.New(d.Pool)
	t, err := loadTenant(ctx, st, a.TenantID, evenDisabled)
	if err != nil {
		return err
	}
	b, err := st.GetBooking(ctx, t.ID, a.BookingID)
	if err != nil {
		return cancelIfNotFound(err)
	}
	if b.ChangeState != lead.ChangeRequested || b.ChangeKey != a.ChangeKey {
		return d.inTx(ctx, func(tx pgx.Tx) error { return completeTx(ctx, tx, job) })
	}
	l, err := st.GetLead(ctx, t.ID, b.LeadID)
	if err != nil {
		return cancelIfNotFound(err)
	}
	ad, err := d.adapter(t)
	if err != nil {
		return w.finish(ctx, job, t, l, b, lead.ChangeFailed, "We could not reach the shop's calendar; please call the shop.", slog.Any("error", err))
	}
	editor, ok := ad.(crm.AppointmentEditor)
	if !ok {
		return w.finish(ctx, job, t, l, b, lead.ChangeAskedShop, "")
	}
	if b.Change == lead.BookingMove {
		if !b.ChangeStart.After(d.now()) {
			return w.finish(ctx, job, t, l, b, lead.ChangeFailed, "That time has passed; your appointment is unchanged.")
		}
		busy, err := busyTimes(ctx, st, t, ad, b.ChangeStart, b.ChangeEnd, &b)
		if err != nil {
			return w.callFailed(ctx, job, t, l, b, fmt.Errorf("error reading the calendar: %w", err))
		}
		// busy leaves this booking out, its old times and its target:
		// only the others count.
		if placesTaken(busy, b.ChangeStart, b.ChangeEnd) >= t.Booking.WithDefaults().Capacity {
			return w.finish(ctx, job, t, l, b, lead.ChangeFailed, "That time was just taken; your appointment is unchanged.")
		}
		err = editor.MoveAppointment(ctx, b.CRMAppointmentID, crm.Appointment{Start: b.ChangeStart, End: b.ChangeEnd})
		if err != nil {
			return w.callFailed(ctx, job, t, l, b, fmt.Errorf("error moving appointment %s: %w", b.CRMAppointmentID, err))
		}
	} else if err := editor.CancelAppointment(ctx, b.CRMAppointmentID); err != nil {
		return w.callFailed(ctx, job, t, l, b, fmt.Errorf("error cancelling appointment %s: %w", b.CRMAppointmentID, err))
	}
	return w.finish(ctx, job, t, l, b, lead.ChangeDone, "")
}

// callFailed retries a failed edit (a rate limit snoozes), and ends the
// change as failed when no retry can help.
func (w *ChangeBookingWorker) callFailed(ctx context.Context, job *river.Job[ChangeBookingArgs], t lead.Tenant, l lead.Lead, b store.BookingRecord, err error) error {
	if next, retry := retryCRMCall(job, "changing booking "+b.ID.String(), err); retry {
		return next
	}
	reason := "We could not reach the shop's calendar; please call the shop."
	if refused(err) {
		reason = "The shop's calendar did not accept the change; please call the shop."
	}
	return w.finish(ctx, job, t, l, b, lead.ChangeFailed, reason, slog.Any("error", err))
}

// finish records what became of the change, the shop's notice and the
// customer's text, and completes the job, in one transaction.
func (w *ChangeBookingWorker) finish(ctx context.Context, job *river.Job[ChangeBookingArgs], t lead.Tenant, l lead.Lead, b store.BookingRecord, state lead.ChangeState, reason string, attrs ...any) error {
	d := w.deps
	if d.Logger != nil && state == lead.ChangeFailed {
		d.Logger.InfoContext(ctx, "booking change not made", append([]any{slog.String("tenant", t.Name), slog.String("booking", b.ID.String()),
			slog.String("change", string(b.Change)), slog.String("reason", reason)}, attrs...)...)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultTimeout)
	defer cancel()
	return d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		cur, err := st.LockBooking(ctx, t.ID, b.ID)
		if err != nil {
			return err
		}
		if cur.ChangeState != lead.ChangeRequested || cur.ChangeKey != b.ChangeKey {
			return completeTx(ctx, tx, job)
		}
		if err := st.FinishBookingChange(ctx, t.ID, b.ID, state, reason); err != nil {
			return err
		}
		if err := insertBookingMessages(ctx, tx, t, l, b.ID, b.ChangeKey); err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	})
}
