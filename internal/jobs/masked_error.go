package jobs

import (
	"fmt"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// maskedError is a job's error with the customers' phone numbers and email
// addresses in its text masked (lead.MaskContacts). River stores what a
// job's error says in river_job, which has no row-level security and which
// River UI shows, and logs it; providers quote the recipient in their own
// messages, so masking our own wording is not enough. Unwrap keeps the
// original: River still finds a cancel or a snooze in it, and the
// recorder a timeout.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }

func (e *maskedError) Unwrap() error { return e.err }

// maskError returns err with its text masked, or err itself when there is
// nothing to mask.
func maskError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := lead.MaskContacts(msg)
	if masked == msg {
		return err
	}
	return &maskedError{msg: masked, err: err}
}

// maskPanic is a panic's value as River may store and log it: the value
// itself when its text has nothing to mask, else the masked text. The
// recorder re-panics with it from its deferred call, where the panicking
// frames are still on the stack, so River's trace is the original one.
func maskPanic(p any) any {
	text := fmt.Sprint(p)
	if masked := lead.MaskContacts(text); masked != text {
		return masked
	}
	return p
}
