package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// setSequence sets the tenant's sequence from what --sequence-file held:
// nothing means the default sequence (nil), anything else must be a JSON
// array of steps in lead.Step's form. That the steps make sense is
// Validate's to say.
func setSequence(t *lead.Tenant, text string) error {
	if text == "" {
		t.Sequence = nil
		return nil
	}
	seq, err := parseSequence([]byte(text))
	if err != nil {
		return err
	}
	t.Sequence = seq
	return nil
}

// parseSequence reads a JSON array of steps. Each step is decoded on its
// own, so that every step that does not decode is reported, as a
// *lead.ValidationError whose field names it ("sequence[2]") as Validate
// names the steps' other problems.
func parseSequence(data []byte) (lead.Sequence, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonProblem(data, err)
	}
	switch {
	case raw == nil:
		return nil, errors.New(`holds null, not an array of steps ("--sequence-file default" is the default sequence)`)
	case len(raw) == 0:
		return nil, errors.New(`holds no steps: give at least one, or "--sequence-file default" for the default sequence`)
	}
	seq := make(lead.Sequence, len(raw))
	var errs []error
	for i, r := range raw {
		if err := decodeStep(r, &seq[i]); err != nil {
			errs = append(errs, &lead.ValidationError{Field: fmt.Sprintf("sequence[%d]", i), Reason: err.Error()})
		}
	}
	return seq, errors.Join(errs...)
}

// decodeStep decodes one step, saying what is wrong in the file's terms
// rather than in Go's ("must be a string", not "cannot unmarshal number
// into Go struct field .plain.name").
func decodeStep(raw json.RawMessage, st *lead.Step) error {
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("is %s, must be an object such as {\"name\": \"day2\", \"channel\": \"sms\", \"delay\": \"48h\"}", jsonKind(trimmed))
	}
	err := json.Unmarshal(raw, st)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if i := strings.LastIndex(field, "."); i >= 0 {
			field = field[i+1:]
		}
		err = fmt.Errorf("%s is a JSON %s, must be a %s", strconv.Quote(field), typeErr.Value, jsonTypeName(typeErr.Type.Kind().String()))
		if st.Name != "" {
			err = fmt.Errorf("step %s: %w", strconv.Quote(st.Name), err)
		}
	}
	return err
}

// jsonProblem says why a sequence file is not an array, with the line and
// column of a syntax error: the file is one an operator edits by hand.
func jsonProblem(data []byte, err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		line := 1 + bytes.Count(data[:syntaxErr.Offset], []byte("\n"))
		col := int(syntaxErr.Offset) - bytes.LastIndexByte(data[:syntaxErr.Offset], '\n') - 1
		return fmt.Errorf("is not valid JSON: line %d column %d: %s", line, col, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.As(err, &typeErr):
		return fmt.Errorf("holds a JSON %s, must be an array of steps: [{\"name\": \"initial\", \"channel\": \"sms\"}, ...]", typeErr.Value)
	}
	return fmt.Errorf("is not a JSON array of steps: %w", err)
}

func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "string":
		return "string"
	}
	return "number"
}

// sequenceSummary is the sequence setting on one line, for show and for
// update's list of changes; writeSequence prints the steps.
func sequenceSummary(t lead.Tenant) string {
	if t.Sequence == nil {
		return fmt.Sprintf("default, %d messages", len(lead.DefaultSequence()))
	}
	return fmt.Sprintf("the shop's own, %d messages", len(t.Sequence))
}

// sameSequence reports whether two tenants send the same sequence the same
// way: a sequence given in full that equals the default is still the
// shop's own, because it no longer follows changes to the default.
func sameSequence(a, b lead.Tenant) bool {
	return (a.Sequence == nil) == (b.Sequence == nil) && slices.Equal(a.Sequence, b.Sequence)
}

// writeSequence prints t's sequence as a table, one message a line.
func writeSequence(w io.Writer, t lead.Tenant) error {
	fmt.Fprintf(w, "  sequence steps (%s):\n", sequenceSummary(t))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    STEP\tCHANNEL\tDELAY\tAFTER\tCONDITION\tWORDING")
	for _, st := range t.SequenceOrDefault() {
		after := "lead"
		if st.After == lead.AnchorPrevious {
			after = "previous step"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\n", st.Name, st.Channel, lead.FormatDelay(st.Delay), after, conditionText(st.Condition), wordingText(st))
	}
	return tw.Flush()
}

// delayText is a delay as the sequence file writes it: "72h", not
// "72h0m0s" (lead.Step.MarshalJSON's form).

func conditionText(c lead.StepCondition) string {
	switch c {
	case lead.ConditionAlways:
		return "always"
	case lead.ConditionNoReply:
		return "only if no reply"
	}
	return strconv.Quote(string(c))
}

// wordingText says whether a step has its own wording for the parts its
// channel uses, and what it falls back to otherwise (lead.Step.Wording).
func wordingText(st lead.Step) string {
	fallback := "default follow-up"
	if st.IsInitial() {
		fallback = "first message"
	}
	type part struct {
		name string
		own  bool
	}
	var parts []part
	switch st.Channel {
	case lead.ChannelSMS:
		parts = []part{{"text", st.Template.SMS != ""}}
	case lead.ChannelEmail:
		parts = []part{{"subject", st.Template.EmailSubject != ""}, {"body", st.Template.EmailText != ""}}
	}
	var own, theirs []string
	for _, p := range parts {
		if p.own {
			own = append(own, p.name)
		} else {
			theirs = append(theirs, p.name)
		}
	}
	switch {
	case len(theirs) == 0 && len(own) > 0:
		return "own"
	case len(own) == 0:
		return fallback
	}
	return "own " + strings.Join(own, ", ") + "; " + strings.Join(theirs, ", ") + ": " + fallback
}
