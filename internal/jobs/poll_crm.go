package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// PollCRMArgs lists what changed in one tenant's CRM in [Since, Until).
type PollCRMArgs struct {
	TenantID uuid.UUID `json:"tenant_id" river:"unique"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	// Live polls come from the scheduler and advance the tenant's cursor;
	// backfill polls (Live false) cover a fixed historic window and do not.
	Live bool `json:"live" river:"unique"`
	// SendMessages says whether new leads found get their messages.
	// Backfills leave it off unless the operator asks.
	SendMessages bool `json:"send_messages"`
}

// Kind is the River job kind.
func (PollCRMArgs) Kind() string { return "poll_crm" }

// InsertOpts: at most one live poll per tenant is waiting or running at a
// time (a slow CRM must not pile them up; the next one starts from the
// cursor the last one left). Backfill windows are not unique, so they can
// be bulk-inserted with COPY.
func (a PollCRMArgs) InsertOpts() river.InsertOpts {
	opts := river.InsertOpts{Queue: QueueCRM, MaxAttempts: 10}
	if a.Live {
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}}
	} else {
		// Historic work has its own queue, so it never holds a worker a
		// live poll waits for.
		opts.Queue, opts.Priority = QueueCRMBackfill, 4
	}
	return opts
}

// PollCRMWorker runs poll_crm.
type PollCRMWorker struct {
	river.WorkerDefaults[PollCRMArgs]
	deps *Deps
}

// NewPollCRMWorker returns the worker.
func NewPollCRMWorker(deps *Deps) *PollCRMWorker { return &PollCRMWorker{deps: deps} }

// Work lists the window and inserts one ingest_lead per inquiry (unique per
// tenant, record and CRM version, so overlapping windows and repeated polls
// ingest each version once), then advances the cursor of a live poll, all
// in one transaction with the job's completion.
func (w *PollCRMWorker) Work(ctx context.Context, job *river.Job[PollCRMArgs]) error {
	a := job.Args
	tenant, err := store.New(w.deps.Pool).GetTenant(ctx, a.TenantID)
	if err != nil {
		return cancelIfNotFound(err)
	}
	if !tenant.Enabled {
		return river.JobCancel(fmt.Errorf("tenant %s is disabled", tenant.Name))
	}
	adapter, err := w.deps.adapter(tenant)
	if err != nil {
		return err
	}
	inquiries, err := adapter.FetchNewLeads(ctx, a.Since, a.Until)
	if err != nil {
		return crmError(job.JobRow, fmt.Sprintf("error polling %s for tenant %s", tenant.CRMKind, tenant.Name), err)
	}

	params := make([]river.InsertManyParams, 0, len(inquiries))
	for _, in := range inquiries {
		if in.ExternalID == "" {
			// Not even an id: nothing can be ingested or retried. Say so
			// loudly; the record must be fixed in the CRM.
			w.deps.Logger.WarnContext(ctx, "skipping CRM record without an id",
				slog.String("tenant", tenant.Name), slog.String("problem", lead.MaskContacts(fmt.Sprint(in.Problem))))
			continue
		}
		params = append(params, river.InsertManyParams{Args: IngestLeadArgs{
			TenantID: a.TenantID, ExternalID: in.ExternalID, Version: in.Version, SendMessages: a.SendMessages,
			Historic: !a.Live,
		}})
	}
	return w.deps.inTx(ctx, func(tx pgx.Tx) error {
		if len(params) > 0 {
			client := river.ClientFromContext[pgx.Tx](ctx)
			if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
				return fmt.Errorf("error inserting ingest jobs: %w", err)
			}
		}
		if a.Live {
			if err := store.New(tx).AdvancePollCursor(ctx, a.TenantID, a.Until); err != nil {
				return err
			}
		}
		return completeTx(ctx, tx, job)
	})
}

// cancelIfNotFound cancels a job whose tenant is gone; other errors retry.
func cancelIfNotFound(err error) error {
	if isNotFound(err) {
		return river.JobCancel(err)
	}
	return err
}
