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
	var p tenantProblems
	t.checkName(&p)
	t.checkCRM(&p, knownCRMKinds)
	t.checkSending(&p)
	t.checkSchedule(&p)
	t.checkPhoneRegions(&p)
	t.checkSenders(&p)
	t.checkTemplates(&p)
	t.checkBooking(&p)
	t.checkEmailCompliance(&p)
	t.checkClosedDays(&p)
	t.checkTextCap(&p)
	t.checkOptOutWording(&p)
	return errors.Join(p.errs...)
}

// tenantProblems collects Validate's findings, one *ValidationError per
// field broken, in the order the checks run.
type tenantProblems struct {
	errs []error
}

func (p *tenantProblems) bad(field, reason string) {
	p.errs = append(p.errs, &ValidationError{Field: field, Reason: reason})
}

// checkName checks the name operators find the tenant by.
func (t Tenant) checkName(p *tenantProblems) {
	switch {
	case strings.TrimSpace(t.Name) == "":
		p.bad("name", "is required")
	case utf8.RuneCountInString(t.Name) > MaxTenantNameLen:
		p.bad("name", fmt.Sprintf("is %d characters long, at most %d allowed", utf8.RuneCountInString(t.Name), MaxTenantNameLen))
	case strings.TrimSpace(t.Name) != t.Name:
		p.bad("name", "must not start or end with spaces")
	default:
		// Operators name a tenant by its id or its name, ids first; a name
		// that is a UUID could never be found by name.
		if _, err := uuid.Parse(t.Name); err == nil {
			p.bad("name", "must not be a UUID")
		}
	}
}

// checkCRM checks which CRM the tenant uses and how it reaches it.
func (t Tenant) checkCRM(p *tenantProblems, knownCRMKinds []string) {
	if !slices.Contains(knownCRMKinds, t.CRMKind) {
		p.bad("crm_kind", fmt.Sprintf("%s is not a known CRM (known: %s)", quote(t.CRMKind), strings.Join(knownCRMKinds, ", ")))
	}
	if strings.TrimSpace(t.CRMLocationID) == "" {
		p.bad("crm_location_id", "is required")
	}
	if t.CRMSecret.IsZero() {
		p.bad("crm_secret", "is required")
	}
	if t.CRMBaseURL != "" {
		if u, err := url.Parse(t.CRMBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			p.bad("crm_base_url", "must be an http(s) URL without a query, such as https://sandbox.tekmetric.com")
		} else if u.User != nil {
			p.bad("crm_base_url", "must not carry credentials")
		}
	}
	if t.CRMRateLimit < 0 || t.CRMRateLimit > MaxCRMRateLimit {
		p.bad("crm_rate_limit", fmt.Sprintf("is %d requests per minute, must be between 0 (the CRM's default) and %d", t.CRMRateLimit, MaxCRMRateLimit))
	}
}

// checkSending checks when and what the tenant sends: the window, the
// sequence, the help text and where replies go.
func (t Tenant) checkSending(p *tenantProblems) {
	// The sending window: the hours (unset means the default), the state
	// rule, and that together they open on some day. The time zone is
	// checkSchedule's.
	if err := (SendWindow{Hours: t.QuietHours, Rule: t.QuietRule, Location: time.UTC}).Validate(); err != nil {
		for _, e := range unjoin(err) {
			var vErr *ValidationError
			if errors.As(e, &vErr) && vErr.Field == "time_zone" {
				continue
			}
			p.errs = append(p.errs, e)
		}
	}
	if t.Sequence != nil {
		p.errs = append(p.errs, unjoin(t.Sequence.Validate())...)
	}
	if t.HelpText != "" {
		if err := CheckTemplate("help_text", t.HelpText); err != nil {
			p.bad("help_text", err.Error())
		}
	}
	if t.NotifyEmail != "" {
		if _, err := ParseEmail(t.NotifyEmail); err != nil {
			p.bad("notify_email", err.Error())
		}
	}
	if t.ReplyDomain != "" {
		if err := CheckDomain(t.ReplyDomain); err != nil {
			p.bad("reply_domain", err.Error())
		}
	}
	if t.ShopPhone != "" {
		if _, err := t.ParsePhoneNumber(t.ShopPhone); err != nil {
			p.bad("shop_phone", err.Error())
		}
	}
	if t.MissedCallText != "" {
		if err := CheckTemplate("missed_call_text", t.MissedCallText); err != nil {
			p.bad("missed_call_text", err.Error())
		}
	}
}

// checkSchedule checks the tenant's time zone and poll interval.
func (t Tenant) checkSchedule(p *tenantProblems) {
	switch t.TimeZone {
	case "":
		p.bad("time_zone", "is required (an IANA name such as America/New_York)")
	case "Local":
		// "Local" is whatever machine runs the worker, not the shop.
		p.bad("time_zone", `must be an IANA name such as America/New_York, not "Local"`)
	default:
		if _, err := time.LoadLocation(t.TimeZone); err != nil {
			p.bad("time_zone", quote(t.TimeZone)+" is not a known IANA time zone (such as America/New_York)")
		}
	}

	switch {
	case t.PollInterval < MinPollInterval || t.PollInterval > MaxPollInterval:
		p.bad("poll_interval", fmt.Sprintf("is %s, must be between %s and %s", t.PollInterval, MinPollInterval, MaxPollInterval))
	case t.PollInterval%time.Second != 0:
		p.bad("poll_interval", fmt.Sprintf("is %s, must be whole seconds (it is stored in seconds)", t.PollInterval))
	}
}

// checkSenders checks the number, messaging service and address the tenant
// sends from.
func (t Tenant) checkSenders(p *tenantProblems) {
	if t.SMSFrom != "" {
		if num, err := t.ParsePhoneNumber(t.SMSFrom); err != nil {
			p.bad("sms_from", err.Error())
		} else if string(num) != t.SMSFrom {
			p.bad("sms_from", "must be in E.164 form ("+string(num)+")")
		}
	}
	if t.MessagingServiceSID != "" && !isMessagingServiceSID(t.MessagingServiceSID) {
		p.bad("messaging_service_sid", `must be "MG" followed by 32 hex digits`)
	}
	if t.SMSFrom == "" && t.MessagingServiceSID == "" {
		p.bad("sms_from", "or messaging_service_sid is required: texts need a sender")
	}
	if t.EmailFrom != "" {
		if _, err := ParseEmail(t.EmailFrom); err != nil {
			p.bad("email_from", err.Error())
		}
	}
}

// checkTemplates checks the tenant's own message templates.
func (t Tenant) checkTemplates(p *tenantProblems) {
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
			p.bad(tc.field, err.Error())
		}
	}
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
