package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// tenantSetting is one setting of a tenant as the command line sees it.
// The tenantSettings table is the one place that ties a flag to its
// lead.Tenant field: tenant add and update parse with it, the field names
// of validation errors become flags through it, and show and update print
// with it.
type tenantSetting struct {
	// flag is the flag's name without dashes; empty for the CRM secret,
	// whose flags are secretFlags.
	flag string
	// field is the setting's name in a *lead.ValidationError, from
	// lead.Tenant.Validate or the CRM registry.
	field string
	// label is how show and update print the setting.
	label string
	usage string
	// set parses a flag's value into t. It fails only on a value that does
	// not parse at all; one that parses but breaks a rule is left for
	// Validate, which knows the rules.
	set func(t *lead.Tenant, value string) error
	// show is the setting of t as printed; update compares it before and
	// after to say what changed.
	show func(t lead.Tenant) string
	// isBool makes the flag take no value (--disabled).
	isBool bool
	// fromFile makes the flag name a file whose contents are the value
	// (--sequence-file); "default", or an empty file, is the empty value.
	fromFile bool
	// same, when set, is what update compares instead of show: for a
	// setting whose show leaves out detail (a sequence's wording).
	same func(before, after lead.Tenant) bool
}

// tenantSettings are every setting of a tenant, in the order show prints
// them.
var tenantSettings = []tenantSetting{
	{
		flag: "name", field: "name", label: "name", usage: "the shop's name, unique in the fleet",
		set:  func(t *lead.Tenant, v string) error { t.Name = v; return nil },
		show: func(t lead.Tenant) string { return t.Name },
	},
	{
		flag: "crm", field: "crm_kind", label: "crm", usage: "the shop's CRM: shopmonkey or tekmetric",
		set:  func(t *lead.Tenant, v string) error { t.CRMKind = v; return nil },
		show: func(t lead.Tenant) string { return t.CRMKind },
	},
	{
		flag: "crm-base-url", field: "crm_base_url", label: "crm base url",
		usage: "the CRM's API root for this shop (a staging host, the sandbox); empty: the fleet's",
		set:   func(t *lead.Tenant, v string) error { t.CRMBaseURL = v; return nil },
		show:  func(t lead.Tenant) string { return orText(t.CRMBaseURL, "fleet default") },
	},
	{
		flag: "location-id", field: "crm_location_id", label: "location id",
		usage: "the ShopMonkey location id or the Tekmetric shop id",
		set:   func(t *lead.Tenant, v string) error { t.CRMLocationID = v; return nil },
		show:  func(t lead.Tenant) string { return t.CRMLocationID },
	},
	{
		flag: "client-id", field: "crm_client_id", label: "client id",
		usage: "the Tekmetric OAuth client id (not a secret)",
		set:   func(t *lead.Tenant, v string) error { t.CRMClientID = v; return nil },
		show:  func(t lead.Tenant) string { return orText(t.CRMClientID, "none") },
	},
	{
		field: "crm_secret", label: "crm secret",
		show: func(t lead.Tenant) string {
			if t.CRMSecret.IsZero() {
				return "none"
			}
			return "sealed with key " + t.CRMSecret.KeyID
		},
	},
	{
		field: "webhook_secret", label: "webhook secret",
		show: func(t lead.Tenant) string {
			if t.WebhookSecret.IsZero() {
				return "none"
			}
			return "sealed with key " + t.WebhookSecret.KeyID + unusedWebhookCredentialNote(t, crm.WebhookSigned)
		},
	},
	{
		field: "webhook_token", label: "webhook token",
		show: func(t lead.Tenant) string {
			if len(t.WebhookTokenHash) == 0 {
				return "not set"
			}
			return "set" + unusedWebhookCredentialNote(t, crm.WebhookURLToken)
		},
	},
	{
		flag: "rate-limit", field: "crm_rate_limit", label: "rate limit",
		usage: "CRM requests per minute across the fleet; 0 means the CRM's default",
		set: func(t *lead.Tenant, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number of requests per minute", v)
			}
			t.CRMRateLimit = n
			return nil
		},
		show: func(t lead.Tenant) string {
			if t.CRMRateLimit == 0 {
				return "the CRM's default"
			}
			return fmt.Sprintf("%d requests per minute", t.CRMRateLimit)
		},
	},
	{
		flag: "time-zone", field: "time_zone", label: "time zone", usage: "the shop's IANA time zone",
		set:  func(t *lead.Tenant, v string) error { t.TimeZone = v; return nil },
		show: func(t lead.Tenant) string { return t.TimeZone },
	},
	{
		flag: "quiet-hours", field: "quiet_hours", label: "quiet hours",
		usage: "when texts may go out, HH:MM-HH:MM in the shop's time zone",
		set: func(t *lead.Tenant, v string) error {
			q, err := parseQuietHours(v)
			if err != nil {
				return err
			}
			t.QuietHours = q
			return nil
		},
		// "Quiet hours" reads as when texts may not go out; the window is
		// when they may, so it shows as that.
		show: func(t lead.Tenant) string { return "texts only " + t.QuietHours.String() },
	},
	{
		flag: "quiet-rule", field: "quiet_rule", label: "quiet rule",
		usage: "the legal sending window on top of --quiet-hours: " + knownQuietRules() + " (none: the shop's hours only); default federal",
		set: func(t *lead.Tenant, v string) error {
			// Operators type "tx" as readily as "TX"; what matches no rule
			// is left as typed for Validate to name.
			t.QuietRule = lead.QuietRule(v)
			for _, r := range lead.KnownQuietRules() {
				if strings.EqualFold(v, string(r)) {
					t.QuietRule = r
				}
			}
			return nil
		},
		show: func(t lead.Tenant) string {
			if t.QuietRule == "" {
				return "federal (the default)"
			}
			return t.QuietRule.String()
		},
	},
	{
		field: "send_window", label: "sending window",
		show: sendWindowText,
	},
	{
		field: "customer_clock", label: "customer's clock",
		show: lead.Tenant.DescribeCustomerClock,
	},
	{
		flag: "poll-interval", field: "poll_interval", label: "poll interval", usage: "how often the CRM is polled",
		set: func(t *lead.Tenant, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 60s or 5m", v)
			}
			t.PollInterval = d
			return nil
		},
		show: func(t lead.Tenant) string { return t.PollInterval.String() },
	},
	{
		flag: "sms-from", field: "sms_from", label: "sms from", usage: "the number texts come from (E.164)",
		set: func(t *lead.Tenant, v string) error {
			// Stored in its normal form; what does not parse is left as
			// typed for Validate to name.
			if p, err := lead.ParseAnyPhoneNumber(v); err == nil {
				v = string(p)
			}
			t.SMSFrom = v
			return nil
		},
		show: func(t lead.Tenant) string { return orText(t.SMSFrom, "none") },
	},
	{
		flag: "messaging-service-sid", field: "messaging_service_sid", label: "messaging service sid",
		usage: "the Twilio Messaging Service texts go through (MG...)",
		set:   func(t *lead.Tenant, v string) error { t.MessagingServiceSID = v; return nil },
		show:  func(t lead.Tenant) string { return orText(t.MessagingServiceSID, "none") },
	},
	{
		flag: "email-from", field: "email_from", label: "email from", usage: "the address emails come from",
		set: func(t *lead.Tenant, v string) error {
			if e, err := lead.ParseEmail(v); err == nil {
				v = string(e)
			}
			t.EmailFrom = v
			return nil
		},
		show: func(t lead.Tenant) string { return orText(t.EmailFrom, "none") },
	},
	{
		flag: "email-from-name", field: "email_from_name", label: "email from name", usage: "the name emails come from",
		set:  func(t *lead.Tenant, v string) error { t.EmailFromName = v; return nil },
		show: func(t lead.Tenant) string { return orText(t.EmailFromName, "none") },
	},
	{
		flag: "sms-template", field: "templates.sms", label: "sms template",
		usage: "the shop's text template; empty: the fleet's",
		set:   func(t *lead.Tenant, v string) error { t.Templates.SMS = v; return nil },
		show:  func(t lead.Tenant) string { return templateText(t.Templates.SMS) },
	},
	{
		flag: "email-subject-template", field: "templates.email_subject", label: "email subject template",
		usage: "the shop's email subject template; empty: the fleet's",
		set:   func(t *lead.Tenant, v string) error { t.Templates.EmailSubject = v; return nil },
		show:  func(t lead.Tenant) string { return templateText(t.Templates.EmailSubject) },
	},
	{
		flag: "email-text-template", field: "templates.email_text", label: "email text template",
		usage: "the shop's email body template; empty: the fleet's",
		set:   func(t *lead.Tenant, v string) error { t.Templates.EmailText = v; return nil },
		show:  func(t lead.Tenant) string { return templateText(t.Templates.EmailText) },
	},
	{
		flag: "sequence-file", field: "sequence", label: "sequence", fromFile: true,
		usage: "JSON file of the shop's follow-up steps; \"default\" (or an empty file): the default sequence",
		set:   setSequence,
		show:  sequenceSummary,
		same:  sameSequence,
	},
	{
		flag: "booking-file", field: "booking", label: "online booking", fromFile: true,
		usage: "JSON file of the shop's online booking settings (README -> For shop owners -> Online booking); \"default\" (or an empty file): booking off",
		set:   setBooking,
		show:  bookingSummary,
	},
	{
		flag: "first-reply-without-consent", field: "first_reply_without_consent", label: "first reply without consent", isBool: true,
		usage: "let the first answer to an inquiry the customer started go without their consent (follow-ups still need it; update: =false turns it off)",
		set: func(t *lead.Tenant, v string) error {
			allow, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			t.AllowFirstReplyWithoutConsent = allow
			return nil
		},
		show: func(t lead.Tenant) string {
			if t.AllowFirstReplyWithoutConsent {
				return "allowed: the answer to the customer's own inquiry may go without consent; follow-ups need it"
			}
			return "not allowed: every message needs the customer's consent"
		},
	},
	{
		flag: "notify-email", field: "notify_email", label: "notify email",
		usage: "where the shop hears of a customer's reply; empty: nowhere",
		set: func(t *lead.Tenant, v string) error {
			if e, err := lead.ParseEmail(v); err == nil {
				v = string(e)
			}
			t.NotifyEmail = v
			return nil
		},
		show: func(t lead.Tenant) string { return orText(t.NotifyEmail, "none") },
	},
	{
		flag: "help-text", field: "help_text", label: "help text",
		usage: "the answer to a customer's HELP, a text template like --sms-template; empty: a default naming the shop",
		set:   func(t *lead.Tenant, v string) error { t.HelpText = v; return nil },
		show: func(t lead.Tenant) string {
			if t.HelpText == "" {
				return "default"
			}
			return strconv.Quote(t.HelpText)
		},
	},
	{
		flag: "reply-domain", field: "reply_domain", label: "reply domain",
		usage: "receiving domain of the shop's reply addresses (r+<token>@DOMAIN, MX at SendGrid Inbound Parse); empty: sendgrid.reply_domain",
		set: func(t *lead.Tenant, v string) error {
			t.ReplyDomain = strings.ToLower(strings.TrimSpace(v))
			return nil
		},
		show: func(t lead.Tenant) string { return orText(t.ReplyDomain, "the fleet's (sendgrid.reply_domain)") },
	},
	{
		flag: "shop-phone", field: "shop_phone", label: "shop phone",
		usage: "the shop's own phone, where calls to its Twilio number are forwarded; empty: calls are not answered",
		set: func(t *lead.Tenant, v string) error {
			if p, err := lead.ParseAnyPhoneNumber(v); err == nil {
				v = string(p)
			}
			t.ShopPhone = v
			return nil
		},
		show: func(t lead.Tenant) string { return orText(t.ShopPhone, "none: calls are not answered") },
	},
	{
		flag: "missed-call-text", field: "missed_call_text", label: "missed call text",
		usage: "the text a caller whose call was missed receives, a template like --sms-template; empty: the default",
		set:   func(t *lead.Tenant, v string) error { t.MissedCallText = v; return nil },
		show: func(t lead.Tenant) string {
			if t.MissedCallText == "" {
				return "default"
			}
			return strconv.Quote(t.MissedCallText)
		},
	},
	// What the shop's customer email carries (issue 14, item 5).
	{
		flag: "postal-address", field: "compliance.postal_address", label: "postal address",
		usage: "the shop's postal address, on one line, which every email to a customer carries (CAN-SPAM); without it no follow-up email goes",
		set:   func(t *lead.Tenant, v string) error { t.Compliance.PostalAddress = strings.TrimSpace(v); return nil },
		show: func(t lead.Tenant) string {
			return orText(t.Compliance.PostalAddress, "none: follow-up emails are skipped")
		},
	},
	{
		flag: "asm-group-id", field: "compliance.asm_group_id", label: "asm group",
		usage: "the shop's SendGrid unsubscribe group id (asm.group_id) for its emails; 0: none",
		set: func(t *lead.Tenant, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			t.Compliance.ASMGroupID = n
			return nil
		},
		show: func(t lead.Tenant) string {
			if t.Compliance.ASMGroupID == 0 {
				return "none"
			}
			return strconv.Itoa(t.Compliance.ASMGroupID)
		},
	},
	// The days the shop sends no follow-up (issue 14, item 3).
	{
		flag: "closed-days", field: "compliance.closed_days", label: "closed days",
		usage: "days no follow-up goes out, comma-separated YYYY-MM-DD on the shop's clock (2026-12-25,2027-01-01); one due then goes on the next open day; none: clears",
		set: func(t *lead.Tenant, v string) error {
			t.Compliance.ClosedDays = nil
			if v = strings.TrimSpace(v); v == "" || v == "none" {
				return nil
			}
			for _, day := range strings.Split(v, ",") {
				t.Compliance.ClosedDays = append(t.Compliance.ClosedDays, strings.TrimSpace(day))
			}
			return nil
		},
		show: func(t lead.Tenant) string {
			if len(t.Compliance.ClosedDays) == 0 {
				return "none"
			}
			return strings.Join(t.Compliance.ClosedDays, ", ")
		},
	},
	{
		flag: "answer-on-closed-days", field: "compliance.answer_on_closed_days", label: "answer on closed days", isBool: true,
		usage: "the first answer to a new inquiry goes on a closed day too (in the sending window); default: it waits like a follow-up (update: =false)",
		set: func(t *lead.Tenant, v string) error {
			answer, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			t.Compliance.AnswerOnClosedDays = answer
			return nil
		},
		show: func(t lead.Tenant) string {
			if t.Compliance.AnswerOnClosedDays {
				return "yes: a new inquiry is answered on closed days too"
			}
			return "no: a new inquiry's answer waits for the next open day"
		},
	},
	{
		flag: "phone-regions", field: "compliance.phone_regions", label: "phone regions",
		usage: "the regions whose numbers the shop's customers have, comma-separated (US,CA,MX); a number valid in none is not texted; empty or default: US,CA",
		set: func(t *lead.Tenant, v string) error {
			t.Compliance.PhoneRegions = phoneRegionsFlag(v)
			return nil
		},
		show: func(t lead.Tenant) string {
			if len(t.Compliance.PhoneRegions) == 0 {
				return strings.Join(t.Compliance.Regions(), ", ") + " (the default)"
			}
			return strings.Join(t.Compliance.PhoneRegions, ", ")
		},
	},
	// How often the shop may text one number (issue 14, item 4).
	{
		flag: "text-cap", field: "compliance.text_cap", label: "text cap",
		usage: "at most this many follow-up texts to one number in a rolling window, as texts/hours (3/24h, the default: Florida's 3 in 24 h); answers the customer asked for are not counted",
		set: func(t *lead.Tenant, v string) error {
			c, err := lead.ParseTextCap(v)
			if err != nil {
				return err
			}
			t.Compliance.TextCap = c
			return nil
		},
		show: func(t lead.Tenant) string {
			if t.Compliance.TextCap == (lead.TextCap{}) {
				return t.Compliance.TextCap.String() + " (default)"
			}
			return t.Compliance.TextCap.String()
		},
	},
	{
		flag: "disabled", field: "enabled", label: "enabled", isBool: true,
		usage: "no polls or messages until `tenant enable` (update: --disabled=false enables)",
		set: func(t *lead.Tenant, v string) error {
			disabled, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			t.Enabled = !disabled
			return nil
		},
		show: func(t lead.Tenant) string { return strconv.FormatBool(t.Enabled) },
	},
}

func orText(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}

// templateText shows a template in full, quoted, so that a change to one
// word shows in `tenant update` too.
func templateText(text string) string {
	if text == "" {
		return "fleet default"
	}
	return strconv.Quote(text)
}

// knownQuietRules lists the rules --quiet-rule takes, for its usage.
func knownQuietRules() string {
	rules := make([]string, 0, len(lead.KnownQuietRules()))
	for _, r := range lead.KnownQuietRules() {
		rules = append(rules, string(r))
	}
	return strings.Join(rules, ", ")
}

// sendWindowText is when t's texts may go out: its own hours and its
// quiet rule together, day by day, on the shop's clock. SendWindow.String
// names the shop's hours and the rule but not what they make together
// ("07:00-22:00 (CT rule)" allows 09:00-20:00), which is what an operator
// needs to see.
func sendWindowText(t lead.Tenant) string {
	w, err := t.SendWindow()
	if err != nil {
		// A row edited by hand: the worker refuses to send, and says so.
		return "none, the window is invalid: " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return "texts only " + w.Describe() + ", " + w.Location.String() + " time"
}

// parseQuietHours reads HH:MM-HH:MM. That the window starts before it ends
// is Validate's to say.
func parseQuietHours(s string) (lead.QuietHours, error) {
	start, end, ok := strings.Cut(s, "-")
	if !ok {
		return lead.QuietHours{}, fmt.Errorf("%q is not a window such as 08:00-21:00", s)
	}
	var q lead.QuietHours
	var err error
	if q.Start, err = lead.ParseTimeOfDay(strings.TrimSpace(start)); err != nil {
		return lead.QuietHours{}, fmt.Errorf("start: %w", err)
	}
	if q.End, err = lead.ParseTimeOfDay(strings.TrimSpace(end)); err != nil {
		return lead.QuietHours{}, fmt.Errorf("end: %w", err)
	}
	return q, nil
}

// settingFor is the setting a validation error's field belongs to: the
// field itself ("notify_email") or a part of it ("sequence[2].template.sms").
func settingFor(field string) (tenantSetting, bool) {
	for _, st := range tenantSettings {
		if rest, ok := strings.CutPrefix(field, st.field); ok && (rest == "" || rest[0] == '[' || rest[0] == '.') {
			return st, true
		}
	}
	return tenantSetting{}, false
}

// tenantFlag is the flag that sets the lead.Tenant field a validation
// error names.
func tenantFlag(field string) string {
	switch field {
	case "crm_secret":
		s := newCRMSecretFlags()
		return s.flagNames()
	case "webhook_secret":
		s := newWebhookSecretFlags()
		return s.flagNames()
	}
	if st, ok := settingFor(field); ok && st.flag != "" {
		return "--" + st.flag
	}
	return field
}

// problemText says what is wrong in the terms of the command line: the
// flag, the part of its setting when the field names one (a sequence's
// "sequence[2].template.sms": the flag alone would not say which step),
// and why.
func problemText(field, reason string) string {
	text := tenantFlag(field)
	if st, ok := settingFor(field); ok && st.field != field {
		text += ": " + field
	}
	return text + ": " + flagReason(reason)
}

// settingKey is what tenantProblems settles a field under: its setting,
// so that a sequence file that did not parse is not also reported step by
// step.
func settingKey(field string) string {
	if st, ok := settingFor(field); ok {
		return st.field
	}
	return field
}

// flagReason puts flags for the fields a validation reason names ("or
// messaging_service_sid is required"). Only whole names with '_' or '.'
// are replaced: "name" or "crm" in a sentence is an ordinary word, and
// email_from is not the start of email_from_name.
func flagReason(reason string) string {
	for _, st := range tenantSettings {
		if st.flag != "" && strings.ContainsAny(st.field, "_.") && strings.Contains(reason, st.field) {
			field := regexp.MustCompile(`\b` + regexp.QuoteMeta(st.field) + `\b`)
			reason = field.ReplaceAllLiteralString(reason, "--"+st.flag)
		}
	}
	return reason
}

// tenantFlags are the setting flags of tenant add and update. Each flag
// only records its value while the command line is parsed, so that apply
// can report every value that does not parse at once, and update can
// change only the settings given.
type tenantFlags struct {
	// given maps the flags given to their values.
	given  map[string]string
	secret secretFlags
	// webhookSecret and newWebhookToken set the credentials the shop's CRM
	// webhooks are checked with (tenant_webhook.go).
	webhookSecret   secretFlags
	newWebhookToken bool
	// files holds what the files named by fromFile flags held, read once:
	// update applies the flags twice, and the file must not change between.
	files map[string]string
}

func (f *tenantFlags) register(fs *flag.FlagSet) {
	f.given = map[string]string{}
	f.files = map[string]string{}
	for _, st := range tenantSettings {
		if st.set == nil {
			continue
		}
		record := func(v string) error { f.given[st.flag] = v; return nil }
		if st.isBool {
			fs.BoolFunc(st.flag, st.usage, record)
		} else {
			fs.Func(st.flag, st.usage, record)
		}
	}
	f.secret = newCRMSecretFlags()
	f.secret.register(fs)
	f.webhookSecret = newWebhookSecretFlags()
	f.webhookSecret.register(fs)
	fs.BoolVar(&f.newWebhookToken, "new-webhook-token", false,
		"make a new token for the Tekmetric webhook URL (printed once; only its hash is kept)")
}

// settingsGiven reports whether any setting flag was given, the secrets'
// and the webhook token's included.
func (f *tenantFlags) settingsGiven() bool {
	return len(f.given) > 0 || f.secret.isGiven() || f.webhookGiven()
}

// apply sets in t every setting given, reporting each value that does not
// parse.
func (f *tenantFlags) apply(t *lead.Tenant, p *tenantProblems) {
	for _, st := range tenantSettings {
		v, ok := f.given[st.flag]
		if !ok || st.set == nil {
			continue
		}
		if st.fromFile {
			var err error
			if v, err = f.readFile(st.flag, v); err != nil {
				p.add(st.field, err.Error())
				continue
			}
		}
		err := st.set(t, v)
		var vErr *lead.ValidationError
		switch {
		case err == nil:
		case errors.As(err, &vErr):
			// Parts of the setting (steps of a sequence), each named.
			p.addErr(err)
		default:
			p.add(st.field, err.Error())
		}
	}
}

// readFile returns what the file named by a fromFile flag holds, reading
// it the first time only. "default" is no file but the setting's default,
// as is an empty file: both give "".
func (f *tenantFlags) readFile(flagName, name string) (string, error) {
	if name == "default" {
		return "", nil
	}
	if text, ok := f.files[flagName]; ok {
		return text, nil
	}
	if name == "" {
		return "", errors.New(`give the path of a file, or "default"`)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return "", fmt.Errorf("cannot read %s: %v", name, err)
	}
	text := strings.TrimSpace(string(data))
	f.files[flagName] = text
	return text, nil
}

// tenantChange is one setting that `tenant update` changes.
type tenantChange struct {
	label, before, after string
}

// changes lists the settings given whose value differs between before and
// after.
func (f *tenantFlags) changes(before, after lead.Tenant) []tenantChange {
	var out []tenantChange
	for _, st := range tenantSettings {
		if _, ok := f.given[st.flag]; !ok || st.set == nil {
			continue
		}
		b, a := st.show(before), st.show(after)
		switch {
		case st.same == nil && b == a:
		case st.same != nil && st.same(before, after):
		case b == a:
			// The change is in what show leaves out.
			out = append(out, tenantChange{label: st.label, before: b, after: a + ", changed (see below)"})
		default:
			out = append(out, tenantChange{label: st.label, before: b, after: a})
		}
	}
	return out
}

// tenantProblems are what is wrong with a tenant's settings in the terms of
// the command line: every problem at once, each naming its flag. Checks run
// in turn (flag values, then lead.Tenant.Validate, then the CRM's own), and
// a setting one check found wrong is not reported again by a later one: a
// --quiet-hours that did not parse is not also a window that "must start
// before it ends".
type tenantProblems struct {
	list []string
	// settled are the fields already reported, or vouched for by the
	// command (a secret that run will seal).
	settled map[string]bool
}

// add reports that a setting is wrong and why.
func (p *tenantProblems) add(field, reason string) {
	p.addText(field, problemText(field, reason))
}

// addText reports a problem whose text already names its flag.
func (p *tenantProblems) addText(field, text string) {
	p.list = append(p.list, text)
	p.settle(field)
}

// settle keeps later checks from reporting field, or any part of its
// setting.
func (p *tenantProblems) settle(field string) {
	if p.settled == nil {
		p.settled = map[string]bool{}
	}
	p.settled[settingKey(field)] = true
}

// addErr reports what one check found: the *lead.ValidationError values
// err joins (through any wrapping), each turned into its flag, and any
// other error as it is.
func (p *tenantProblems) addErr(err error) {
	found := map[string]bool{}
	for _, e := range leaves(err) {
		var vErr *lead.ValidationError
		if !errors.As(e, &vErr) {
			p.list = append(p.list, e.Error())
			continue
		}
		if p.settled[settingKey(vErr.Field)] {
			continue
		}
		found[vErr.Field] = true
		p.list = append(p.list, problemText(vErr.Field, vErr.Reason))
	}
	for field := range found {
		p.settle(field)
	}
}

// err is the usage error listing the problems, or nil.
func (p *tenantProblems) err(name, synopsis string) error {
	switch len(p.list) {
	case 0:
		return nil
	case 1:
		return usageErrorf(synopsis, "%s: %s", name, p.list[0])
	}
	return usageErrorf(synopsis, "%s: %d problems:\n  %s", name, len(p.list), strings.Join(p.list, "\n  "))
}

// leaves flattens err into the errors it joins, through any wrapping, so
// that each *lead.ValidationError is seen on its own: the CRM registry
// wraps a join of them in its own context. An error wrapping no
// ValidationError is kept whole, context and all.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	var vErr *lead.ValidationError
	if !errors.As(err, &vErr) {
		return []error{err}
	}
	switch e := err.(type) {
	case *lead.ValidationError:
		return []error{e}
	case interface{ Unwrap() []error }:
		var out []error
		for _, inner := range e.Unwrap() {
			out = append(out, leaves(inner)...)
		}
		return out
	case interface{ Unwrap() error }:
		return leaves(e.Unwrap())
	}
	return []error{err}
}

// checkTenant reports what is wrong with t, whose CRM secret is secret:
// lead.Tenant.Validate for the settings every tenant has, then the CRM
// registry for the settings of t's CRM, then whether the webhook flags of
// f suit that CRM. The registry builds the adapter a worker would build
// (with no network call), so a tenant that is saved is one a worker can
// poll.
func checkTenant(p *tenantProblems, t lead.Tenant, secret lead.Secret, f *tenantFlags) {
	// The answer to HELP is rendered like any text (jobs.helpStep), so a
	// broken one would fail in front of a customer who asked for help.
	// Validate does not check it yet; when it does, settling the field
	// here keeps it from being reported twice.
	if err := lead.CheckTemplate("help", t.HelpText); err != nil {
		p.add("help_text", err.Error())
	}
	// Only the tenant's own settings are checked: the fleet's CRM settings
	// (base URLs, timeouts) were checked with the configuration.
	reg := crmset.NewRegistry(crmset.Opts{})
	kinds := reg.Kinds()
	p.addErr(t.Validate(kinds))
	if slices.Contains(kinds, t.CRMKind) {
		_, err := reg.Adapter(t, secret)
		p.addErr(err)
		f.checkWebhookKind(p, t.CRMKind)
	}
}

// attention says whether t needs an operator, and what to do: its CRM
// rejected the credentials, so its polls back off until they change.
func attention(t lead.Tenant) string {
	if !t.NeedsAttention {
		return "none"
	}
	return fmt.Sprintf("the CRM rejected the credentials since %s (%s); polls back off until they change: "+
		"`enqueue tenant update --tenant %s --secret-env VAR`", inTenantZone(t, t.AttentionSince), t.AttentionReason, t.ID)
}

// writeTenant prints every setting of t, one a line, its webhook paths and
// its sequence, and never a secret: only the id of the key that sealed it.
func writeTenant(w io.Writer, t lead.Tenant) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(label, value string) { fmt.Fprintf(tw, "  %s:\t%s\n", label, value) }
	row("id", t.ID.String())
	for _, st := range tenantSettings {
		row(st.label, st.show(t))
	}
	row("poll cursor", inTenantZone(t, t.PollCursor))
	row("next poll", inTenantZone(t, t.NextPollAt))
	row("attention", attention(t))
	row("created", inTenantZone(t, t.CreatedAt))
	row("updated", inTenantZone(t, t.UpdatedAt))
	for _, wh := range webhookPaths(t) {
		row(wh.label, wh.path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeSequence(w, t)
}

// phoneRegionsFlag reads --phone-regions: comma-separated region codes,
// trimmed and upper-cased (an operator typing "us, ca" means US and CA);
// "default" or nothing clears them. Validate judges each code.
func phoneRegionsFlag(v string) []string {
	if strings.TrimSpace(v) == "" || strings.TrimSpace(v) == "default" {
		return nil
	}
	var regions []string
	for _, r := range strings.Split(v, ",") {
		regions = append(regions, strings.ToUpper(strings.TrimSpace(r)))
	}
	return regions
}
