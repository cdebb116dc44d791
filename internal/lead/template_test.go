package lead_test

import (
	"errors"
	"testing"
	"text/template"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestRenderTemplateNamesTheUnknownField(t *testing.T) {
	t.Parallel()

	data := lead.MessageData{Lead: lead.Lead{FirstName: "Ann"}, Shop: lead.Shop{Name: "Maple"}}
	tests := []struct {
		name, text string
		want       string
	}{
		{"day3.email_subject", "Hi {{.Lead.Nickname}}", "template day3.email_subject: unknown field Nickname (in {{.Lead.Nickname}}, line 1 column 10)"},
		{"sms", "{{.Nope}}", "template sms: unknown field Nope (in {{.Nope}}, line 1 column 2)"},
		{"email_text", "Hi,\n\n{{.Shop.Owner}}", "template email_text: unknown field Owner (in {{.Shop.Owner}}, line 3 column 7)"},
		{"day1.sms", "{{with .Lead}}{{.Nick}}{{end}}", "template day1.sms: unknown field Nick (in {{.Nick}}, line 1 column 16)"},
		{"day1.sms", "{{.Lead.FirstName.Initial}}", "template day1.sms: unknown field Initial (in {{.Lead.FirstName.Initial}}, line 1 column 7)"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()

			_, err := lead.RenderTemplate(tt.name, tt.text, data)
			require.EqualError(t, err, tt.want)
			var exec template.ExecError
			require.True(t, errors.As(err, &exec), "the text/template error is still underneath")
		})
	}
}

func TestCheckTemplate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, text string
		wantErr    string
	}{
		{"sms", "", ""},
		{"sms", "Hi {{.Lead.FirstName}} about your {{.Vehicle.Name}} from {{.Shop.Name}}", ""},
		{"sms", "{{if .Lead.FirstName}}Hi {{.Lead.FirstName}}{{else}}Hello{{end}}", ""},
		{"sms", "Hi{{with .Lead.FirstName}} {{.}}{{end}}", ""},
		// Only an empty lead takes the else branch.
		{"day1.sms", "{{if .Lead.FirstName}}Hi {{.Lead.FirstName}}{{else}}Hi {{.Lead.Nick}}{{end}}", "template day1.sms: unknown field Nick"},
		// Only a full lead takes the if branch.
		{"day1.sms", "{{if .Lead.Summary}}{{.Lead.Complaint}}{{end}}", "template day1.sms: unknown field Complaint"},
		{"email_subject", "{{", "template email_subject: template: email_subject:1: unclosed action"},
		{"sms", "Hi.{{with .BookingURL}} Book a time online: {{.}}{{end}}", ""},
		// Only the full sample has a booking link, so only it takes the
		// with branch.
		{"sms", "{{with .BookingURL}}{{$.Lead.Nick}}{{end}}", "template sms: unknown field Nick"},
		{"sms", "{{.BookingLink}}", "template sms: unknown field BookingLink"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.text, func(t *testing.T) {
			t.Parallel()

			err := lead.CheckTemplate(tt.name, tt.text)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
