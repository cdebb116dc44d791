package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
)

// FieldError is one problem with one key of the configuration.
type FieldError struct {
	// Key is the dotted name of the key, as written in config.yaml
	// (queues.sms.max_workers).
	Key string
	// Problem says which rule the value breaks. It never contains the value
	// of a secret key.
	Problem string
}

func (e FieldError) Error() string {
	if e.Key == "" {
		return e.Problem
	}
	return e.Key + ": " + e.Problem
}

// ValidationError lists every problem found in a configuration, so that an
// operator can fix them all before the next start instead of one per restart.
type ValidationError struct {
	Problems []FieldError
}

// Error lists the problems one per line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid config (%d problem%s):", len(e.Problems), plural(len(e.Problems)))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Validate checks the shape of every value: ranges, URLs, durations, enums and
// that templates parse. It does not require credentials, so the CLI and the
// migrate command run with a config that has none. All problems are returned
// together as a *ValidationError.
func (c *Config) Validate() error {
	return validationError(c.problems())
}

// ValidateForWorker runs Validate and also requires what a running worker
// needs: provider credentials, the keys that open tenants' CRM secrets,
// River UI credentials and an HTTP address. All
// problems are returned together as a *ValidationError.
func (c *Config) ValidateForWorker() error {
	problems := c.problems()
	check := checker{problems: &problems}

	check.required("http.addr", c.HTTP.Addr)
	check.required("operator.addr", c.Operator.Addr)
	check.required("riverui.username", c.RiverUI.Username)
	check.required("riverui.password", c.RiverUI.Password)
	check.required("twilio.account_sid", c.Twilio.AccountSID)
	check.required("twilio.auth_token", c.Twilio.AuthToken)
	check.required("sendgrid.api_key", c.SendGrid.APIKey)
	check.required("credentials.keys", c.Credentials.Keys)

	return validationError(problems)
}

// validationError returns nil, not a typed nil pointer, when there are no
// problems, so that callers can compare the error with nil.
func validationError(problems []FieldError) error {
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

// RescueSlack is how much longer than river.job_timeout a run may
// legitimately last, so river.rescue_stuck_jobs_after must exceed the
// timeout by at least this: a send records the provider's answer for up to
// 10s after its job's context ends (jobs' resultTimeout, so an accepted
// text is not left "sending"), and River itself calls a run stuck only 10s
// after its timeout (JobStuckThreshold). A rescue inside that slack starts
// a second run beside the first; the outbox keeps that from sending twice,
// but it would still spend a CRM request and a provider lookup for nothing.
const RescueSlack = 20 * time.Second

// riverUIMinPasswordLen is the shortest River UI password accepted. The UI is
// guarded by basic auth alone and can cancel or retry any tenant's jobs.
const riverUIMinPasswordLen = 12

// problems runs every shape check, a group of keys at a time, and returns
// what they found in the order of config.yaml.
func (c *Config) problems() []FieldError {
	var problems []FieldError
	check := checker{problems: &problems}
	c.serverProblems(check)
	c.operatorProblems(check)
	c.riverProblems(check)
	c.scheduleProblems(check)
	c.providerProblems(check)
	c.outputProblems(check)
	return problems
}

// serverProblems checks the database, the HTTP server and River UI's login.
func (c *Config) serverProblems(check checker) {
	check.databaseURL("database.url", c.Database.URL)
	check.intBetween("database.max_conns", c.Database.MaxConns, 1, 1000)
	check.oneOf("database.query_exec_mode", c.Database.QueryExecMode, "cache_statement", "cache_describe", "exec", "simple_protocol")

	check.addr("http.addr", c.HTTP.Addr)
	check.baseURL("http.public_url", c.HTTP.PublicURL)
	check.durationBetween("http.shutdown_timeout", c.HTTP.ShutdownTimeout, time.Millisecond, 10*time.Minute)
	readTimeoutOK := check.durationBetween("http.read_timeout", c.HTTP.ReadTimeout, time.Second, 10*time.Minute)
	writeTimeoutOK := check.durationBetween("http.write_timeout", c.HTTP.WriteTimeout, time.Second, time.Hour)
	// net/http starts the write deadline when a request's headers are read,
	// so the body's reading counts against it too: a write timeout not above
	// the read timeout would cut off a slow but legal body's answer.
	if readTimeoutOK && writeTimeoutOK && c.HTTP.WriteTimeout <= c.HTTP.ReadTimeout {
		check.add("http.write_timeout", fmt.Sprintf("must be longer than http.read_timeout (%s), which it includes, got %s", c.HTTP.ReadTimeout, c.HTTP.WriteTimeout))
	}
	check.durationBetween("http.idle_timeout", c.HTTP.IdleTimeout, time.Second, time.Hour)
	check.durationBetween("http.drain_delay", c.HTTP.DrainDelay, 0, 5*time.Minute)

	if strings.Contains(c.RiverUI.Username, ":") {
		check.add("riverui.username", "must not contain ':' (basic auth separates the username from the password with it)")
	}
	if c.RiverUI.Password != "" && len(c.RiverUI.Password) < riverUIMinPasswordLen {
		check.add("riverui.password", fmt.Sprintf("must be at least %d characters, got %d", riverUIMinPasswordLen, len(c.RiverUI.Password)))
	}
}

// riverProblems checks River's client settings and the queues' workers.
func (c *Config) riverProblems(check checker) {
	// Relations between two keys are checked only when both are in range, so
	// that one bad value is reported once.
	cooldownOK := check.durationBetween("river.fetch_cooldown", c.River.FetchCooldown, time.Millisecond, 10*time.Second)
	pollIntervalOK := check.durationBetween("river.fetch_poll_interval", c.River.FetchPollInterval, time.Millisecond, time.Hour)
	if cooldownOK && pollIntervalOK && c.River.FetchPollInterval <= c.River.FetchCooldown {
		check.add("river.fetch_poll_interval", fmt.Sprintf("must be longer than river.fetch_cooldown (%s), got %s", c.River.FetchCooldown, c.River.FetchPollInterval))
	}
	check.durationBetween("river.soft_stop_timeout", c.River.SoftStopTimeout, time.Millisecond, time.Hour)
	jobTimeoutOK := check.durationBetween("river.job_timeout", c.River.JobTimeout, time.Millisecond, 24*time.Hour)
	check.durationBetween("river.schedule_interval", c.River.ScheduleInterval, time.Second, time.Hour)
	rescueOK := check.durationBetween("river.rescue_stuck_jobs_after", c.River.RescueStuckJobsAfter, time.Second, 24*time.Hour)
	if jobTimeoutOK && rescueOK && c.River.RescueStuckJobsAfter < c.River.JobTimeout+RescueSlack {
		check.add("river.rescue_stuck_jobs_after", fmt.Sprintf("must be at least river.job_timeout + %s (%s) or a run still finishing is run twice, got %s",
			RescueSlack, c.River.JobTimeout+RescueSlack, c.River.RescueStuckJobsAfter))
	}

	// River's own limit on workers per queue.
	const maxWorkers = 10_000
	check.intBetween("queues.crm.max_workers", c.Queues.CRM.MaxWorkers, 1, maxWorkers)
	check.intBetween("queues.crm_backfill.max_workers", c.Queues.CRMBackfill.MaxWorkers, 1, maxWorkers)
	check.intBetween("queues.sms.max_workers", c.Queues.SMS.MaxWorkers, 1, maxWorkers)
	check.intBetween("queues.email.max_workers", c.Queues.Email.MaxWorkers, 1, maxWorkers)
	check.intBetween("queues.bookkeeping.max_workers", c.Queues.Bookkeeping.MaxWorkers, 1, maxWorkers)
}

// scheduleProblems checks the polls, the outbox sweep and retention.
func (c *Config) scheduleProblems(check checker) {
	overlapOK := check.durationBetween("poll.overlap", c.Poll.Overlap, time.Millisecond, 24*time.Hour)
	maxWindowOK := check.durationBetween("poll.max_window", c.Poll.MaxWindow, time.Minute, 31*24*time.Hour)
	// Each window starts Overlap before the previous one ended; if that is
	// not shorter than a window, the cursor never moves forward.
	if overlapOK && maxWindowOK && c.Poll.Overlap >= c.Poll.MaxWindow {
		check.add("poll.overlap", fmt.Sprintf("must be shorter than poll.max_window (%s) or polls never advance, got %s", c.Poll.MaxWindow, c.Poll.Overlap))
	}

	check.durationBetween("outbox.sweep_interval", c.Outbox.SweepInterval, time.Second, 24*time.Hour)
	// The floors keep the dedupe window above Standard Webhooks' 27.5 hours
	// of retries, and inbound texts past a handle_inbound job's retries.
	const day = 24 * time.Hour
	check.durationBetween("retention.webhook_receipts", c.Retention.WebhookReceipts, 3*day, 3650*day)
	check.durationBetween("retention.inbound_messages", c.Retention.InboundMessages, 7*day, 3650*day)
	check.durationBetween("retention.prune_interval", c.Retention.PruneInterval, time.Minute, day)
}

// providerProblems checks the CRMs', Twilio's and SendGrid's settings, the
// webhook intake and the credentials keyring.
func (c *Config) providerProblems(check checker) {
	check.baseURL("shopmonkey.base_url", c.ShopMonkey.BaseURL)
	check.durationBetween("shopmonkey.timeout", c.ShopMonkey.Timeout, time.Millisecond, 5*time.Minute)
	check.baseURL("tekmetric.base_url", c.Tekmetric.BaseURL)
	check.durationBetween("tekmetric.timeout", c.Tekmetric.Timeout, time.Millisecond, 5*time.Minute)
	check.intBetween("webhooks.intake_per_minute", c.Webhooks.IntakePerMinute, 1, 100_000)
	check.intBetween("webhooks.intake_burst", c.Webhooks.IntakeBurst, 1, 100_000)
	if c.Database.MigrateURL != "" {
		check.databaseURL("database.migrate_url", c.Database.MigrateURL)
	}
	if c.Credentials.Keys != "" {
		if _, err := credentials.ParseKeyring(c.Credentials.Keys); err != nil {
			check.add("credentials.keys", err.Error())
		}
	}

	check.baseURL("twilio.base_url", c.Twilio.BaseURL)
	// The Twilio SDK rejects credentials with anything but letters and digits.
	check.alphanumeric("twilio.account_sid", c.Twilio.AccountSID)
	check.alphanumeric("twilio.auth_token", c.Twilio.AuthToken)
	check.durationBetween("twilio.timeout", c.Twilio.Timeout, time.Millisecond, 5*time.Minute)

	check.baseURL("sendgrid.base_url", c.SendGrid.BaseURL)
	// A key read from a secrets file often keeps its trailing newline, which
	// Go's HTTP client then refuses to put in the Authorization header.
	if strings.IndexFunc(c.SendGrid.APIKey, unicode.IsSpace) >= 0 {
		check.add("sendgrid.api_key", "must not contain whitespace (a trailing newline from a secrets file is the usual cause)")
	}
	check.durationBetween("sendgrid.timeout", c.SendGrid.Timeout, time.Millisecond, 5*time.Minute)
	check.durationBetween("sendgrid.confirm_wait", c.SendGrid.ConfirmWait, time.Second, 24*time.Hour)
	if c.SendGrid.WebhookPublicKey != "" {
		if _, err := sendgrid.ParsePublicKey(c.SendGrid.WebhookPublicKey); err != nil {
			check.add("sendgrid.webhook_public_key", err.Error())
		}
	}
	if c.SendGrid.InboundPublicKey != "" {
		if _, err := sendgrid.ParsePublicKey(c.SendGrid.InboundPublicKey); err != nil {
			check.add("sendgrid.inbound_public_key", err.Error())
		}
	}
	if c.SendGrid.ReplyDomain != "" {
		if err := lead.CheckDomain(c.SendGrid.ReplyDomain); err != nil {
			check.add("sendgrid.reply_domain", err.Error())
		}
	}
}

// outputProblems checks what the fleet writes: message templates and logs.
func (c *Config) outputProblems(check checker) {
	check.template("templates.sms", c.Templates.SMS)
	if c.Templates.SMS != "" && !lead.HasOptOutWording(c.Templates.SMS) && lead.CheckTemplate("templates.sms", c.Templates.SMS) == nil {
		// The fleet's first text, as a tenant's is checked when saved.
		check.add("templates.sms", "lacks opt-out wording: a first text must name "+lead.OptOutKeyword+" (\"Reply STOP to opt out\")")
	}
	check.template("templates.email_subject", c.Templates.EmailSubject)
	check.template("templates.email_text", c.Templates.EmailText)

	check.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	check.oneOf("log.format", c.Log.Format, "json", "text")
}

// checker appends a FieldError for every rule a value breaks. Its messages
// echo values back to help the operator, except for secret keys, whose
// checks are written never to.
type checker struct {
	problems *[]FieldError
}

func (c checker) add(key, problem string) {
	*c.problems = append(*c.problems, FieldError{Key: key, Problem: problem})
}

func (c checker) required(key, value string) {
	if value == "" {
		c.add(key, fmt.Sprintf("is required to run a worker; set it in the config file or %s", envVar(key)))
	}
}

func (c checker) intBetween(key string, value, lo, hi int) {
	if value < lo || value > hi {
		c.add(key, fmt.Sprintf("must be between %d and %d, got %d", lo, hi, value))
	}
}

// durationBetween reports whether value is within [lo, hi], adding a problem
// if it is not.
func (c checker) durationBetween(key string, value, lo, hi time.Duration) bool {
	if value < lo || value > hi {
		c.add(key, fmt.Sprintf("must be between %s and %s, got %s", lo, hi, value))
		return false
	}
	return true
}

func (c checker) oneOf(key, value string, allowed ...string) {
	for _, a := range allowed {
		if strings.EqualFold(value, a) {
			return
		}
	}
	c.add(key, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), value))
}

// baseURL accepts "" (the provider's real service) or an absolute http(s) URL.
func (c checker) baseURL(key, value string) {
	if value == "" {
		return
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(key, fmt.Sprintf("must be empty or an absolute http(s) URL, got %q", value))
	}
}

// addr accepts "" (checked by ValidateForWorker) or a host:port that
// net.Listen takes.
func (c checker) addr(key, value string) {
	if value == "" {
		return
	}
	_, port, err := net.SplitHostPort(value)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		c.add(key, fmt.Sprintf(`must be host:port with a numeric port, e.g. ":8080", got %q`, value))
	}
}

func (c checker) alphanumeric(key, value string) {
	for _, r := range value {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			c.add(key, "must contain only letters and digits (the Twilio SDK rejects anything else)")
			return
		}
	}
}

// databaseURL requires a postgres:// URL. The value is never echoed back: it
// may hold a password, and so may url.Parse's error, which quotes its input.
func (c checker) databaseURL(key, value string) {
	if value == "" {
		c.add(key, "must be set")
		return
	}
	u, err := url.Parse(value)
	switch {
	case err != nil:
		c.add(key, "does not parse as a URL (percent-encode special characters in the user and password)")
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		c.add(key, fmt.Sprintf("must be a postgres:// or postgresql:// URL, got scheme %q", u.Scheme))
	case u.Fragment != "" || u.Opaque != "":
		c.add(key, "must be a postgres://user:password@host:port/database URL (percent-encode '#' and '/' in the password)")
	}
}

func (c checker) template(key, text string) {
	if strings.TrimSpace(text) == "" {
		c.add(key, "must not be empty")
		return
	}
	// Naming the template after the key makes the parse error point at it:
	// "template: templates.sms:1: unexpected "}" in operand".
	if _, err := template.New(key).Parse(text); err != nil {
		c.add(key, "does not parse: "+err.Error())
		return
	}
	// A template that parses can still name a field a message does not
	// have ({{.Lead.Nick}}); rendered against sample leads exactly as a
	// tenant's templates are when the tenant is saved, so the fleet default
	// fails at start-up, not when the first customer is waiting.
	if err := lead.CheckTemplate(key, text); err != nil {
		c.add(key, strings.TrimPrefix(err.Error(), "template "+key+": "))
	}
}
