package lead

import (
	"fmt"
	"strings"
	"text/template"
)

// MessageData is what a message template can use: {{.Lead.FirstName}},
// {{.Vehicle.Name}}, {{.Shop.Name}} and the rest of these fields.
type MessageData struct {
	Lead    Lead
	Vehicle Vehicle
	Shop    Shop
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
// it is (for example "templates.sms") so that an error names it. A
// reference to a field that does not exist is an error, not an empty
// string: a customer must never get "Hi <no value>".
func RenderTemplate(name, text string, data MessageData) (string, error) {
	tmpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// CheckTemplates renders every template against a sample lead, so that a
// tenant or config with a broken template is refused when it is saved or
// loaded, not when a customer is waiting.
func CheckTemplates(t Templates) error {
	sample := MessageData{
		Lead:    Lead{FirstName: "Ann", LastName: "Lee", Phone: "+15555550100", Email: "ann@example.com", Summary: "Brakes squeal", Source: SourceEstimate},
		Vehicle: Vehicle{Year: 2019, Make: "Honda", Model: "Civic"},
		Shop:    Shop{Name: "Sample Auto", TimeZone: "America/New_York"},
	}
	sample.Lead.Vehicle = sample.Vehicle
	for _, tc := range []struct{ name, text string }{
		{"sms", t.SMS}, {"email_subject", t.EmailSubject}, {"email_text", t.EmailText},
	} {
		if tc.text == "" {
			continue
		}
		if _, err := RenderTemplate(tc.name, tc.text, sample); err != nil {
			return err
		}
	}
	return nil
}
