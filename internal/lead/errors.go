package lead

import "fmt"

// ValidationError says which field of an input is wrong and why. Jobs that
// meet one cancel themselves (retrying cannot fix bad data) and record it.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}
