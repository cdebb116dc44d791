package jobs

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// vehicleProblem says why a lead's vehicle could not be had, when that is
// a fact about the CRM's data (the record is gone, or cannot be read)
// rather than a failure worth retrying; ok is false for the latter (a 5xx,
// a rate limit), which retries or snoozes as any CRM call does. The reason
// names the CRM's error, never the customer's data.
func vehicleProblem(err error) (reason string, ok bool) {
	var invalid *crm.InvalidRecordError
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return "is not in the CRM any more (" + err.Error() + ")", true
	case errors.As(err, &invalid):
		return "cannot be read (" + invalid.Error() + ")", true
	}
	return "", false
}

// Postgres' answers to text it cannot store: a NUL byte or a sequence
// that is not UTF-8 in text (22021), \u0000 in jsonb (22P05). Retrying
// cannot change the data: the ingest used to spend its ten attempts on one
// and discard the lead without saying which field.
const (
	sqlStateInvalidByteSequence     = "22021"
	sqlStateUntranslatableCharacter = "22P05"
)

// cancelIfInvalidText turns Postgres' refusal of a lead's text into a
// cancel that names the field (Postgres names none), and passes any other
// error on to be retried. The decoders clean every text they read
// (lead.CleanText), so this is the net under them: a field they miss is
// named, not retried ten times.
func cancelIfInvalidText(externalID string, l lead.Lead, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || (pgErr.Code != sqlStateInvalidByteSequence && pgErr.Code != sqlStateUntranslatableCharacter) {
		return err
	}
	field := l.InvalidTextField()
	if field == "" {
		field = "(a text field)"
	}
	return river.JobCancel(fmt.Errorf("lead %s: %w", externalID, &lead.ValidationError{
		Field:  field,
		Reason: "holds a NUL byte or text that is not UTF-8, which Postgres refuses (SQLSTATE " + pgErr.Code + "); fix it in the CRM",
	}))
}
