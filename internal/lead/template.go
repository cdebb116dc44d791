package lead

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
)

// MessageData is what a message template can use: {{.Lead.FirstName}},
// {{.Vehicle.Name}}, {{.Shop.Name}} and the rest of these fields.
type MessageData struct {
	Lead    Lead
	Vehicle Vehicle
	Shop    Shop
	// BookingURL is the lead's link to the shop's booking page; empty when
	// the shop has booking switched off (or the message is not to the
	// customer), so templates write {{with .BookingURL}}...{{end}}.
	BookingURL string
}

// Shop is the tenant as its customers see it.
type Shop struct {
	Name     string
	TimeZone string
}

// NewMessageData gathers what templates see for a lead of tenant t.
func NewMessageData(t Tenant, l Lead) MessageData {
	return MessageData{Lead: l, Vehicle: l.Vehicle, Shop: Shop{Name: t.Name, TimeZone: t.TimeZone}}
}

// RenderTemplate executes one message template. name says which template
// it is (for example "sms" or "day3.email_subject") so that an error names
// it. A reference to a field that does not exist is an error, not an empty
// string: a customer must never get "Hi <no value>". That error names the
// field ("template day3.email_subject: unknown field Nickname (in
// {{.Lead.Nickname}}, line 1 column 10)"), because the one who reads it
// is an operator fixing a template, not a Go programmer.
func RenderTemplate(name, text string, data MessageData) (string, error) {
	tmpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		if uf, ok := asUnknownField(name, err); ok {
			return "", uf
		}
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// unknownFieldError is a template naming a field MessageData does not have.
type unknownFieldError struct {
	template string
	field    string
	// action is the template action that names it ("{{.Lead.Nickname}}")
	// and where is its position ("line 1 column 10"); both may be empty.
	action, where string
	err           error
}

func (e *unknownFieldError) Error() string {
	msg := "template " + e.template + ": unknown field " + e.field
	var at []string
	if e.action != "" {
		at = append(at, "in "+e.action)
	}
	if e.where != "" {
		at = append(at, e.where)
	}
	if len(at) > 0 {
		msg += " (" + strings.Join(at, ", ") + ")"
	}
	return msg
}

func (e *unknownFieldError) Unwrap() error { return e.err }

// asUnknownField recognises text/template's execution error for a missing
// field. text/template has no typed error for it, only the message
// `template: NAME:LINE:COL: executing "NAME" at <.Lead.Nickname>: can't
// evaluate field Nickname in type lead.Lead`; anything else is left alone.
func asUnknownField(name string, err error) (*unknownFieldError, bool) {
	var exec template.ExecError
	if !errors.As(err, &exec) {
		return nil, false
	}
	msg := exec.Error()
	_, rest, ok := strings.Cut(msg, "can't evaluate field ")
	if !ok {
		return nil, false
	}
	field, _, _ := strings.Cut(rest, " ")
	e := &unknownFieldError{template: name, field: field, err: err}
	if _, after, ok := strings.Cut(msg, " at <"); ok {
		if action, _, ok := strings.Cut(after, ">: "); ok {
			e.action = "{{" + action + "}}"
		}
	}
	if after, ok := strings.CutPrefix(msg, "template: "+name+":"); ok {
		if pos, _, ok := strings.Cut(after, ": "); ok {
			if line, col, ok := strings.Cut(pos, ":"); ok {
				e.where = "line " + line + " column " + col
			}
		}
	}
	return e, true
}

// CheckTemplates renders every template against sample leads, so that a
// tenant or config with a broken template is refused when it is saved or
// loaded, not when a customer is waiting. Errors name the template as
// "sms", "email_subject" or "email_text".
func CheckTemplates(t Templates) error {
	for _, tc := range []struct{ name, text string }{
		{"sms", t.SMS}, {"email_subject", t.EmailSubject}, {"email_text", t.EmailText},
	} {
		if err := CheckTemplate(tc.name, tc.text); err != nil {
			return err
		}
	}
	return nil
}

// CheckTemplate renders one template (named as RenderTemplate names it)
// against a full sample lead and against an empty one. The empty one
// matters: text/template only looks up the fields of the branch it takes,
// so "{{if .Lead.FirstName}}...{{else}}{{.Lead.Nick}}{{end}}" passes a
// full sample and fails for the first customer without a first name. An
// empty text is the fleet default and passes.
func CheckTemplate(name, text string) error {
	if text == "" {
		return nil
	}
	full := MessageData{
		Lead:    Lead{FirstName: "Ann", LastName: "Lee", Phone: "+13125550100", Email: "ann@example.com", Summary: "Brakes squeal", Source: SourceEstimate},
		Vehicle: Vehicle{Year: 2019, Make: "Honda", Model: "Civic"},
		Shop:    Shop{Name: "Sample Auto", TimeZone: "America/New_York"},
		// A link, so that {{.BookingURL}} and what a template writes
		// inside {{with .BookingURL}} are checked too.
		BookingURL: "https://leads.example.com/book/sample",
	}
	full.Lead.Vehicle = full.Vehicle
	for _, sample := range []MessageData{full, {}} {
		if _, err := RenderTemplate(name, text, sample); err != nil {
			return err
		}
	}
	return nil
}

// LiteralTemplate is a template that renders as text, whatever it holds:
// a person's words ({{ included) are never read as template actions.
func LiteralTemplate(text string) string {
	return "{{" + strconv.Quote(text) + "}}"
}
