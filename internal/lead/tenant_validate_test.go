package lead_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestTenantValidate(t *testing.T) {
	t.Parallel()

	known := []string{"shopmonkey"}
	const apiKey = "sk_live_do_not_print_me"
	sealed := lead.SealedSecret{KeyID: "k1", Ciphertext: []byte(apiKey)}
	valid := func() lead.Tenant {
		return lead.Tenant{
			Name:          "Main Street Auto",
			CRMKind:       "shopmonkey",
			CRMLocationID: "loc-1",
			CRMSecret:     sealed,
			TimeZone:      "America/Chicago",
			PollInterval:  time.Minute,
			SMSFrom:       "+13125550123",
			EmailFrom:     "shop@example.com",
		}
	}

	tests := []struct {
		name   string
		mutate func(*lead.Tenant)
		// fields are the fields named by the problems, in order; none means
		// the tenant is valid.
		fields []string
	}{
		{"Valid", func(*lead.Tenant) {}, nil},
		{"ValidMessagingServiceOnly", func(tn *lead.Tenant) {
			tn.SMSFrom = ""
			tn.MessagingServiceSID = "MG" + strings.Repeat("0a", 16)
		}, nil},
		{"ValidBounds", func(tn *lead.Tenant) {
			tn.Name = strings.Repeat("n", 100)
			tn.PollInterval = 5 * time.Second
		}, nil},
		{"ValidTemplates", func(tn *lead.Tenant) {
			tn.Templates = lead.Templates{SMS: "Hi {{.Lead.FirstName}}. Reply STOP to opt out", EmailSubject: "{{.Shop.Name}}", EmailText: "About your {{.Vehicle.Name}}"}
		}, nil},
		{"NameEmpty", func(tn *lead.Tenant) { tn.Name = " " }, []string{"name"}},
		{"NameTooLong", func(tn *lead.Tenant) { tn.Name = strings.Repeat("n", 101) }, []string{"name"}},
		{"NameSpaces", func(tn *lead.Tenant) { tn.Name = " Auto" }, []string{"name"}},
		{"NameUUID", func(tn *lead.Tenant) { tn.Name = "0b5a2f3e-1c1d-4d6a-9f61-0a4f1f0b9c11" }, []string{"name"}},
		{"CRMKindUnknown", func(tn *lead.Tenant) { tn.CRMKind = "salesforce" }, []string{"crm_kind"}},
		{"LocationMissing", func(tn *lead.Tenant) { tn.CRMLocationID = "" }, []string{"crm_location_id"}},
		{"SecretMissing", func(tn *lead.Tenant) { tn.CRMSecret = lead.SealedSecret{} }, []string{"crm_secret"}},
		{"ValidBaseURLAndQuietHours", func(tn *lead.Tenant) {
			tn.CRMBaseURL = "https://sandbox.tekmetric.com"
			tn.QuietHours = lead.QuietHours{Start: 9 * 60, End: 20*60 + 30}
			tn.CRMRateLimit = 300
		}, nil},
		{"BaseURLNotHTTP", func(tn *lead.Tenant) { tn.CRMBaseURL = "ftp://example.com" }, []string{"crm_base_url"}},
		{"BaseURLWithCredentials", func(tn *lead.Tenant) { tn.CRMBaseURL = "https://user:pw@example.com" }, []string{"crm_base_url"}},
		{"RateLimitNegative", func(tn *lead.Tenant) { tn.CRMRateLimit = -1 }, []string{"crm_rate_limit"}},
		{"QuietHoursBackwards", func(tn *lead.Tenant) { tn.QuietHours = lead.QuietHours{Start: 21 * 60, End: 8 * 60} }, []string{"quiet_hours"}},
		{"TimeZoneMissing", func(tn *lead.Tenant) { tn.TimeZone = "" }, []string{"time_zone"}},
		{"TimeZoneLocal", func(tn *lead.Tenant) { tn.TimeZone = "Local" }, []string{"time_zone"}},
		{"TimeZoneUnknown", func(tn *lead.Tenant) { tn.TimeZone = "Mars/Olympus" }, []string{"time_zone"}},
		{"PollIntervalShort", func(tn *lead.Tenant) { tn.PollInterval = 4 * time.Second }, []string{"poll_interval"}},
		{"PollIntervalLong", func(tn *lead.Tenant) { tn.PollInterval = 24*time.Hour + time.Second }, []string{"poll_interval"}},
		{"PollIntervalFraction", func(tn *lead.Tenant) { tn.PollInterval = 5500 * time.Millisecond }, []string{"poll_interval"}},
		{"SMSFromInvalid", func(tn *lead.Tenant) { tn.SMSFrom = "call me" }, []string{"sms_from"}},
		{"SMSFromNotE164", func(tn *lead.Tenant) { tn.SMSFrom = "(312) 555-0123" }, []string{"sms_from"}},
		{"MessagingServiceSIDInvalid", func(tn *lead.Tenant) { tn.MessagingServiceSID = "MG123" }, []string{"messaging_service_sid"}},
		{"MessagingServiceSIDNotHex", func(tn *lead.Tenant) { tn.MessagingServiceSID = "MG" + strings.Repeat("z", 32) }, []string{"messaging_service_sid"}},
		{"NoSender", func(tn *lead.Tenant) { tn.SMSFrom = "" }, []string{"sms_from"}},
		{"EmailFromInvalid", func(tn *lead.Tenant) { tn.EmailFrom = "Shop <shop@example.com>" }, []string{"email_from"}},
		{"TemplateMissingField", func(tn *lead.Tenant) { tn.Templates.SMS = "Hi {{.Lead.Nickname}}" }, []string{"templates.sms"}},
		{"TemplatesBroken", func(tn *lead.Tenant) {
			tn.Templates.EmailSubject = "{{"
			tn.Templates.EmailText = "{{.Nope}}"
		}, []string{"templates.email_subject", "templates.email_text"}},
		{"EverythingAtOnce", func(tn *lead.Tenant) { *tn = lead.Tenant{CRMRateLimit: -5} }, []string{
			"name", "crm_kind", "crm_location_id", "crm_secret", "crm_rate_limit", "time_zone", "poll_interval", "sms_from",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tn := valid()
			tt.mutate(&tn)
			err := tn.Validate(known)
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.NotContains(t, err.Error(), apiKey)

			var fields []string
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var vErr *lead.ValidationError
				require.True(t, errors.As(e, &vErr), "every problem is a *lead.ValidationError, got %T", e)
				require.NotEmpty(t, vErr.Reason)
				fields = append(fields, vErr.Field)
			}
			require.Equal(t, tt.fields, fields)
		})
	}
}
