package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// tenantAddCmd adds a shop.
type tenantAddCmd struct {
	tenant lead.Tenant
}

func (c *tenantAddCmd) parseArgs(args []string, getenv func(string) string) error {
	const name = "tenant add"
	var (
		t                     = &c.tenant
		apiKeyEnv, apiKeyFile string
		disabled              bool
	)
	fs := newFlagSet(name)
	fs.StringVar(&t.Name, "name", "", "the shop's name, unique in the fleet")
	fs.StringVar(&t.CRMKind, "crm", "shopmonkey", "the shop's CRM")
	fs.StringVar(&t.CRMLocationID, "location-id", "", "the shop's location id in its CRM")
	fs.StringVar(&apiKeyEnv, "api-key-env", "", "environment variable holding the CRM API key")
	fs.StringVar(&apiKeyFile, "api-key-file", "", "file holding the CRM API key")
	fs.StringVar(&t.TimeZone, "time-zone", "America/New_York", "the shop's IANA time zone")
	fs.DurationVar(&t.PollInterval, "poll-interval", 60*time.Second, "how often the CRM is polled")
	fs.StringVar(&t.SMSFrom, "sms-from", "", "the number texts come from (E.164)")
	fs.StringVar(&t.MessagingServiceSID, "messaging-service-sid", "", "the Twilio Messaging Service texts go through (MG...)")
	fs.StringVar(&t.EmailFrom, "email-from", "", "the address emails come from")
	fs.StringVar(&t.EmailFromName, "email-from-name", "", "the name emails come from")
	fs.StringVar(&t.Templates.SMS, "sms-template", "", "the shop's text template (default: the fleet's)")
	fs.StringVar(&t.Templates.EmailSubject, "email-subject-template", "", "the shop's email subject template")
	fs.StringVar(&t.Templates.EmailText, "email-text-template", "", "the shop's email body template")
	fs.BoolVar(&disabled, "disabled", false, "add the shop without polling or messaging it yet")
	if err := parseFlags(fs, name, tenantAddSyn, args); err != nil {
		return err
	}
	t.Enabled = !disabled

	// Store addresses in their normal form; what does not parse is left
	// as typed for Validate to name.
	if p, err := lead.ParsePhoneNumber(t.SMSFrom); err == nil {
		t.SMSFrom = string(p)
	}
	if e, err := lead.ParseEmail(t.EmailFrom); err == nil {
		t.EmailFrom = string(e)
	}

	// Every problem at once, the key's included, each naming its flag.
	var problems []string
	key, keyErr := readAPIKey(apiKeyEnv, apiKeyFile, getenv)
	if keyErr != nil {
		problems = append(problems, keyErr.Error())
	}
	t.CRMAPIKey = key
	// The registry is the one list of the CRMs this build supports.
	kinds := crmset.NewRegistry(crmset.Opts{}).Kinds()
	for _, p := range flagProblems(t.Validate(kinds)) {
		if keyErr != nil && strings.HasPrefix(p, tenantFlag("crm_api_key")) {
			continue // said better above
		}
		problems = append(problems, p)
	}
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return usageErrorf(tenantAddSyn, "%s: %s", name, problems[0])
	}
	return usageErrorf(tenantAddSyn, "%s: %d problems:\n  %s", name, len(problems), strings.Join(problems, "\n  "))
}

// readAPIKey reads the CRM API key from the environment variable or the
// file named. The key is never a flag's value: command lines end up in
// shell history and in ps. Errors never quote what was given, in case an
// operator put the key itself where its variable's name or file belongs.
func readAPIKey(envName, file string, getenv func(string) string) (lead.Secret, error) {
	switch {
	case envName == "" && file == "":
		return "", errors.New("--api-key-env VAR or --api-key-file FILE is required (the key is never given on the command line)")
	case envName != "" && file != "":
		return "", errors.New("give only one of --api-key-env and --api-key-file")
	case envName != "":
		key := strings.TrimSpace(getenv(envName))
		if key == "" {
			return "", errors.New("--api-key-env: the environment variable named is unset or empty (give the variable's name, not the key)")
		}
		return lead.Secret(key), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return "", fmt.Errorf("--api-key-file: cannot read the file named: %v", err)
	}
	key := strings.TrimSpace(string(data))
	if key == "" {
		return "", errors.New("--api-key-file: the file named is empty")
	}
	return lead.Secret(key), nil
}

// flagProblems rewrites the problems lead.Tenant.Validate found in the
// terms of the command line, each naming its flag.
func flagProblems(err error) []string {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		var vErr *lead.ValidationError
		if !errors.As(e, &vErr) {
			out = append(out, e.Error())
			continue
		}
		out = append(out, tenantFlag(vErr.Field)+": "+vErr.Reason)
	}
	return out
}

// tenantFlag is the `tenant add` flag that sets a lead.Tenant field.
func tenantFlag(field string) string {
	switch field {
	case "name":
		return "--name"
	case "crm_kind":
		return "--crm"
	case "crm_location_id":
		return "--location-id"
	case "crm_api_key":
		return "--api-key-env/--api-key-file"
	case "time_zone":
		return "--time-zone"
	case "poll_interval":
		return "--poll-interval"
	case "sms_from":
		return "--sms-from"
	case "messaging_service_sid":
		return "--messaging-service-sid"
	case "email_from":
		return "--email-from"
	case "templates.sms":
		return "--sms-template"
	case "templates.email_subject":
		return "--email-subject-template"
	case "templates.email_text":
		return "--email-text-template"
	}
	return field
}

func (c *tenantAddCmd) run(ctx context.Context, d *deps) error {
	t, err := d.store.CreateTenant(ctx, c.tenant)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("tenant add: --name %q: a tenant with this name already exists", c.tenant.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "added tenant %s\n", t.Name)
	w := tabwriter.NewWriter(d.stdout, 0, 0, 2, ' ', 0)
	for _, row := range [][2]string{
		{"id", t.ID.String()},
		{"name", t.Name},
		{"crm", t.CRMKind},
		{"location id", t.CRMLocationID},
		{"api key", t.CRMAPIKey.String()},
		{"time zone", t.TimeZone},
		{"poll interval", t.PollInterval.String()},
		{"sms from", t.SMSFrom},
		{"messaging service sid", t.MessagingServiceSID},
		{"email from", t.EmailFrom},
		{"email from name", t.EmailFromName},
		{"sms template", templateSource(t.Templates.SMS)},
		{"email subject template", templateSource(t.Templates.EmailSubject)},
		{"email text template", templateSource(t.Templates.EmailText)},
		{"enabled", fmt.Sprint(t.Enabled)},
		{"poll cursor", inTenantZone(t, t.PollCursor)},
	} {
		fmt.Fprintf(w, "  %s:\t%s\n", row[0], row[1])
	}
	return w.Flush()
}

func templateSource(text string) string {
	if text == "" {
		return "fleet default"
	}
	return "the tenant's own"
}

// tenantListCmd lists every tenant, never a secret.
type tenantListCmd struct{}

func (c *tenantListCmd) parseArgs(args []string, _ func(string) string) error {
	return parseFlags(newFlagSet("tenant list"), "tenant list", tenantListSyn, args)
}

func (c *tenantListCmd) run(ctx context.Context, d *deps) error {
	tenants, err := d.store.FleetListTenants(ctx)
	if err != nil {
		return err
	}
	if len(tenants) == 0 {
		_, err := fmt.Fprintln(d.stdout, "no tenants yet (add one with `enqueue tenant add`)")
		return err
	}
	w := tabwriter.NewWriter(d.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCRM\tLOCATION\tTIME ZONE\tPOLL INTERVAL\tENABLED\tPOLL CURSOR")
	for _, t := range tenants {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%v\t%s\n", t.ID, t.Name, t.CRMKind, t.CRMLocationID,
			t.TimeZone, t.PollInterval, t.Enabled, inTenantZone(t, t.PollCursor))
	}
	return w.Flush()
}

// tenantSetEnabledCmd disables or enables a tenant. Jobs of a disabled
// tenant already queued cancel themselves when they run; enabling it again
// lets the scheduler resume from its poll cursor, so the gap is polled.
type tenantSetEnabledCmd struct {
	enabled bool
	tenant  string
}

func (c *tenantSetEnabledCmd) name() string {
	if c.enabled {
		return "tenant enable"
	}
	return "tenant disable"
}

func (c *tenantSetEnabledCmd) synopsis() string {
	if c.enabled {
		return tenantEnableSyn
	}
	return tenantDisableSyn
}

func (c *tenantSetEnabledCmd) parseArgs(args []string, _ func(string) string) error {
	fs := newFlagSet(c.name())
	fs.StringVar(&c.tenant, "tenant", "", "tenant name or id")
	if err := parseFlags(fs, c.name(), c.synopsis(), args); err != nil {
		return err
	}
	return requireFlags(c.name(), c.synopsis(), "tenant", c.tenant)
}

func (c *tenantSetEnabledCmd) run(ctx context.Context, d *deps) error {
	t, err := d.findTenant(ctx, c.tenant)
	if err != nil {
		return err
	}
	state := "disabled"
	if c.enabled {
		state = "enabled"
	}
	if t.Enabled == c.enabled {
		_, err := fmt.Fprintf(d.stdout, "tenant %s (%s) is already %s\n", t.Name, t.ID, state)
		return err
	}
	if err := d.store.SetTenantEnabled(ctx, t.ID, c.enabled); err != nil {
		return err
	}
	_, err = fmt.Fprintf(d.stdout, "tenant %s (%s) is now %s\n", t.Name, t.ID, state)
	return err
}
