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

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// channel is what differs between a text and an email; deliver is the
// outbox logic they share. Its implementations, smsChannel and
// emailChannel, each read top to bottom: render and choose the sender,
// call the provider, ask the provider.
type channel interface {
	// kind names the channel in the outbox and in the logs.
	kind() lead.Channel
	// compose renders the message of one step for a lead and chooses its
	// sender. The outbox row keeps both (store.LockMessage), and every
	// attempt sends what the row holds.
	// bookingURL fills {{.BookingURL}} ("" for none).
	compose(t lead.Tenant, l lead.Lead, step lead.Step, bookingURL string) (lead.Message, error)
	// send hands the stored message to the provider and returns its id.
	send(ctx context.Context, m lead.Message) (providerID string, err error)
	// find asks whether the provider already has m (sent since the
	// claim): found, absent (safe to send again) or unknown.
	find(ctx context.Context, m lead.Message) (providerID string, v verdict, err error)
}

// The two channels, each in its file: smsChannel texts through Twilio
// (deps.SMS), emailChannel emails through SendGrid (deps.Email).
type (
	smsChannel   struct{ deps *Deps }
	emailChannel struct{ deps *Deps }
)

// verdict is what a reconcile learned about an interrupted send.
type verdict int

const (
	// verdictUnknown: nothing proves either way (yet).
	verdictUnknown verdict = iota
	// verdictFound: the provider has the message; record it as sent.
	verdictFound
	// verdictAbsent: the provider certainly does not have it; send again.
	verdictAbsent
)

// decision is what a claim transaction found the send must do next.
type decision int

const (
	decideDone decision = iota
	decideSend
	decideReconcile
)

// resultTimeout bounds the transaction that records a provider's answer.
// It runs even when the job's context has ended (a timeout or a shutdown
// just after the provider accepted): losing the provider id would turn a
// sent message into one that has to be reconciled.
const resultTimeout = 10 * time.Second

// deliver sends one step of one lead on one channel, at most once at the
// provider:
//
//  1. claim: lock the outbox row (creating it with the rendered body),
//     re-read the lead and the suppression list inside that transaction and
//     check every guard, move pending to sending and commit, all before any
//     provider call;
//  2. call the provider;
//  3. record the provider id (sent) and complete the job in one
//     transaction.
//
// A retry that finds the row sent completes at once. One that finds it
// sending (the previous attempt died or got an ambiguous answer) asks the
// provider before sending again; when nothing can tell, the row becomes
// ambiguous and waits for an operator instead of risking a second message.
func deliver[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenantID, leadID uuid.UUID, stepName string, ch channel) error {
	tenant, err := loadTenant(ctx, store.New(d.Pool), tenantID, enabledOnly)
	if err != nil {
		return err
	}
	if ch.kind() == lead.ChannelEmail && (lead.Step{Name: stepName}).IsNotice() {
		// A notice is composed once, by notify_shop: only its row can say
		// it again.
		return redeliverNotice(ctx, d, job, tenant, leadID, stepName, ch)
	}
	step, waits, err := stepToSend(ctx, d, tenant, leadID, stepName, ch.kind())
	if err != nil {
		return err
	}
	// The lead is read here to render the body and to know where the
	// customer is; the guards read it again under the row lock.
	l, err := store.New(d.Pool).GetLead(ctx, tenantID, leadID)
	if err != nil {
		return cancelIfNotFound(err)
	}
	if waits {
		if err := waitForWindow(tenant, step, l, d.now()); err != nil {
			return err
		}
	}
	link := d.bookingLink(tenant, l, step)
	draft, err := ch.compose(tenant, l, step, link)
	if err != nil {
		return river.JobCancel(fmt.Errorf("error composing %s %s for lead %s: %w", step, ch.kind(), leadID, err))
	}
	if err := d.touchBookingLink(ctx, tenant, l.ID, link, draft.Body); err != nil {
		return err
	}
	if ch.kind() == lead.ChannelEmail {
		if draft.ReplyTo, err = d.replyAddress(ctx, tenant, leadID, lead.ReplyCustomer); err != nil {
			return err
		}
	}
	return deliverDraft(ctx, d, job, tenant, step, draft, ch)
}

// deliverDraft is deliver from the composed draft on: claim the outbox
// row (made from draft the first time), reconcile an interrupted send,
// send, record.
func deliverDraft[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenant lead.Tenant, step lead.Step, draft lead.Message, ch channel) error {
	msg, what, err := claim(ctx, d, job, tenant, step, draft, ch)
	if err != nil {
		return err
	}
	switch what {
	case decideDone:
		return nil
	case decideReconcile:
		resend, err := reconcile(ctx, d, job, tenant, step, msg, ch)
		if err != nil || !resend {
			return err
		}
	}
	providerID, sendErr := ch.send(ctx, msg)
	return recordResult(ctx, d, job, tenant.ID, msg, ch, providerID, sendErr)
}

// stepToSend is the step of the tenant's sequence the job sends now (or
// the one-off step it names: a HELP answer, a shop's answer, a missed
// caller's text), and whether it waits for the sending window and the
// shop's closed days (waitForWindow); or what the job does instead: cancel
// when the step is gone from the sequence.
func stepToSend(ctx context.Context, d *Deps, tenant lead.Tenant, leadID uuid.UUID, stepName string, kind lead.Channel) (step lead.Step, waits bool, err error) {
	step, ok := tenant.SequenceOrDefault().Find(stepName, kind)
	help := kind == lead.ChannelSMS && (lead.Step{Name: stepName}).IsHelpAnswer()
	_, answer := (lead.Step{Name: stepName}).ShopAnswerInbound()
	switch {
	case answer && kind == lead.ChannelSMS:
		step, err = shopAnswerStep(ctx, d, tenant, stepName)
		return step, false, err
	case help:
		// The answer to HELP is owed at once, whatever the hour (it is
		// not a solicitation).
		return helpStep(tenant, stepName), false, nil
	case kind == lead.ChannelSMS && (lead.Step{Name: stepName}).IsOptOutConfirmation():
		// So is an opt-out's one confirmation (handle_inbound).
		return lead.Step{Name: stepName, Channel: lead.ChannelSMS, Template: lead.Templates{SMS: lead.OptOutConfirmationText}}, false, nil
	case kind == lead.ChannelSMS && (lead.Step{Name: stepName}).IsBookingText():
		// A booking's confirmation is in no sequence either. It waits for
		// the window too: the page has already told the customer, and a
		// text at night is one the shop must not send.
		if step, err = bookingTextStep(ctx, d, tenant, leadID, stepName); err != nil {
			return lead.Step{}, false, err
		}
	case kind == lead.ChannelSMS && (lead.Step{Name: stepName}).IsMissedCallText():
		// A missed caller's text is not in any sequence; it waits for the
		// window like every text that was not asked for.
		step = missedCallStep(tenant, stepName)
	case !ok:
		// The shop changed its sequence since this step was scheduled.
		return lead.Step{}, false, river.JobCancel(fmt.Errorf("step %s (%s) is no longer in tenant %s's sequence", stepName, kind, tenant.Name))
	}
	// Everything else waits for the window (texts) and the shop's closed
	// days (follow-ups, by text or email).
	return step, true, nil
}

// claim is the send's first transaction: lock the outbox row (creating it
// from draft), and either find it settled (done), find it in sending
// (reconcile, outside the lock), stop it by a guard (done), or move it to
// sending and commit before any provider call (send).
func claim[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenant lead.Tenant, step lead.Step, draft lead.Message, ch channel) (msg lead.Message, what decision, err error) {
	var held error // the text cap's snooze, returned once its reason is committed
	err = d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		if msg, err = st.LockMessage(ctx, tenant.ID, draft); err != nil {
			return err
		}
		switch {
		case msg.Status.Done():
			what = decideDone
			return completeTx(ctx, tx, job)
		case msg.Status == lead.MessageSending:
			what = decideReconcile
			return nil // nothing to commit; reconcile outside the lock
		}
		stopped, l, err := applyGuards(ctx, tx, st, tenant, step, msg, ch)
		if err != nil || stopped {
			what = decideDone
			if err != nil {
				return err
			}
			return completeTx(ctx, tx, job)
		}
		if held, err = holdForWindow(ctx, d, st, tenant, step, msg, l, ch); err != nil || held != nil {
			what = decideDone
			return err
		}
		if held, err = holdForTextCap(ctx, d, tx, st, tenant, step, msg, ch); err != nil || held != nil {
			what = decideDone
			return err
		}
		what = decideSend
		return st.MarkMessageSending(ctx, tenant.ID, msg.ID, d.now())
	})
	if err == nil && held != nil {
		err = held
	}
	return msg, what, err
}

// helpStep is the one-off step that answers a customer's HELP with the
// shop's help text.
func helpStep(t lead.Tenant, name string) lead.Step {
	text := t.HelpText
	if text == "" {
		text = "{{.Shop.Name}}: automatic messages about your service request. Reply STOP to opt out, START to opt back in. Call the shop for anything else."
	}
	return lead.Step{Name: name, Channel: lead.ChannelSMS, Template: lead.Templates{SMS: text}}
}

// missedCallStep is the one-off step that texts a missed call's caller
// the shop's missed-call text.
func missedCallStep(t lead.Tenant, name string) lead.Step {
	text := t.MissedCallText
	if text == "" {
		text = lead.DefaultMissedCallText
	}
	return lead.Step{Name: name, Channel: lead.ChannelSMS, Template: lead.Templates{SMS: text}}
}

// waitForWindow is nil when step may go to lead l now, else what the job
// does instead: snooze until it may (a text for the shop's sending window
// and the legal hours where the customer is, lead.RecipientOf; a
// follow-up for the end of the shop's closed days:
// lead.Tenant.NextSendTime), or cancel when the window or calendar is
// invalid (a tenant row edited by hand) or never opens for this customer.
func waitForWindow(t lead.Tenant, step lead.Step, l lead.Lead, now time.Time) error {
	next, err := t.NextSendTime(step, lead.RecipientOf(l.CustomerRegion, l.Phone), now)
	if err != nil {
		return river.JobCancel(fmt.Errorf("tenant %s: %w", t.Name, err))
	}
	if wait := next.Sub(now); wait > 0 {
		// Not an attempt: the step waits for its next opening.
		return river.JobSnooze(wait)
	}
	return nil
}

// applyGuards checks, inside the claim transaction, whether the message may
// still go out: the lead has not replied, booked or opted out, the address
// is not suppressed and the customer consented. When a guard says no it
// records why on the message (skipped or suppressed) and reports stopped.
// It first waits for any reply or STOP of this customer being recorded
// (store.LockForClaim), so that what it reads is what the customer last
// said.
func applyGuards(ctx context.Context, tx pgx.Tx, st *store.Store, tenant lead.Tenant, step lead.Step, msg lead.Message, ch channel) (stopped bool, l lead.Lead, err error) {
	tenantID := tenant.ID
	if err := store.LockForClaim(ctx, tx, tenantID, msg.LeadID, msg.To); err != nil {
		return false, l, err
	}
	if l, err = st.GetLead(ctx, tenantID, msg.LeadID); err != nil {
		return false, l, err
	}
	suppressed, err := st.IsSuppressed(ctx, tenantID, ch.kind(), msg.To)
	if err != nil {
		return false, l, err
	}
	reason := lead.SkipReasonFor(l, step, suppressed, tenant.ConsentPolicy())
	if ec, ok := ch.(emailChannel); ok && reason == "" {
		reason = ec.skipReason(tenant, step)
	}
	if reason == "" {
		// The rule it goes by, kept with the row in this transaction
		// ("why did you text me", enqueue consent).
		return false, l, st.SetMessageAllowedBy(ctx, tenantID, msg.ID, lead.AllowedBy(l, step, tenant.ConsentPolicy()))
	}
	status := lead.MessageSkipped
	if suppressed {
		status = lead.MessageSuppressed
	}
	return true, l, st.SetMessageStatus(ctx, tenantID, msg.ID, status, reason)
}

// recordResult writes the provider's answer and says what the job does
// next. It runs on a context that survives the job's own (see
// resultTimeout).
func recordResult[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenantID uuid.UUID, msg lead.Message, ch channel, providerID string, sendErr error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultTimeout)
	defer cancel()
	var (
		next  error
		first *store.FirstMessage
	)
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		if sendErr == nil {
			var err error
			if first, err = markSent(ctx, st, tenantID, msg, providerID, d.now()); err != nil {
				return err
			}
			return completeTx(ctx, tx, job)
		}
		if messaging.ClassOf(sendErr) == messaging.ClassOptedOut {
			if err := st.Suppress(ctx, tenantID, ch.kind(), msg.To, sendErr.Error(), "provider"); err != nil {
				return err
			}
		}
		if err := d.refusedAtSend(ctx, st, tenantID, msg, sendErr); err != nil {
			return err
		}
		status, reason := failedStatus(sendErr), sendErr.Error()
		next = afterSendFailed(msg, ch, sendErr)
		if lastAttempt(job, next) {
			// No retry will come to resolve a pending or sending row:
			// say so now, so an operator sees it.
			switch status {
			case lead.MessageSending:
				status, reason = lead.MessageAmbiguous, "gave up after the last attempt; the provider may have it: "+reason
			case lead.MessagePending:
				status, reason = lead.MessageFailed, "gave up after the last attempt: "+reason
			}
		}
		return st.SetMessageStatus(ctx, tenantID, msg.ID, status, reason)
	})
	if err != nil {
		return err
	}
	d.observeFirstMessages(first)
	return next
}

// lastAttempt reports whether next (an error to retry) would end the job
// for good because its attempts are spent. Snoozes and cancels are not
// retries.
func lastAttempt[T river.JobArgs](job *river.Job[T], next error) bool {
	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	if next == nil || errors.As(next, &snooze) || errors.As(next, &cancel) {
		return false
	}
	return job.Attempt >= job.MaxAttempts
}

// failedStatus is where a failed send leaves its outbox row: pending when
// the provider certainly did not process it (the retry sends without
// asking), sending when it may have (the retry asks first), suppressed or
// failed when no retry will come.
func failedStatus(sendErr error) lead.MessageStatus {
	switch messaging.ClassOf(sendErr) {
	case messaging.ClassRetry:
		return lead.MessagePending
	case messaging.ClassOptedOut:
		return lead.MessageSuppressed
	case messaging.ClassPermanent:
		return lead.MessageFailed
	}
	return lead.MessageSending
}

// afterSendFailed says what the job does next after a failed provider call,
// by the failure's class.
func afterSendFailed(msg lead.Message, ch channel, sendErr error) error {
	var se *messaging.SendError
	errors.As(sendErr, &se)
	switch messaging.ClassOf(sendErr) {
	case messaging.ClassRetry:
		if se != nil && se.RetryAfter > 0 {
			return river.JobSnooze(se.RetryAfter)
		}
		return sendErr
	case messaging.ClassOptedOut:
		return river.JobCancel(fmt.Errorf("%s to lead %s: recipient opted out: %w", ch.kind(), msg.LeadID, sendErr))
	case messaging.ClassPermanent:
		return river.JobCancel(fmt.Errorf("%s to lead %s failed for good: %w", ch.kind(), msg.LeadID, sendErr))
	}
	return fmt.Errorf("%s to lead %s may or may not have been sent; the next attempt checks: %w", ch.kind(), msg.LeadID, sendErr)
}

// reconcile decides what to do with a message left in sending. It returns
// resend true (with the row claimed again) only when the provider is known
// not to have the message and every guard still allows it. When nothing
// can tell, it waits (snoozes) up to ConfirmWait after the claim, then
// marks the message ambiguous for an operator.
func reconcile[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenant lead.Tenant, step lead.Step, msg lead.Message, ch channel) (resend bool, err error) {
	var first *store.FirstMessage
	var held error // the window's snooze, returned once the row is pending again
	since := d.now().Sub(msg.SendingAt)
	if wait := d.ReconcileAfter - since; wait > 0 {
		// The claim is recent: its provider call may still be in flight
		// (a rescued duplicate of this job). Look again later.
		return false, river.JobSnooze(wait)
	}
	providerID, v, findErr := ch.find(ctx, msg)
	if findErr != nil {
		if job.Attempt >= job.MaxAttempts {
			return false, markAmbiguous(ctx, d, job, tenant.ID, msg, ch, "could not ask the provider: "+findErr.Error())
		}
		return false, fmt.Errorf("error checking whether %s %s went out: %w", ch.kind(), msg.ID, findErr)
	}
	if v == verdictUnknown {
		if remaining := d.ConfirmWait - since; remaining > 0 {
			return false, river.JobSnooze(min(remaining, confirmPoll))
		}
		return false, markAmbiguous(ctx, d, job, tenant.ID, msg, ch,
			fmt.Sprintf("no confirmation from the provider within %s of an interrupted send", d.ConfirmWait))
	}
	err = d.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		cur, err := st.LockMessage(ctx, tenant.ID, msg)
		if err != nil {
			return err
		}
		if cur.Status != lead.MessageSending || !cur.SendingAt.Equal(msg.SendingAt) {
			// Someone else moved it on while we asked; their outcome
			// stands.
			return completeTx(ctx, tx, job)
		}
		if v == verdictFound {
			if first, err = markSent(ctx, st, tenant.ID, msg, providerID, d.now()); err != nil {
				return err
			}
			return completeTx(ctx, tx, job)
		}
		// Not sent: it may go out only if it still may go out at all (the
		// customer may have replied or opted out since the first try).
		stopped, l, err := applyGuards(ctx, tx, st, tenant, step, msg, ch)
		if err != nil {
			return err
		}
		if stopped {
			return completeTx(ctx, tx, job)
		}
		// Nor after its window closed: it waits, pending, for the next.
		if held, err = holdForWindow(ctx, d, st, tenant, step, msg, l, ch); err != nil || held != nil {
			return err
		}
		resend = true
		return st.MarkMessageSending(ctx, tenant.ID, msg.ID, d.now())
	})
	if err != nil {
		return false, err
	}
	if held != nil {
		return false, held
	}
	d.observeFirstMessages(first)
	switch {
	case v == verdictFound:
		d.Logger.InfoContext(ctx, "interrupted send had gone out; recorded it",
			slog.String("channel", string(ch.kind())), slog.String("message_id", msg.ID.String()))
	case resend:
		d.Logger.InfoContext(ctx, "interrupted send had not gone out; sending again",
			slog.String("channel", string(ch.kind())), slog.String("message_id", msg.ID.String()))
	}
	return resend, nil
}

// confirmPoll is how often a send waiting for confirmation looks again.
const confirmPoll = 15 * time.Second

func markAmbiguous[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenantID uuid.UUID, msg lead.Message, ch channel, reason string) error {
	d.Logger.WarnContext(ctx, "message outcome unknown; marked ambiguous for an operator (enqueue messages / enqueue resend)",
		slog.String("channel", string(ch.kind())), slog.String("tenant_id", tenantID.String()),
		slog.String("message_id", msg.ID.String()), slog.String("reason", lead.MaskContacts(reason)))
	return d.inTx(ctx, func(tx pgx.Tx) error {
		if err := store.New(tx).SetMessageStatus(ctx, tenantID, msg.ID, lead.MessageAmbiguous, reason); err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	})
}

// shopAnswerStep is the one-off step that texts the customer the shop's
// answer stored as the step's inbound message: the shop's name, then the
// answer as the shop wrote it (never read as a template). It is owed at
// once: it answers a customer who wrote to the shop, so the window for
// solicitations does not hold it back (see the README).
func shopAnswerStep(ctx context.Context, d *Deps, t lead.Tenant, name string) (lead.Step, error) {
	id, _ := (lead.Step{Name: name}).ShopAnswerInbound()
	in, err := store.New(d.Pool).GetInbound(ctx, t.ID, id)
	if err != nil {
		return lead.Step{}, cancelIfNotFound(err)
	}
	text := lead.LiteralTemplate(t.Name + ": " + in.Body)
	return lead.Step{Name: name, Channel: lead.ChannelSMS, Template: lead.Templates{SMS: text}}, nil
}

// redeliverNotice runs a notice's send again from its outbox row (a
// sweep's or an operator's resend: the notify_shop job composed it once).
// A notice without a row was never composed: there is nothing to send.
func redeliverNotice[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], t lead.Tenant, leadID uuid.UUID, stepName string, ch channel) error {
	row, err := store.New(d.Pool).FindMessage(ctx, t.ID, leadID, stepName, lead.ChannelEmail)
	if err != nil {
		return cancelIfNotFound(err)
	}
	return deliverDraft(ctx, d, job, t, lead.Step{Name: stepName, Channel: lead.ChannelEmail}, row, ch)
}
