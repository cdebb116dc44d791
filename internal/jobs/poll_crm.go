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
	// BackfillID is the backfill (`enqueue backfill`) a historic poll
	// belongs to, so its progress can be counted from its jobs; 0, and
	// left out of the JSON, for live polls and backfills older than it.
	BackfillID int64 `json:"backfill_id,omitempty"`
}

// Kind is the River job kind.
func (PollCRMArgs) Kind() string { return "poll_crm" }

// InsertOpts: at most one live poll per tenant is waiting or running at a
// time (a slow CRM must not pile them up; the next one starts from the
// cursor the last one left). Backfill windows are not unique, so they can
// be bulk-inserted with COPY.
func (a PollCRMArgs) InsertOpts() river.InsertOpts {
	opts := river.InsertOpts{Queue: QueueCRM, MaxAttempts: callMaxAttempts}
	if a.Live {
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: unfinishedStates()}
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
// in one transaction with the job's completion. A version ingest refused
// is not ingested again. A CRM that rejects the credentials flags the
// tenant and backs its polls off (credentialsRefused); a poll that
// succeeds clears the flag.
func (w *PollCRMWorker) Work(ctx context.Context, job *river.Job[PollCRMArgs]) error {
	a := job.Args
	tenant, err := loadTenant(ctx, store.New(w.deps.Pool), a.TenantID, enabledOnly)
	if err != nil {
		return err
	}
	adapter, err := w.deps.adapter(tenant)
	if err != nil {
		return err
	}
	inquiries, err := adapter.FetchNewLeads(ctx, a.Since, a.Until)
	if err != nil {
		if mErr := w.deps.credentialsRefused(ctx, tenant.ID, err); mErr != nil {
			return mErr
		}
		return crmError(job.JobRow, fmt.Sprintf("error polling %s for tenant %s", tenant.CRMKind, tenant.Name), err)
	}
	cleared := false
	err = w.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		params, err := w.ingests(ctx, st, tenant, a, inquiries)
		if err != nil {
			return err
		}
		if len(params) > 0 {
			client := river.ClientFromContext[pgx.Tx](ctx)
			if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
				return fmt.Errorf("error inserting ingest jobs: %w", err)
			}
		}
		if a.Live {
			if err := st.AdvancePollCursor(ctx, a.TenantID, a.Until); err != nil {
				return err
			}
		}
		if tenant.NeedsAttention {
			// The CRM took the credentials again (fixed in the CRM itself):
			// polls resume their interval.
			if cleared, err = st.ClearTenantAttention(ctx, a.TenantID); err != nil {
				return err
			}
		}
		if a.BackfillID != 0 && len(params) > 0 {
			// Counted with the completion below, so a retried poll never
			// counts its leads twice (`enqueue backfill --wait` shows them).
			if err := st.AddBackfillLeads(ctx, a.TenantID, a.BackfillID, len(params)); err != nil {
				return err
			}
		}
		return completeTx(ctx, tx, job)
	})
	if err == nil && cleared {
		w.deps.Logger.InfoContext(ctx, "tenant no longer needs attention: the CRM accepted its credentials",
			slog.String("tenant", tenant.Name), slog.String("tenant_id", tenant.ID.String()))
	}
	return err
}

// ingests are the ingest_lead jobs of the inquiries a poll listed: one per
// inquiry with an id, but none for a version ingest refused before.
func (w *PollCRMWorker) ingests(ctx context.Context, st *store.Store, tenant lead.Tenant, a PollCRMArgs, inquiries []lead.Inquiry) ([]river.InsertManyParams, error) {
	ids := make([]string, 0, len(inquiries))
	for _, in := range inquiries {
		if in.ExternalID != "" {
			ids = append(ids, in.ExternalID)
		}
	}
	refused, err := st.RefusedVersions(ctx, tenant.ID, ids)
	if err != nil {
		return nil, err
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
		if v, ok := refused[in.ExternalID]; ok && v == in.Version {
			// Ingest refused this very version (the reason is in
			// refused_records). River's uniqueness does not cover a
			// cancelled job: every overlapping poll ingested it again (6-7
			// cancelled ingests per bad record in 35 s). A new version is
			// tried.
			continue
		}
		params = append(params, river.InsertManyParams{Args: IngestLeadArgs{
			TenantID: a.TenantID, ExternalID: in.ExternalID, Version: in.Version, SendMessages: a.SendMessages,
			Historic: !a.Live,
		}})
	}
	return params, nil
}
