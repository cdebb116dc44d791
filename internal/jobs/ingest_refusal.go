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
	version, ok := refusedVersion(a, err)
	if !ok {
		return err
	}
	if rErr := store.New(d.Pool).RefuseRecord(ctx, a.TenantID, a.ExternalID, version, errors.Unwrap(cancel).Error()); rErr != nil {
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

// refusedVersionError is an ingest's refusal of the record as it fetched
// it, at that record's own version.
type refusedVersionError struct {
	version int64
	err     error
}

func (e *refusedVersionError) Error() string { return e.err.Error() }
func (e *refusedVersionError) Unwrap() error { return e.err }

// refusedVersion is the version of the record a cancelled ingest refused,
// and whether one is known well enough to skip it in later polls: a
// refusal that loses a lead is worse than one more cancelled ingest.
//   - A record fetched and found invalid, or naming a customer the CRM
//     does not have (refusedVersionError): the version fetched.
//   - A record the CRM could not give in a readable shape: the version the
//     job was given, when a poll listed it (the record at that version
//     stays unreadable). Not for a webhook's ingest of the latest.
//   - A record the CRM answers 404 or another 4xx for: nothing is
//     recorded. Just after a webhook the CRM may not serve the record yet,
//     and the version a webhook carried may be newer than any fetch saw;
//     skipping it in every later poll would lose the lead (a review found
//     the first version recorded the job's version for both).
func refusedVersion(a IngestLeadArgs, err error) (int64, bool) {
	var (
		refused *refusedVersionError
		invalid *crm.InvalidRecordError
	)
	switch {
	case !isBadRecord(err):
		return 0, false
	case errors.As(err, &refused):
		return refused.version, true
	case a.Latest:
		return 0, false
	case errors.As(err, &invalid):
		return a.Version, true
	}
	return 0, false
}
