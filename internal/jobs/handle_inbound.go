package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// HandleInboundArgs names a text a customer sent to one of the shop's
// numbers. The text itself (number, body) is in the tenant's
// inbound_messages row, stored by the webhook intake in the transaction
// that inserted this job: river_job has no row-level security, so its args
// carry ids only.
type HandleInboundArgs struct {
	TenantID  uuid.UUID `json:"tenant_id" river:"unique"`
	InboundID int64     `json:"inbound_id" river:"unique"`
}

// Kind is the River job kind. It is not handle_inbound, the kind whose
// args carried the text: a replica still running the old code during an
// upgrade must not take these (it would read an empty number and cancel
// them); not knowing this kind, it fails the job as an unknown kind, and
// River retries it until a new replica takes it.
func (HandleInboundArgs) Kind() string { return "handle_inbound_message" }

// InsertOpts: once per stored text.
func (HandleInboundArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBookkeeping, MaxAttempts: bookkeepingMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// HandleInboundWorker acts on a customer's text.
type HandleInboundWorker struct {
	river.WorkerDefaults[HandleInboundArgs]
	deps *Deps
}

// NewHandleInboundWorker returns the worker.
func NewHandleInboundWorker(deps *Deps) *HandleInboundWorker { return &HandleInboundWorker{deps: deps} }

// Work acts on the stored text; see handleInbound.
func (w *HandleInboundWorker) Work(ctx context.Context, job *river.Job[HandleInboundArgs]) error {
	return handleInbound(ctx, w.deps, job, job.Args.TenantID, job.Args.InboundID)
}

// handleInbound acts on the tenant's stored text inboundID and, in the
// same transaction, marks it handled and:
//   - STOP (a keyword or the customer's own words) suppresses the number
//     for the shop, moves its lead to opted_out and cancels the lead's
//     pending texts; where Twilio did not confirm it (its block covers
//     only the single keywords) and the number was not suppressed already,
//     the one confirmation text is queued;
//   - START lifts the suppression and lets the lead be texted again;
//   - HELP queues the shop's help text as the answer;
//   - anything else is a reply: the lead is marked replied, every pending
//     step of its sequence is cancelled, and the shop is told by email.
//
// A text handled before changes nothing.
func handleInbound[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenantID uuid.UUID, inboundID int64) error {
	tenant, in, err := loadInbound(ctx, d, job, tenantID, inboundID)
	if err != nil || in == nil {
		return err
	}
	from, err := lead.ParseAnyPhoneNumber(in.From)
	if err != nil {
		return river.JobCancel(fmt.Errorf("inbound message %d: field from: %w", in.ID, err))
	}
	kind := lead.InboundKind(in.Kind)
	return d.inTx(ctx, func(tx pgx.Tx) error {
		return applyInbound(ctx, d, tx, job, tenant, *in, from, kind)
	})
}

// applyInbound is handleInbound's transaction: it marks the text handled
// and applies it to the customer's number and leads, then completes the
// job.
func applyInbound[T river.JobArgs](ctx context.Context, d *Deps, tx pgx.Tx, job *river.Job[T], tenant lead.Tenant, in store.InboundMessage, from lead.PhoneNumber, kind lead.InboundKind) error {
	st := store.New(tx)
	leads, err := lockCustomerLeads(ctx, tx, st, tenant.ID, from)
	if err != nil {
		return err
	}
	known := len(leads) > 0
	var l lead.Lead
	if known {
		l = leads[0] // the newest: the text is recorded against it
	}
	marked, err := st.MarkInboundHandled(ctx, tenant.ID, in.ID, l.ID)
	if err != nil {
		return err
	}
	if !marked {
		return completeTx(ctx, tx, job)
	}
	if overruled, err := overruledLater(ctx, st, tenant.ID, from, kind, in); err != nil || overruled {
		if err != nil {
			return err
		}
		return completeTx(ctx, tx, job)
	}
	confirm := false
	switch kind {
	case lead.InboundStop:
		if confirm, err = suppressOptOut(ctx, st, tenant.ID, from, in); err != nil {
			return err
		}
	case lead.InboundStart:
		if err := st.Unsuppress(ctx, tenant.ID, lead.ChannelSMS, string(from)); err != nil {
			return err
		}
	}
	if kind == lead.InboundHelp {
		if known {
			if err := applyToLead(ctx, d, tx, st, tenant, l, kind, in, true); err != nil {
				return err
			}
		}
		return completeTx(ctx, tx, job)
	}
	for i, each := range leads {
		if err := applyToLead(ctx, d, tx, st, tenant, each, kind, in, i == 0); err != nil {
			return err
		}
	}
	if confirm && known {
		// One confirmation, on the newest lead, however many the customer
		// has. A number no lead has gets none: the outbox sends for leads.
		client := river.ClientFromContext[pgx.Tx](ctx)
		if _, err := client.InsertTx(ctx, tx, SendSMSArgs{TenantID: tenant.ID, LeadID: l.ID, Step: lead.OptOutConfirmationStep(in.ProviderID)}, nil); err != nil {
			return err
		}
	}
	return completeTx(ctx, tx, job)
}

// suppressOptOut puts the number that texted the opt-out in on the
// tenant's suppression list and reports whether the shop owes the one
// confirmation (lead.ConfirmsOptOut): Twilio confirms its own keywords,
// and a number suppressed already was confirmed before. The caller holds
// the number's lock (lockCustomerLeads), so of two opt-outs handled at
// once only the first finds the number free.
func suppressOptOut(ctx context.Context, st *store.Store, tenantID uuid.UUID, from lead.PhoneNumber, in store.InboundMessage) (confirm bool, err error) {
	was, err := st.IsSuppressed(ctx, tenantID, lead.ChannelSMS, string(from))
	if err != nil {
		return false, err
	}
	reason := "the customer texted " + strings.ToUpper(strings.TrimSpace(in.Body))
	if !lead.ProviderOptOutKeyword(in.Body) {
		// Their own words, quoted as they wrote them (shortened).
		reason = fmt.Sprintf("the customer texted %q", truncateRunes(strings.TrimSpace(in.Body), 80))
	}
	if err := st.Suppress(ctx, tenantID, lead.ChannelSMS, string(from), reason, "inbound"); err != nil {
		return false, err
	}
	return lead.ConfirmsOptOut(in.Body, was), nil
}

// truncateRunes shortens s to at most n runes, marking the cut.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// lockCustomerLeads returns, newest first, every lead of the customer who
// texted from, locked in tx. Every lead of this customer answers to the
// text: a reply or a STOP stops all their sequences, not only the newest
// one's. The number is locked first, so texts to it claimed from now on
// wait for this transaction; the leads are read under that lock and then
// locked too, which waits for their emails' claims under way (see
// store.LockCustomer).
func lockCustomerLeads(ctx context.Context, tx pgx.Tx, st *store.Store, tenantID uuid.UUID, from lead.PhoneNumber) ([]lead.Lead, error) {
	if err := store.LockCustomer(ctx, tx, tenantID, string(from), nil); err != nil {
		return nil, err
	}
	leads, err := st.FindLeadsByPhone(ctx, tenantID, from)
	if err != nil {
		return nil, err
	}
	if err := store.LockCustomer(ctx, tx, tenantID, "", leadIDs(leads)); err != nil {
		return nil, err
	}
	return leads, nil
}

// overruledLater reports whether a STOP or START is overruled by the
// opposite keyword the customer texted after it. STOP and START are
// applied only if the customer did not say the opposite later: jobs retry
// and run concurrently, so the later keyword can be handled first.
func overruledLater(ctx context.Context, st *store.Store, tenantID uuid.UUID, from lead.PhoneNumber, kind lead.InboundKind, in store.InboundMessage) (bool, error) {
	if kind != lead.InboundStop && kind != lead.InboundStart {
		return false, nil
	}
	opposite := lead.InboundStart
	if kind == lead.InboundStart {
		opposite = lead.InboundStop
	}
	return st.InboundAfter(ctx, tenantID, string(from), string(opposite), in.ReceivedAt)
}

func leadIDs(leads []lead.Lead) []uuid.UUID {
	ids := make([]uuid.UUID, len(leads))
	for i, l := range leads {
		ids[i] = l.ID
	}
	return ids
}

// applyToLead moves the lead by what the customer said and does what
// follows from it, in the caller's transaction.
//
// notify says whether this lead is the one the shop hears about (one
// notice per reply, however many leads the customer has).
func applyToLead(ctx context.Context, d *Deps, tx pgx.Tx, st *store.Store, t lead.Tenant, l lead.Lead, kind lead.InboundKind, in store.InboundMessage, notify bool) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	if kind == lead.InboundHelp {
		_, err := client.InsertTx(ctx, tx, SendSMSArgs{TenantID: t.ID, LeadID: l.ID, Step: lead.HelpAnswerStep(in.ProviderID)}, nil)
		return err
	}
	event, ok := kind.LeadEvent(l.Status)
	if !ok {
		return nil
	}
	next := lead.NextStatus(l.Status, event)
	if event == lead.EventOptedIn && !l.RepliedAt.IsZero() && next == lead.StatusContacted {
		// Back in, but the conversation already started: follow-ups stay
		// stopped.
		next = lead.StatusReplied
	}
	if next != l.Status || event == lead.EventReplied {
		if err := st.SetLeadStatus(ctx, t.ID, l.ID, next); err != nil {
			return err
		}
	}
	switch {
	case kind == lead.InboundStop:
		// Texts only: an email address opts out through SendGrid.
		n, err := cancelPendingSteps(ctx, tx, t.ID, l.ID, (SendSMSArgs{}).Kind())
		if err != nil {
			return err
		}
		d.Logger.InfoContext(ctx, "customer opted out; pending texts cancelled",
			slog.String("tenant_id", t.ID.String()), slog.String("lead_id", l.ID.String()), slog.Int("cancelled", n))
	case event == lead.EventReplied:
		n, err := cancelPendingSteps(ctx, tx, t.ID, l.ID, (SendSMSArgs{}).Kind(), (SendEmailArgs{}).Kind())
		if err != nil {
			return err
		}
		d.Logger.InfoContext(ctx, "customer replied; sequence stopped",
			slog.String("tenant_id", t.ID.String()), slog.String("lead_id", l.ID.String()), slog.Int("cancelled", n))
		if t.NotifyEmail != "" && notify {
			if _, err := client.InsertTx(ctx, tx, NotifyShopArgs{TenantID: t.ID, LeadID: l.ID, MessageSID: in.ProviderID}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// inboundKind is Twilio's reading of a keyword when it gave one
// (optOutType, with Advanced Opt-Out on), else ours.
func inboundKind(optOutType, body string) lead.InboundKind {
	switch strings.ToUpper(optOutType) {
	case "STOP":
		return lead.InboundStop
	case "START":
		return lead.InboundStart
	case "HELP":
		return lead.InboundHelp
	}
	return lead.ClassifyInbound(body)
}

// loadInbound reads the tenant and its stored inbound message inboundID
// for the job that acts on it. A message handled before completes the job
// here (in is nil then): a retry or a duplicate changes nothing.
func loadInbound[T river.JobArgs](ctx context.Context, d *Deps, job *river.Job[T], tenantID uuid.UUID, inboundID int64) (lead.Tenant, *store.InboundMessage, error) {
	st := store.New(d.Pool)
	tenant, err := loadTenant(ctx, st, tenantID, evenDisabled)
	if err != nil {
		return lead.Tenant{}, nil, err
	}
	in, err := st.GetInbound(ctx, tenantID, inboundID)
	if err != nil {
		return lead.Tenant{}, nil, cancelIfNotFound(err)
	}
	if !in.HandledAt.IsZero() {
		return lead.Tenant{}, nil, d.inTx(ctx, func(tx pgx.Tx) error { return completeTx(ctx, tx, job) })
	}
	return tenant, &in, nil
}
