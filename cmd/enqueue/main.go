// Command enqueue is the operator's CLI: it backfills a date range, polls a
// tenant now, ingests one CRM record, and adds, lists, disables and enables
// tenants. It inserts River jobs with an insert-only client (no queues, no
// workers): the fleet's workers run them.
//
// Every argument is checked before anything touches the database, and a bad
// one is named in the error; exit status is 2 for a usage error and 1 for
// any other failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "enqueue:", err)
	var uErr *usageError
	if errors.As(err, &uErr) {
		os.Exit(2)
	}
	os.Exit(1)
}

const (
	backfillSynopsis  = "backfill --tenant T --since DATE [--until DATE] [--window 24h] [--dry-run] [--send-messages] [--wait]"
	backfillStatusSyn = "backfill status --tenant T"
	pollSynopsis      = "poll --tenant T"
	ingestSynopsis    = "ingest --tenant T --external-id ID [--send-messages]"
	tenantAddSyn      = `tenant add --name N --location-id L (--secret-env VAR | --secret-file F)
           [--crm shopmonkey|tekmetric] [--client-id ID] [--crm-base-url URL]
           [--rate-limit N] [--time-zone America/New_York] [--quiet-hours 08:00-21:00]
           [--poll-interval 60s] [--sms-from +1...] [--messaging-service-sid MG...]
           [--email-from a@b] [--email-from-name X] [--sms-template T]
           [--email-subject-template T] [--email-text-template T] [--disabled]
           [--quiet-rule federal|FL|OK|MD|CT|TX|none] [--sequence-file FILE|default]
           [--first-reply-without-consent] [--notify-email a@b] [--help-text T]
           [--reply-domain D] [--shop-phone +1...] [--missed-call-text T]
           [--webhook-secret-env VAR | --webhook-secret-file F] [--new-webhook-token]`
	tenantUpdateSyn     = "tenant update --tenant T [any flag of tenant add]"
	tenantShowSyn       = "tenant show --tenant T"
	tenantListSyn       = "tenant list"
	tenantDisableSyn    = "tenant disable --tenant T"
	tenantEnableSyn     = "tenant enable --tenant T"
	tenantRotateKeysSyn = "tenant rotate-keys"
)

// usage is the CLI's help text. Long because it is one text, every command
// with its synopsis and what it does, which reads best whole.
func usage() string {
	return `usage: enqueue [-config FILE] COMMAND [flags]

commands:
  ` + backfillSynopsis + `
        insert one historic poll_crm job per window of [since, until). DATE is
        RFC 3339 or YYYY-MM-DD (midnight in the tenant's time zone); --until
        defaults to now; --window is 1m to 744h; at most 5 years. Leads found
        are ingested but not messaged unless --send-messages (and even then
        ingest skips leads too old to text). --dry-run shows the windows and
        inserts nothing. --wait shows the backfill's progress until its
        last window has run (a bar on a terminal, a line every 10 s
        otherwise); Ctrl-C stops the watching, not the backfill.
  ` + backfillStatusSyn + `
        show each backfill of the tenant, newest first: its range, window
        and state (running, done, or how many windows failed), with
        windows done, leads found, rate and time left.
  ` + pollSynopsis + `
        insert a live poll now, from the tenant's poll cursor (less
        poll.overlap) to now (at most poll.max_window).
  ` + ingestSynopsis + `
        ingest one CRM record now, even one ingested before. ID is the
        record's id in the tenant's CRM: ShopMonkey order:<id> or
        appointment:<id>, Tekmetric repair-order:<id> or appointment:<id>;
        a bare id is an estimate (order:, repair-order:). A lead new to the
        orchestrator is messaged only with --send-messages.
  ` + messagesSynopsis + `
        list the tenant's messages in a status (default ambiguous: sends
        whose outcome the provider could not confirm, held for an operator).
  ` + resendSynopsis + `
        send an ambiguous message again. Nothing else ever resends one:
        the customer may already have it.
  ` + conversationSynopsis + `
        print one customer's thread in time order, each event at its time
        in the shop's zone: the lead's creation (and how we found it), our
        texts and emails (step, status, to, body, the rule each went by,
        why it failed or was skipped), each lead's consent evidence, the
        customer's replies by text and email (auto-replies marked), the
        shop's notices and answers (and the text that carried each),
        STOP/START and suppressions, calls, the booking and the opt-out.
        L is a lead id or its CRM record (order:123); --phone merges
        every lead of the number. Bodies in full, control characters
        escaped. --format json: an array of events (time,
        kind, channel, direction, status, body, step, lead_id, ...).
  ` + consentSynopsis + `
        answer "why did you text me" for a number: every lead of it with
        where its consent came from (the CRM field, its value, when we
        read it), and every message to the customer with its time and the
        rule it went by (consent, the shop's first reply, an answer to
        the customer's HELP or text, a booking or opt-out confirmation),
        or why it did not go.
  ` + reportSynopsis + `
        speed to lead per shop and source, for leads first seen in
        [--since, --until) (default the last 7 days; D is a duration back
        from now such as 7d or 24h, or a date, midnight in each shop's
        time zone): leads, how many were texted, median and p90 time to
        the first accepted text (from our first sight; counting only the
        shop's sending window; from the lead's creation in the CRM),
        reply, booked and opt-out rates, failed messages by reason and
        ambiguous ones. "n/a" when there is nothing to measure. Leads a
        backfill imported without messaging are left out.
  ` + tenantAddSyn + `
        add a shop. The CRM secret (ShopMonkey API key, Tekmetric client
        secret) is read from the environment variable or the file named,
        never from the command line, and sealed with credentials.keys.
        --sms-from or --messaging-service-sid is required; tekmetric needs
        --client-id and a numeric --location-id (the shop id). --rate-limit
        is CRM requests per minute across the fleet (0: the CRM's default);
        --quiet-hours is when texts may go out, in the shop's time zone.
        --api-key-env and --api-key-file are old names of --secret-env and
        --secret-file.
        --quiet-rule adds a state's legal window to --quiet-hours (empty or
        federal: 08:00-21:00; none: the shop's hours only). --sequence-file
        is a JSON array of steps ({"name", "channel", "delay": "48h",
        "after", "condition", "template"}); "default" or an empty file is
        the default sequence. --first-reply-without-consent lets the answer
        to the customer's own inquiry go without consent (never follow-ups).
        --notify-email hears of replies; --help-text answers HELP (a text
        template). --reply-domain receives email replies at per-lead
        addresses (r+<token>@D, MX at SendGrid Inbound Parse; empty:
        sendgrid.reply_domain). --shop-phone is where calls to the shop's
        Twilio number ring; --missed-call-text texts a caller it missed.
        --webhook-secret-env/-file is ShopMonkey's webhook
        signing secret (whsec_...), sealed like the CRM secret.
        --new-webhook-token makes a Tekmetric webhook URL token and prints
        its path once; only its hash is kept.
  ` + tenantUpdateSyn + `
        change only the settings given, checked as tenant add checks them,
        and print what changed. Workers read the tenant at the start of
        every job, so a change applies from the next poll and send on.
  ` + tenantShowSyn + `
        print every setting of a tenant, its sequence and its webhook paths;
        secrets only as the id of the key that sealed them, the Tekmetric
        webhook token only as set or not.
  ` + tenantListSyn + `
        list the tenants (never their secrets).
  ` + tenantDisableSyn + `
  ` + tenantEnableSyn + `
        stop or resume a tenant's polls and messages.
  ` + tenantRotateKeysSyn + `
        re-seal every CRM secret sealed with a key other than the current
        (first) one of credentials.keys. Rotate by putting a new key first,
        running this, then removing the old key.
  help
        print this text.

T is a tenant's name or id. The configuration is config.yaml (or -config
FILE, or LEADORCH_CONFIG) overridden by LEADORCH_* environment variables;
enqueue uses database.url, poll.* and credentials.keys.
`
}

// usageError is a bad command line: what is wrong, naming the flag, and the
// synopsis of the command. main exits 2 on it.
type usageError struct {
	msg      string
	synopsis string
}

func (e *usageError) Error() string {
	if e.synopsis == "" {
		return e.msg
	}
	return e.msg + "\nusage: enqueue " + e.synopsis
}

func usageErrorf(synopsis, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), synopsis: synopsis}
}

// errHelp asks run to print help and succeed.
var errHelp = errors.New("help requested")

// command is one thing enqueue does. parseArgs checks the command line
// before anything connects to the database, so a typo costs nothing;
// run then does the work.
type command interface {
	parseArgs(args []string, getenv func(string) string) error
	run(ctx context.Context, d *deps) error
}

// keyringCommand is a command that seals or opens CRM secrets. run loads
// the keyring for it before connecting to the database, so a missing key
// is reported before anything else happens; keyringUser names the command
// in that report.
type keyringCommand interface {
	command
	keyringUser() string
}

// deps is what commands work with, built once by run.
type deps struct {
	cfg   *config.Config
	pool  *pgxpool.Pool
	store *store.Store
	river *river.Client[pgx.Tx]
	// keys seals and opens CRM secrets: always set for a keyringCommand,
	// nil for another command when credentials.keys is empty.
	keys   *credentials.Keyring
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
	// isTerminal and after are the terminal check and the timer of
	// `backfill --wait`, set by tests so that they run without a terminal
	// and without waiting.
	isTerminal func(io.Writer) bool
	after      func(time.Duration) <-chan time.Time
}

// system is what run takes from the process beyond its arguments: the
// clock, the terminal check and timers. main uses the real ones; tests set
// their own.
type system struct {
	now        func() time.Time
	isTerminal func(io.Writer) bool
	after      func(time.Duration) <-chan time.Time
}

// realSystem is the process's own clock, terminal and timers.
func realSystem() system {
	return system{now: time.Now, isTerminal: isTerminal, after: time.After}
}

// isTerminal reports whether w is a terminal (a character device), where
// progress can be redrawn in place. A file or a pipe gets plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run is the whole program; main only adds the process's signals,
// environment and exit code, so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runOn(ctx, realSystem(), args, getenv, stdout, stderr)
}

// runOn is run on the clock, terminal check and timers of sys.
func runOn(ctx context.Context, sys system, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("enqueue")
	configPath := fs.String("config", "", "configuration file")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err := io.WriteString(stdout, usage())
			return err
		}
		return &usageError{msg: err.Error() + "\n" + usage()}
	}
	cmd, synopsis, rest, err := newCommand(fs.Args())
	if err != nil {
		return err
	}
	if cmd == nil {
		_, err := io.WriteString(stdout, usage())
		return err
	}
	if err := cmd.parseArgs(rest, getenv); err != nil {
		if errors.Is(err, errHelp) {
			_, err := fmt.Fprintln(stdout, "usage: enqueue "+synopsis)
			return err
		}
		return err
	}

	cfg, err := config.Load(resolveConfigPath(*configPath, getenv), getenv)
	if err != nil {
		return err
	}
	var keys *credentials.Keyring
	kc, needsKeys := cmd.(keyringCommand)
	if needsKeys || cfg.Credentials.Keys != "" {
		// config.Load has checked a value that is set, so the usual error
		// here is a command that needs keys finding none.
		keys, err = credentials.ParseKeyring(cfg.Credentials.Keys)
		if err != nil && needsKeys {
			return fmt.Errorf("%s: cannot seal or open CRM secrets: %w", kc.keyringUser(), err)
		}
		if err != nil {
			return fmt.Errorf("invalid credentials.keys: %w", err)
		}
	}
	pool, err := store.NewPool(ctx, cfg.Database.URL, store.PoolOpts{MaxConns: 4, QueryExecMode: cfg.Database.QueryExecMode})
	if err != nil {
		return err
	}
	defer pool.Close()
	// Checked as the worker checks it: run with the owner's URL, every
	// tenant-scoped read and write here would pass row-level security by,
	// and a typo in --tenant could not be told from another shop's data.
	if err := store.CheckAppRole(ctx, pool); err != nil {
		return fmt.Errorf("enqueue refuses to run: %w. Set database.url (LEADORCH_DATABASE_URL, or DATABASE_URL) "+
			"to the URL of the application's login role (a member of leadorch_app), not the owner's", err)
	}
	// Insert-only: no queues and no workers, so this client never fetches
	// or runs a job, and inserting a kind it has no worker for is fine.
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fmt.Errorf("error building River client: %w", err)
	}
	return cmd.run(ctx, &deps{
		cfg:        cfg,
		pool:       pool,
		store:      store.New(pool),
		river:      client,
		keys:       keys,
		stdout:     stdout,
		stderr:     stderr,
		now:        sys.now,
		isTerminal: sys.isTerminal,
		after:      sys.after,
	})
}

// newCommand picks the command named by words and returns it with its
// synopsis and its own arguments; a nil command means "print the help".
func newCommand(words []string) (command, string, []string, error) {
	if len(words) == 0 {
		return nil, "", nil, &usageError{msg: "no command given\n" + usage()}
	}
	switch words[0] {
	case "help":
		return nil, "", nil, nil
	case "backfill":
		if len(words) > 1 && words[1] == "status" {
			return &backfillStatusCmd{}, backfillStatusSyn, words[2:], nil
		}
		return &backfillCmd{}, backfillSynopsis, words[1:], nil
	case "poll":
		return &pollCmd{}, pollSynopsis, words[1:], nil
	case "ingest":
		return &ingestCmd{}, ingestSynopsis, words[1:], nil
	case "messages":
		return &messagesCmd{}, messagesSynopsis, words[1:], nil
	case "resend":
		return &resendCmd{}, resendSynopsis, words[1:], nil
	case "report":
		return &reportCmd{}, reportSynopsis, words[1:], nil
	case "conversation":
		return &conversationCmd{}, conversationSynopsis, words[1:], nil
	case "consent":
		return &consentCmd{}, consentSynopsis, words[1:], nil
	case "tenant":
		if len(words) < 2 {
			return nil, "", nil, &usageError{msg: "tenant needs a subcommand: " + tenantSubcommands + "\n" + usage()}
		}
		switch words[1] {
		case "-h", "-help", "--help", "help":
			return nil, "", nil, nil
		case "add":
			return &tenantAddCmd{}, tenantAddSyn, words[2:], nil
		case "update":
			return &tenantUpdateCmd{}, tenantUpdateSyn, words[2:], nil
		case "show":
			return &tenantShowCmd{}, tenantShowSyn, words[2:], nil
		case "list":
			return &tenantListCmd{}, tenantListSyn, words[2:], nil
		case "disable":
			return &tenantSetEnabledCmd{enabled: false}, tenantDisableSyn, words[2:], nil
		case "enable":
			return &tenantSetEnabledCmd{enabled: true}, tenantEnableSyn, words[2:], nil
		case "rotate-keys":
			return &tenantRotateKeysCmd{}, tenantRotateKeysSyn, words[2:], nil
		}
		return nil, "", nil, &usageError{msg: fmt.Sprintf("unknown tenant subcommand %q (want %s)\n%s", words[1], tenantSubcommands, usage())}
	}
	return nil, "", nil, &usageError{msg: fmt.Sprintf("unknown command %q\n%s", words[0], usage())}
}

const tenantSubcommands = "add, update, show, list, disable, enable or rotate-keys"

// resolveConfigPath picks the file as the worker does: -config, else
// LEADORCH_CONFIG, else config.yaml when it exists in the working directory,
// else none (defaults and environment only).
func resolveConfigPath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := getenv("LEADORCH_CONFIG"); p != "" {
		return p
	}
	if _, err := os.Stat("config.yaml"); err == nil {
		return "config.yaml"
	}
	return ""
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors are returned, with the synopsis, by parseFlags; the flag
	// package must not print its own.
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses one command's flags; name is the command as typed
// ("tenant add"). Positional arguments are refused: every input has a
// flag, so none is silently ignored.
func parseFlags(fs *flag.FlagSet, name, synopsis string, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageErrorf(synopsis, "%s: %v", name, err)
	}
	if fs.NArg() > 0 {
		return usageErrorf(synopsis, "%s: unexpected argument %q (every value needs its flag)", name, fs.Arg(0))
	}
	return nil
}

// requireFlags reports the first of flags (name, value pairs) left empty.
func requireFlags(name, synopsis string, flags ...string) error {
	for i := 0; i+1 < len(flags); i += 2 {
		if strings.TrimSpace(flags[i+1]) == "" {
			return usageErrorf(synopsis, "%s: --%s is required", name, flags[i])
		}
	}
	return nil
}

// findTenant resolves a --tenant value (a name or an id).
func (d *deps) findTenant(ctx context.Context, nameOrID string) (lead.Tenant, error) {
	t, err := d.store.FleetFindTenant(ctx, nameOrID)
	if errors.Is(err, store.ErrNotFound) {
		return lead.Tenant{}, fmt.Errorf("--tenant %q: no tenant has this name or id (see `enqueue tenant list`)", nameOrID)
	}
	return t, err
}

// findEnabledTenant resolves a --tenant value for a command that inserts
// jobs: jobs of a disabled tenant cancel themselves, so inserting them
// would only look like work.
func (d *deps) findEnabledTenant(ctx context.Context, nameOrID string) (lead.Tenant, error) {
	t, err := d.findTenant(ctx, nameOrID)
	if err != nil {
		return lead.Tenant{}, err
	}
	if !t.Enabled {
		return lead.Tenant{}, fmt.Errorf("--tenant %q: tenant %s is disabled; run `enqueue tenant enable --tenant %s` first", nameOrID, t.Name, t.ID)
	}
	return t, nil
}

// inTenantZone formats ts in the tenant's time zone (UTC if it does not
// load): times are shown as the shop sees them.
func inTenantZone(t lead.Tenant, ts time.Time) string {
	if loc, err := t.Location(); err == nil {
		ts = ts.In(loc)
	}
	return ts.Format(time.RFC3339)
}
