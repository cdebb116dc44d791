package lead

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits of a tenant's settings. The poll interval bounds match the
// database's CHECK on tenants.poll_interval_seconds, so a tenant that passes
// Validate is never refused by the insert.
const (
	MaxTenantNameLen = 100
	MinPollInterval  = 5 * time.Second
	MaxPollInterval  = 24 * time.Hour
	MaxCRMRateLimit  = 100_000
)

// Validate checks a tenant before it is saved and returns every problem at
// once, as errors.Join of *ValidationError (one per field), so that an
// operator fixes them all in one go. knownCRMKinds are the CRM kinds this
// build supports; they come from the CRM registry, which lead must not
// import (the registry checks each kind's own settings). No message ever
// contains a secret.
func (t Tenant) Validate(knownCRMKinds []string) error {
	var errs []error
	bad := func(field, reason string) {
		errs = append(errs, &ValidationError{Field: field, Reason: reason})
	}

	switch {
	case strings.TrimSpace(t.Name) == "":
		bad("name", "is required")
	case utf8.RuneCountInString(t.Name) > MaxTenantNameLen:
		bad("name", fmt.Sprintf("is %d characters long, at most %d allowed", utf8.RuneCountInString(t.Name), MaxTenantNameLen))
	case strings.TrimSpace(t.Name) != t.Name:
		bad("name", "must not start or end with spaces")
	default:
		// Operators name a tenant by its id or its name, ids first; a name
		// that is a UUID could never be found by name.
		if _, err := uuid.Parse(t.Name); err == nil {
			bad("name", "must not be a UUID")
		}
	}

	if !slices.Contains(knownCRMKinds, t.CRMKind) {
		bad("crm_kind", fmt.Sprintf("%s is not a known CRM (known: %s)", quote(t.CRMKind), strings.Join(knownCRMKinds, ", ")))
	}
	if strings.TrimSpace(t.CRMLocationID) == "" {
		bad("crm_location_id", "is required")
	}
	if t.CRMSecret.IsZero() {
		bad("crm_secret", "is required")
	}
	if t.CRMBaseURL != "" {
		if u, err := url.Parse(t.CRMBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			bad("crm_base_url", "must be an http(s) URL without a query, such as https://sandbox.tekmetric.com")
		} else if u.User != nil {
			bad("crm_base_url", "must not carry credentials")
		}
	}
	if t.CRMRateLimit < 0 || t.CRMRateLimit > MaxCRMRateLimit {
		bad("crm_rate_limit", fmt.Sprintf("is %d requests per minute, must be between 0 (the CRM's default) and %d", t.CRMRateLimit, MaxCRMRateLimit))
	}
	// The sending window: the hours (unset means the default), the state
	// rule, and that together they open on some day. The time zone is
	// checked below.
	if err := (SendWindow{Hours: t.QuietHours, Rule: t.QuietRule, Location: time.UTC}).Validate(); err != nil {
		for _, e := range unjoin(err) {
			var vErr *ValidationError
			if errors.As(e, &vErr) && vErr.Field == "time_zone" {
				continue
			}
			errs = append(errs, e)
		}
	}
	if t.Sequence != nil {
		errs = append(errs, unjoin(t.Sequence.Validate())...)
	}
	if t.HelpText != "" {
		if err := CheckTemplate("help_text", t.HelpText); err != nil {
			bad("help_text", err.Error())
		}
	}
	if t.NotifyEmail != "" {
		if _, err := ParseEmail(t.NotifyEmail); err != nil {
			bad("notify_email", err.Error())
		}
	}

	switch t.TimeZone {
	case "":
		bad("time_zone", "is required (an IANA name such as America/New_York)")
	case "Local":
		// "Local" is whatever machine runs the worker, not the shop.
		bad("time_zone", `must be an IANA name such as America/New_York, not "Local"`)
	default:
		if _, err := time.LoadLocation(t.TimeZone); err != nil {
			bad("time_zone", quote(t.TimeZone)+" is not a known IANA time zone (such as America/New_York)")
		}
	}

	switch {
	case t.PollInterval < MinPollInterval || t.PollInterval > MaxPollInterval:
		bad("poll_interval", fmt.Sprintf("is %s, must be between %s and %s", t.PollInterval, MinPollInterval, MaxPollInterval))
	case t.PollInterval%time.Second != 0:
		bad("poll_interval", fmt.Sprintf("is %s, must be whole seconds (it is stored in seconds)", t.PollInterval))
	}

	if t.SMSFrom != "" {
		if p, err := ParsePhoneNumber(t.SMSFrom); err != nil {
			bad("sms_from", err.Error())
		} else if string(p) != t.SMSFrom {
			bad("sms_from", "must be in E.164 form ("+string(p)+")")
		}
	}
	if t.MessagingServiceSID != "" && !isMessagingServiceSID(t.MessagingServiceSID) {
		bad("messaging_service_sid", `must be "MG" followed by 32 hex digits`)
	}
	if t.SMSFrom == "" && t.MessagingServiceSID == "" {
		bad("sms_from", "or messaging_service_sid is required: texts need a sender")
	}
	if t.EmailFrom != "" {
		if _, err := ParseEmail(t.EmailFrom); err != nil {
			bad("email_from", err.Error())
		}
	}

	// One template at a time, so a broken subject does not hide a broken
	// body.
	for _, tc := range []struct {
		field string
		tmpl  Templates
	}{
		{"templates.sms", Templates{SMS: t.Templates.SMS}},
		{"templates.email_subject", Templates{EmailSubject: t.Templates.EmailSubject}},
		{"templates.email_text", Templates{EmailText: t.Templates.EmailText}},
	} {
		if err := CheckTemplates(tc.tmpl); err != nil {
			bad(tc.field, err.Error())
		}
	}
	return errors.Join(errs...)
}

// unjoin splits an errors.Join into its parts (nil gives none).
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// isMessagingServiceSID reports whether s looks like a Twilio Messaging
// Service SID: "MG" and 32 hex digits.
func isMessagingServiceSID(s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, "MG") {
		return false
	}
	for _, c := range s[2:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
