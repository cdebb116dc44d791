package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// IngestLeadArgs fetches one CRM record with its customer and vehicle and
// stores it as a lead.
type IngestLeadArgs struct {
	TenantID   uuid.UUID `json:"tenant_id" river:"unique"`
	ExternalID string    `json:"external_id" river:"unique"`
	// Version is the CRM's version of the record when it was listed; a
	// newer version is a new job, a repeat of the same one is not.
	Version int64 `json:"version" river:"unique"`
	// Latest marks an ingest of the record as it is when the job runs,
	// for a webhook that carried no version (Version is then 0, never a
	// clock reading: that made every delivery a job of its own). It is not
	// unique in River (see InsertOpts); polls never set it.
	Latest bool `json:"latest,omitempty"`
	// SendMessages is part of the unique key: a backfill's ingest (false)
	// of a version must not stop a live poll's ingest (true) of the same
	// version, which is the one that answers the customer.
	SendMessages bool `json:"send_messages" river:"unique"`
	// Historic marks an ingest found by a backfill: it runs on the
	// backfill queue, behind no live lead.
	Historic bool `json:"historic,omitempty"`
	// FoundVia is how the record came to us when the other fields cannot
	// tell: a webhook that carried a version, an operator's ingest. Empty
	// otherwise (and in jobs older than it); see foundVia. Not part of
	// the unique key: a poll and a webhook naming one version are one
	// ingest, and whichever came first found the lead.
	FoundVia lead.FoundVia `json:"found_via,omitempty"`
}

// foundVia is how the lead this job ingests was found, for the lead row
// it inserts (lead.FoundVia).
func (a IngestLeadArgs) foundVia() lead.FoundVia {
	switch {
	case a.FoundVia != "":
		return a.FoundVia.OrUnknown()
	case a.Latest:
		return lead.FoundViaWebhook
	case a.Historic:
		return lead.FoundViaBackfill
	}
	return lead.FoundViaPoll
}

// Kind is the River job kind.
func (IngestLeadArgs) Kind() string { return "ingest_lead" }

// InsertOpts makes ingest unique per tenant, record and version, in every
// state River keeps (completed included), so overlapping polls and repeated
// webhooks ingest a version once. A Latest ingest is not unique: a
// completed one must not swallow a later change of the record for as long
// as River keeps it. WebhookIntake.Ingest, its only inserter, keeps at most
// one live ingest pending per record instead.
func (a IngestLeadArgs) InsertOpts() river.InsertOpts {
	opts := river.InsertOpts{Queue: QueueCRM, MaxAttempts: callMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if a.Latest {
		opts.UniqueOpts = river.UniqueOpts{}
	}
	if a.Historic {
		opts.Queue, opts.Priority = QueueCRMBackfill, 4
	}
	return opts
}

// IngestLeadWorker runs ingest_lead.
type IngestLeadWorker struct {
	river.WorkerDefaults[IngestLeadArgs]
	deps *Deps
}

// NewIngestLeadWorker returns the worker.
func NewIngestLeadWorker(deps *Deps) *IngestLeadWorker { return &IngestLeadWorker{deps: deps} }

// freshLeadAge bounds how old a CRM record may be and still be texted when
// it is first seen. A months-old estimate that staff edit today shows up in
// a live poll; texting its customer "we got your request" would be wrong.
const freshLeadAge = 72 * time.Hour

// Work fetches, validates and upserts the lead; when this call created it,
// it also inserts the lead's first messages. A malformed record cancels
// the job with the field named: retrying cannot fix data. The refusal is
// remembered (recordRefusal), so polls do not ingest that version again.
func (w *IngestLeadWorker) Work(ctx context.Context, job *river.Job[IngestLeadArgs]) error {
	return w.deps.recordRefusal(ctx, job, w.ingest(ctx, job))
}

func (w *IngestLeadWorker) ingest(ctx context.Context, job *river.Job[IngestLeadArgs]) error {
	a := job.Args
	tenant, err := loadTenant(ctx, store.New(w.deps.Pool), a.TenantID, enabledOnly)
	if err != nil {
		return err
	}
	adapter, err := w.deps.adapter(tenant)
	if err != nil {
		return err
	}
	in, err := adapter.GetLead(ctx, a.ExternalID)
	if err != nil {
		return crmError(job.JobRow, "error fetching lead "+a.ExternalID, err)
	}
	if in.NotALead {
		if done, err := w.notALead(ctx, job, tenant, in); done || err != nil {
			return err
		}
	}
	l, err := fetchLead(ctx, job, adapter, tenant, in)
	if err != nil {
		return err
	}
	return w.storeLead(ctx, job, tenant, l)
}

// notALead handles a record a webhook named that is not an inquiry. It
// matters only to a lead we already have (its estimate was authorized,
// say): then it is ingested as usual (done false). Otherwise the job ends
// here (done true), booking the customer's open leads when staff booked
// them.
func (w *IngestLeadWorker) notALead(ctx context.Context, job *river.Job[IngestLeadArgs], tenant lead.Tenant, in lead.Inquiry) (done bool, err error) {
	exists, err := store.New(w.deps.Pool).LeadExists(ctx, tenant.ID, tenant.CRMKind, job.Args.ExternalID)
	if err != nil || exists {
		return false, err
	}
	return true, w.deps.inTx(ctx, func(tx pgx.Tx) error {
		if in.Source == lead.SourceAppointment && in.CustomerID != "" {
			// Staff booked this customer: any open lead of theirs is
			// booked, and its follow-ups stop.
			if err := bookCustomer(ctx, tx, tenant, in.CustomerID); err != nil {
				return err
			}
		}
		return completeTx(ctx, tx, job)
	})
}

// fetchLead fetches the record's customer and vehicle and builds the lead.
// A record the CRM cannot complete, or that does not make a valid lead,
// cancels the job with its version refused.
func fetchLead(ctx context.Context, job *river.Job[IngestLeadArgs], adapter crm.Adapter, tenant lead.Tenant, in lead.Inquiry) (lead.Lead, error) {
	a := job.Args
	customer, err := adapter.GetCustomer(ctx, in.CustomerID)
	if err != nil {
		action := fmt.Sprintf("error fetching customer %s of lead %s", in.CustomerID, a.ExternalID)
		if errors.Is(err, crm.ErrNotFound) {
			// The record as fetched names a customer the CRM does not
			// have: that version of it is refused.
			return lead.Lead{}, river.JobCancel(&refusedVersionError{version: in.Version, err: fmt.Errorf("%s: %w", action, err)})
		}
		return lead.Lead{}, crmError(job.JobRow, action, err)
	}
	var (
		vehicle  lead.Vehicle
		problems []*lead.ValidationError
	)
	if in.VehicleID != "" {
		if vehicle, err = adapter.GetVehicle(ctx, in.VehicleID); err != nil {
			// A lead needs a way to reach the customer, not a vehicle: one
			// the CRM no longer has (or cannot give in a usable shape) is
			// a problem recorded on the lead, which is messaged without it.
			// It used to cancel the whole ingest, so a customer with a
			// good phone and email was never contacted.
			reason, ok := vehicleProblem(err)
			if !ok {
				return lead.Lead{}, crmError(job.JobRow, fmt.Sprintf("error fetching vehicle %s of lead %s", in.VehicleID, a.ExternalID), err)
			}
			vehicle = lead.Vehicle{}
			problems = append(problems, &lead.ValidationError{Field: "vehicle", Reason: reason})
		}
	}
	l, err := lead.NewLeadIn(tenant.Compliance.Regions(), tenant.ID, tenant.CRMKind, in, customer, vehicle, problems...)
	if err != nil {
		// The refusal is of the version fetched, not of the one the job
		// was given (a webhook's may be newer than what the CRM serves).
		return lead.Lead{}, river.JobCancel(&refusedVersionError{version: in.Version, err: fmt.Errorf("lead %s: %w", a.ExternalID, err)})
	}
	return l, nil
}

// storeLead upserts the lead and, when this ingest is the one that
// answers the customer, schedules its sequence, in one transaction with
// the job's completion.
func (w *IngestLeadWorker) storeLead(ctx context.Context, job *river.Job[IngestLeadArgs], tenant lead.Tenant, l lead.Lead) error {
	a := job.Args
	l.FoundVia = a.foundVia()
	// When we read the consent fields: the fetch just now.
	l.ConsentEvidence = l.ConsentEvidence.Stamp(tenant.CRMKind, w.deps.now())
	return w.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		id, inserted, err := st.UpsertLead(ctx, tenant.ID, l, !a.SendMessages)
		if err != nil {
			return cancelIfInvalidText(a.ExternalID, l, err)
		}
		// Only the ingest that creates a lead schedules its messages, so
		// overlapping polls never message twice; a lead a backfill created
		// silently is claimed once by the first live ingest instead.
		schedule := inserted
		if !inserted && a.SendMessages {
			if schedule, err = st.ClaimBackfilledLead(ctx, tenant.ID, id); err != nil {
				return err
			}
		}
		if !inserted && l.Status == lead.StatusBooked {
			// The customer booked (an authorized estimate, a confirmed
			// appointment): the lead is booked now and its follow-ups stop,
			// ordered against the claims of its messages.
			if err := store.LockCustomer(ctx, tx, tenant.ID, "", []uuid.UUID{id}); err != nil {
				return err
			}
			if _, err := cancelPendingSteps(ctx, tx, tenant.ID, id, (SendSMSArgs{}).Kind(), (SendEmailArgs{}).Kind()); err != nil {
				return err
			}
		}
		fresh := l.CRMCreatedAt.IsZero() || w.deps.now().Sub(l.CRMCreatedAt) < freshLeadAge
		if schedule && a.SendMessages && fresh && l.Status == lead.StatusNew {
			if err := scheduleSequence(ctx, tx, tenant, id, l, w.deps.now()); err != nil {
				return err
			}
		}
		return completeTx(ctx, tx, job)
	})
}

// bookCustomer marks every open lead of the CRM customer booked and
// cancels their pending steps, in tx.
func bookCustomer(ctx context.Context, tx pgx.Tx, t lead.Tenant, customerID string) error {
	ids, err := store.New(tx).BookCustomerLeads(ctx, t.ID, t.CRMKind, customerID)
	if err != nil {
		return err
	}
	if err := store.LockCustomer(ctx, tx, t.ID, "", ids); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := cancelPendingSteps(ctx, tx, t.ID, id, (SendSMSArgs{}).Kind(), (SendEmailArgs{}).Kind()); err != nil {
			return err
		}
	}
	return nil
}

// scheduleSequence inserts one send job per step of the tenant's sequence,
// each scheduled for when its step is due. A step for an address the lead does not have is still
// scheduled: its send records it as skipped, so the lead's history says so.
func scheduleSequence(ctx context.Context, tx pgx.Tx, t lead.Tenant, leadID uuid.UUID, l lead.Lead, now time.Time) error {
	seq := t.SequenceOrDefault()
	// Counted from now (when the orchestrator first sees the lead, seconds
	// after the customer made it), not from the CRM's creation time: a
	// lead seen late (an outage, a backfill with messages) would otherwise
	// get every overdue step at once.
	due := seq.DueTimes(now)
	params := make([]river.InsertManyParams, 0, len(seq))
	for i, step := range seq {
		var opts *river.InsertOpts
		if due[i].After(now) {
			opts = &river.InsertOpts{ScheduledAt: due[i]}
		}
		var args river.JobArgs = SendSMSArgs{TenantID: t.ID, LeadID: leadID, Step: step.Name}
		if step.Channel == lead.ChannelEmail {
			args = SendEmailArgs{TenantID: t.ID, LeadID: leadID, Step: step.Name}
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := river.ClientFromContext[pgx.Tx](ctx).InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("error inserting the sequence of lead %s: %w", leadID, err)
	}
	return nil
}
