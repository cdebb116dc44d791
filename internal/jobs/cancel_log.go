package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/google/uuid"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// A cancelled job is the one outcome an operator cannot learn from a
// retry: River will never run it again, and before this line existed the
// only trace of "tenant X's CRM key is wrong" or "record Y is malformed" was
// River UI. River itself logs an explicit cancel at debug only (its
// jobexecutor's "Job cancelled explicitly"), and the ErrorHandler is not
// called for one, so the execution recorder, which sees every outcome,
// logs it: once, at warn, with what the operator needs to find and fix it.

// cancelLogMessage is the message of the line logged for every cancel.
const cancelLogMessage = "job cancelled; River will not run it again"

// recordArgs are the args fields that name the record a job is about. Only
// these are logged: every one is an id (the CRM's, ours or the provider's)
// or a step name. Other args fields can hold a customer's address or words
// (handle_inbound's from, to and body), and River's tables are the place
// for those, not the log.
var recordArgs = []string{"external_id", "lead_id", "message_id", "message_sid", "step"}

// logCancel writes the line of one cancelled run of job; err is what the
// worker returned (a river.JobCancel).
func (r *ExecutionRecorder) logCancel(ctx context.Context, job *rivertype.JobRow, tenantID uuid.UUID, err error) {
	// The reason is the worker's own error, without River's
	// "JobCancelError: " wrapping.
	reason := err.Error()
	var cancel *rivertype.JobCancelError
	if errors.As(err, &cancel) && cancel.Unwrap() != nil {
		reason = cancel.Unwrap().Error()
	}
	attrs := []any{
		slog.String("kind", job.Kind),
		slog.Int64("job_id", job.ID),
		slog.Int("attempt", job.Attempt),
	}
	if tenantID != uuid.Nil {
		attrs = append(attrs, slog.String("tenant_id", tenantID.String()))
	}
	var args map[string]json.RawMessage
	_ = json.Unmarshal(job.EncodedArgs, &args)
	for _, key := range recordArgs {
		raw, ok := args[key]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil || s == "" {
			continue
		}
		attrs = append(attrs, slog.String(key, s))
	}
	attrs = append(attrs, slog.String("reason", lead.MaskContacts(reason)))
	r.deps.Logger.WarnContext(ctx, cancelLogMessage, attrs...)
}
