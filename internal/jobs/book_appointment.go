package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// BookAppointmentArgs books one booking request in the shop's CRM. The
// args carry ids only: the booking row holds the time, the lead row the
// customer.
type BookAppointmentArgs struct {
	TenantID  uuid.UUID `json:"tenant_id" river:"unique"`
	LeadID    uuid.UUID `json:"lead_id"`
	BookingID uuid.UUID `json:"booking_id" river:"unique"`
}

// Kind is the River job kind.
func (BookAppointmentArgs) Kind() string { return "book_appointment" }

// InsertOpts: on the crm queue, one job per booking, retried like every
// CRM call.
func (BookAppointmentArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueCRM, MaxAttempts: callMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// BookAppointmentWorker creates a booking's appointment in the CRM at most
// once, with the outbox's three steps:
//
//  1. claim: check the slot against the CRM's calendar (full: taken), lock
//     the booking, check the lead may still book, move it to booking and
//     commit, before the CRM call;
//  2. CreateAppointment, with our marker (the booking's Ref) in it;
//  3. record, in one transaction: the booking booked with the CRM's id,
//     the lead booked, its follow-ups stopped, the shop's notice and the
//     customer's confirmation text inserted, the job completed.
//
// A retry that finds the booking in booking (the last attempt died, or its
// answer was lost) waits until ReconcileAfter past the claim, then lists
// the slot and looks for our appointment (the customer, the start, the
// Ref) before it creates one again. When no answer ever comes, the last
// attempt leaves it ambiguous for an operator, never booked twice.
type BookAppointmentWorker struct {
	river.WorkerDefaults[BookAppointmentArgs]
	deps *Deps
}

// NewBookAppointmentWorker returns the worker.
func NewBookAppointmentWorker(deps *Deps) *BookAppointmentWorker {
	return &BookAppointmentWorker{deps: deps}
}

// Work books the appointment, or finds what an earlier attempt did.
func (w *BookAppointmentWorker) Work(ctx context.Context, job *river.Job[BookAppointmentArgs]) error {
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
	l, err := st.GetLead(ctx, t.ID, b.LeadID)
	if err != nil {
		return cancelIfNotFound(err)
	}
	switch b.State {
	case lead.BookingRequested:
		return w.first(ctx, job, t, l, b)
	case lead.BookingInProgress:
		return w.again(ctx, job, t, l, b)
	}
	return d.inTx(ctx, func(tx pgx.Tx) error { return completeTx(ctx, tx, job) })
}

// first checks the slot, claims the booking and creates the appointment.
func (w *BookAppointmentWorker) first(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, l lead.Lead, b store.BookingRecord) error {
	d := w.deps
	switch {
	case !t.Enabled || !t.Booking.Enabled:
		return w.finish(ctx, job, t, b, lead.BookingFailed, "The shop is not taking online bookings right now.")
	case l.CustomerExternalID == "":
		return w.finish(ctx, job, t, b, lead.BookingFailed, "The shop's system has no customer record to book this for.")
	case !b.Start.After(d.now()):
		return w.finish(ctx, job, t, b, lead.BookingTaken, "That time has passed.")
	}
	a, err := d.adapter(t)
	if err != nil {
		return w.giveUp(ctx, job, t, b, err)
	}
	busy, err := busyTimes(ctx, store.New(d.Pool), t, a, b.Start, b.End, &b)
	if err != nil {
		return w.callFailed(ctx, job, t, b, lead.BookingFailed, fmt.Errorf("error reading the calendar: %w", err))
	}
	if placesTaken(busy, b.Start, b.End) >= t.Booking.WithDefaults().Capacity {
		return w.finish(ctx, job, t, b, lead.BookingTaken, "That time was just taken.")
	}
	claimed, err := w.claim(ctx, job, t, b)
	if err != nil || !claimed {
		return err
	}
	return w.create(ctx, job, t, l, b, a)
}

// claim moves the booking from state (requested, or booking as an earlier
// claim left it at claimedAt) to booking, under its row lock, and commits
// before any CRM call. claimed is false when the lead may no longer book
// (the booking is then failed and the job complete) or another run of the
// job got there first (it is snoozed).
func (w *BookAppointmentWorker) claim(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, b store.BookingRecord) (claimed bool, err error) {
	d := w.deps
	err = d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		cur, err := st.LockBooking(ctx, t.ID, b.ID)
		if err != nil {
			return err
		}
		if cur.State != b.State || !cur.ClaimedAt.Equal(b.ClaimedAt) {
			// Another run claimed it meanwhile (a rescued duplicate):
			// look again once its call has had its time.
			return river.JobSnooze(d.bookingReconcileAfter())
		}
		l, err := st.GetLead(ctx, t.ID, b.LeadID)
		if err != nil {
			return err
		}
		switch l.Status {
		case lead.StatusOptedOut, lead.StatusClosed:
			if err := st.UpdateBooking(ctx, t.ID, b.ID, store.BookingUpdate{State: lead.BookingFailed,
				Reason: "This request can no longer be booked online; please call the shop."}); err != nil {
				return err
			}
			return completeTx(ctx, tx, job)
		}
		claimed = true
		return st.UpdateBooking(ctx, t.ID, b.ID, store.BookingUpdate{State: lead.BookingInProgress, At: d.now()})
	})
	return claimed, err
}

// create makes the CRM call and records what it answered.
func (w *BookAppointmentWorker) create(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, l lead.Lead, b store.BookingRecord, a crm.Adapter) error {
	b.State = lead.BookingInProgress // claimed
	id, err := a.CreateAppointment(ctx, crm.Appointment{
		CustomerID: l.CustomerExternalID, VehicleID: l.VehicleExternalID, Title: appointmentTitle(l),
		Start: b.Start, End: b.End, Ref: b.Ref,
	})
	if err != nil {
		var limited *crm.RateLimitedError
		if refused(err) && !errors.As(err, &limited) {
			return w.finish(ctx, job, t, b, lead.BookingFailed, "The shop's calendar did not accept this booking; please call the shop.", slog.Any("error", err))
		}
		// The CRM may have it: the retry looks before it creates again.
		return w.callFailed(ctx, job, t, b, lead.BookingAmbiguous, fmt.Errorf("the CRM may or may not have booked %s; the next attempt looks: %w", b.ID, err))
	}
	return w.record(ctx, job, t, l, b, id)
}

// again resumes a booking an earlier attempt claimed: after
// ReconcileAfter, it looks for our appointment and records it, or claims
// again and creates it when it is not there.
func (w *BookAppointmentWorker) again(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, l lead.Lead, b store.BookingRecord) error {
	d := w.deps
	if wait := d.bookingReconcileAfter() - d.now().Sub(b.ClaimedAt); wait > 0 {
		// The claim is recent: its CRM call may still be in flight.
		return river.JobSnooze(wait)
	}
	a, err := d.adapter(t)
	if err != nil {
		return w.giveUp(ctx, job, t, b, err)
	}
	listed, err := a.ListAppointments(ctx, b.Start, b.End)
	if err != nil {
		return w.callFailed(ctx, job, t, b, lead.BookingAmbiguous, fmt.Errorf("error looking for the appointment of booking %s: %w", b.ID, err))
	}
	if ap, ok := ourAppointment(listed, l.CustomerExternalID, b); ok {
		return w.record(ctx, job, t, l, b, ap.ID)
	}
	claimed, err := w.claim(ctx, job, t, b)
	if err != nil || !claimed {
		return err
	}
	return w.create(ctx, job, t, l, b, a)
}

// record writes the CRM's answer and everything a booking stops and
// starts, in one transaction with the job's completion. It runs on a
// context that survives the job's own: losing the id would leave an
// appointment to be looked for again.
func (w *BookAppointmentWorker) record(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, l lead.Lead, b store.BookingRecord, crmID string) error {
	d := w.deps
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultTimeout)
	defer cancel()
	return d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		cur, err := st.LockBooking(ctx, t.ID, b.ID)
		if err != nil {
			return err
		}
		if cur.State == lead.BookingBooked {
			return completeTx(ctx, tx, job)
		}
		// The customer's locks first, as every stop does (bookCustomer): a
		// send claiming now waits, then reads the lead booked.
		if err := store.LockCustomer(ctx, tx, t.ID, "", []uuid.UUID{l.ID}); err != nil {
			return err
		}
		now := d.now()
		if err := st.UpdateBooking(ctx, t.ID, b.ID, store.BookingUpdate{State: lead.BookingBooked, CRMAppointmentID: crmID, At: now}); err != nil {
			return err
		}
		if _, err := st.MarkLeadBooked(ctx, t.ID, l.ID, now); err != nil {
			return err
		}
		if _, err := cancelPendingSteps(ctx, tx, t.ID, l.ID, (SendSMSArgs{}).Kind(), (SendEmailArgs{}).Kind()); err != nil {
			return err
		}
		if err := insertBookingMessages(ctx, tx, t, l, b.ID, ""); err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	})
}

// insertBookingMessages inserts, in tx, the shop's notice of a booking
// event (change: "" for the booking, else the change's key) and the
// customer's confirmation text.
func insertBookingMessages(ctx context.Context, tx pgx.Tx, t lead.Tenant, l lead.Lead, bookingID uuid.UUID, change string) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	var params []river.InsertManyParams
	if t.NotifyEmail != "" {
		params = append(params, river.InsertManyParams{Args: NotifyShopArgs{TenantID: t.ID, LeadID: l.ID,
			MessageSID: bookingEvent(bookingID, change), Reason: NoticeBooking}})
	}
	if l.Phone != "" {
		params = append(params, river.InsertManyParams{Args: SendSMSArgs{TenantID: t.ID, LeadID: l.ID,
			Step: lead.BookingTextStep(bookingID, change)}})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("error inserting the messages of booking %s: %w", bookingID, err)
	}
	return nil
}

// finish ends the booking in state (taken or failed) with the customer's
// reason, and completes the job. attrs add to the log line.
func (w *BookAppointmentWorker) finish(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, b store.BookingRecord, state lead.BookingState, reason string, attrs ...any) error {
	d := w.deps
	if d.Logger != nil {
		d.Logger.InfoContext(ctx, "booking not made", append([]any{slog.String("tenant", t.Name), slog.String("booking", b.ID.String()),
			slog.String("state", string(state)), slog.String("reason", reason)}, attrs...)...)
	}
	return d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		cur, err := st.LockBooking(ctx, t.ID, b.ID)
		if err != nil {
			return err
		}
		if cur.State != b.State {
			return completeTx(ctx, tx, job)
		}
		if err := st.UpdateBooking(ctx, t.ID, b.ID, store.BookingUpdate{State: state, Reason: reason}); err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	})
}

// callFailed is a CRM call that failed without booking for sure: a rate
// limit snoozes; anything else retries, and when no retry can help (the
// CRM refused the credentials or the request, or the attempts are spent)
// the booking ends in last: failed when nothing was created yet,
// ambiguous when the CRM may have it.
func (w *BookAppointmentWorker) callFailed(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, b store.BookingRecord, last lead.BookingState, err error) error {
	if next, retry := retryCRMCall(job, "booking "+b.ID.String(), err); retry {
		return next
	}
	reason := "We could not reach the shop's calendar; please call the shop."
	if last == lead.BookingAmbiguous {
		reason = "The shop's calendar did not confirm this booking; the shop will confirm it with you."
	}
	return w.finish(ctx, job, t, b, last, reason, slog.Any("error", err))
}

// giveUp ends a booking whose tenant cannot make an adapter: failed, for
// the customer to call the shop, while the tenant's settings wait for an
// operator.
func (w *BookAppointmentWorker) giveUp(ctx context.Context, job *river.Job[BookAppointmentArgs], t lead.Tenant, b store.BookingRecord, err error) error {
	state := lead.BookingFailed
	if b.State == lead.BookingInProgress {
		state = lead.BookingAmbiguous
	}
	return w.finish(ctx, job, t, b, state, "We could not reach the shop's calendar; please call the shop.", slog.Any("error", err))
}

// retryCRMCall says whether a booking job's failed CRM call is tried
// again (retry true, with next to return): a rate limit snoozes, any other
// failure retries while attempts remain, unless the CRM refused it for
// good (refused). retry false: the job ends the booking or change now.
func retryCRMCall[T river.JobArgs](job *river.Job[T], action string, err error) (next error, retry bool) {
	var limited *crm.RateLimitedError
	if errors.As(err, &limited) {
		return crmError(job.JobRow, action, err), true
	}
	if !refused(err) && !lastAttempt(job, err) {
		return err, true
	}
	return nil, false
}

// refused reports whether the CRM certainly did not act and never will on
// a retry: the request was invalid, the credentials refused, a record
// malformed, or any other client error.
func refused(err error) bool {
	var (
		invalid *lead.ValidationError
		record  *crm.InvalidRecordError
		status  *crm.StatusError
	)
	return errors.As(err, &invalid) || errors.As(err, &record) || errors.Is(err, crm.ErrUnauthorized) ||
		errors.Is(err, crm.ErrNotFound) || (errors.As(err, &status) && !status.Temporary())
}

// bookingReconcileAfter is how long after a claim a retry waits before it
// looks for what the claimed call did: longer than a CRM call may take.
func (d *Deps) bookingReconcileAfter() time.Duration {
	if d.CRMReconcileAfter > 0 {
		return d.CRMReconcileAfter
	}
	return d.ReconcileAfter
}
