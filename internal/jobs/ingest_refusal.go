package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// recordRefusal runs after an ingest with the error it ended with. An
// ingest cancelled because its record is bad input (a field missing or
// malformed, a customer or vehicle the CRM does not have, a 4xx the CRM
// gives that record) records the version it was given as refused, so
// that polls stop inserting ingests of it (PollCRMWorker.Work); one
// cancelled because the CRM rejected the credentials flags the tenant. If
// that record cannot be written, the ingest is retried (and refused again)
// rather than cancelled unrecorded.
func (d *Deps) recordRefusal(ctx context.Context, job *river.Job[IngestLeadArgs], err error) error {
	var cancel *rivertype.JobCancelError
	if !errors.As(err, &cancel) {
		return err
	}
	a := job.Args
	if errors.Is(err, crm.ErrUnauthorized) {
		if mErr := d.credentialsRefused(ctx, a.TenantID, err); mErr != nil {
			return fmt.Errorf("%w (and the tenant could not be flagged: %v)", errors.Unwrap(cancel), mErr)
		}
		return err
	}
	if !isBadRecord(err) {
		return err
	}
	if rErr := store.New(d.Pool).RefuseRecord(ctx, a.TenantID, a.ExternalID, a.Version, errors.Unwrap(cancel).Error()); rErr != nil {
		return fmt.Errorf("%w (retrying: the refusal could not be recorded: %v)", errors.Unwrap(cancel), rErr)
	}
	return err
}

// isBadRecord says a cancelled ingest's error blames its record, not the
// tenant: the tenant's own settings (tenantSettingsError), a disabled or
// deleted tenant and rejected credentials are not the record's fault, and
// a new version of the record would not fix them.
func isBadRecord(err error) bool {
	var (
		settings *tenantSettingsError
		invalid  *crm.InvalidRecordError
		vErr     *lead.ValidationError
		status   *crm.StatusError
	)
	switch {
	case errors.As(err, &settings), errors.Is(err, crm.ErrUnauthorized):
		return false
	case errors.As(err, &invalid), errors.As(err, &vErr), errors.Is(err, crm.ErrNotFound):
		return true
	case errors.As(err, &status):
		return !status.Temporary()
	}
	return false
}
