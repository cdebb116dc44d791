// Package config is the one typed, validated configuration of the Lead
// Orchestrator. It is read from config.yaml, overridden key by key from
// LEADORCH_* environment variables, and checked at start-up with every problem
// reported at once, so an operator fixes a bad deployment in one round trip
// instead of one error per restart.
//
// Every key of config.yaml maps to one field of Config through its mapstructure
// tag, and to one environment variable: LEADORCH_ followed by the dotted key in
// upper case with dots turned into underscores (queues.sms.max_workers is
// LEADORCH_QUEUES_SMS_MAX_WORKERS). Fields tagged secret are never printed:
// fmt, slog and encoding/json all see the masked form that Redacted returns.
package config

import (
	"io"
	"log/slog"
	"reflect"
	"strings"
	"time"
)

// Config is the whole configuration of a worker or CLI process. Build one with
// Load; Default gives the values used for every key the file and the
// environment leave out.
type Config struct {
	Database    DatabaseConfig    `mapstructure:"database"`
	HTTP        HTTPConfig        `mapstructure:"http"`
	Operator    OperatorConfig    `mapstructure:"operator"`
	Metrics     MetricsConfig     `mapstructure:"metrics"`
	Tracing     TracingConfig     `mapstructure:"tracing"`
	RiverUI     RiverUIConfig     `mapstructure:"riverui"`
	River       RiverConfig       `mapstructure:"river"`
	Queues      QueuesConfig      `mapstructure:"queues"`
	Poll        PollConfig        `mapstructure:"poll"`
	Outbox      OutboxConfig      `mapstructure:"outbox"`
	Retention   RetentionConfig   `mapstructure:"retention"`
	ShopMonkey  ShopMonkeyConfig  `mapstructure:"shopmonkey"`
	Tekmetric   TekmetricConfig   `mapstructure:"tekmetric"`
	Webhooks    WebhooksConfig    `mapstructure:"webhooks"`
	Credentials CredentialsConfig `mapstructure:"credentials"`
	Twilio      TwilioConfig      `mapstructure:"twilio"`
	SendGrid    SendGridConfig    `mapstructure:"sendgrid"`
	Templates   TemplatesConfig   `mapstructure:"templates"`
	Log         LogConfig         `mapstructure:"log"`
}

// DatabaseConfig is the Postgres that holds both the app's tables and River's.
type DatabaseConfig struct {
	// URL must be a postgres:// URL (pgx also takes key=value strings, but only
	// in a URL can the password be found and masked reliably). Only its
	// password is secret: host and database stay visible when printed, because
	// they are what an operator needs to see to debug a connection.
	URL string `mapstructure:"url" secret:"url"`

	// MigrateURL is the role that owns the tables, for `worker migrate`
	// only; empty means URL. The worker itself must connect (URL) as a role
	// that owns nothing and is a member of leadorch_app, so that row-level
	// security applies to it; it refuses to run as an owner or superuser.
	MigrateURL string `mapstructure:"migrate_url" secret:"url"`

	// MaxConns is the pgx pool size. River's producers and every running job
	// share it, so it bounds how much work one replica does against Postgres.
	MaxConns int `mapstructure:"max_conns"`

	// QueryExecMode is pgx's default_query_exec_mode: cache_statement
	// (pgx's default: named server-side prepared statements) for a direct
	// connection, exec (no prepared statement outlives its query) behind a
	// pooler in transaction mode, such as PgBouncer before 1.21, where the
	// next query of a connection may reach another server connection.
	QueryExecMode string `mapstructure:"query_exec_mode"`
}

// HTTPConfig is the worker's HTTP server: health, readiness, River UI and
// provider webhooks.
type HTTPConfig struct {
	Addr string `mapstructure:"addr"`

	// PublicURL is this service's base URL as providers and customers see
	// it, used to build callback URLs (Twilio status callbacks) and booking
	// links. Empty means no callbacks are requested and messages carry no
	// booking link.
	PublicURL string `mapstructure:"public_url"`

	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`

	// ReadTimeout bounds reading one whole request, body included. Without
	// it a client could trickle a webhook body forever and hold a
	// connection and a goroutine on the port the providers call.
	ReadTimeout time.Duration `mapstructure:"read_timeout"`

	// WriteTimeout bounds a request from the end of its headers to the end
	// of its response, so it counts the body's reading too: it must exceed
	// ReadTimeout plus the slowest legitimate handler. River UI's API gives
	// each call 10s (apiframe's executeAPIEndpoint), and its largest file,
	// main.js, is 511 KiB: 60s leaves a 30s body read and a slow link room.
	WriteTimeout time.Duration `mapstructure:"write_timeout"`

	// IdleTimeout closes a keep-alive connection that sends no next
	// request; it is longer than the usual load balancer's idle timeout
	// (60s) so the balancer, not this server, closes first and never sends
	// on a connection being closed.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`

	// DrainDelay is how long a stopping replica answers /readyz with 503
	// while still serving, before it closes its listener: the time a load
	// balancer needs to see it unready and stop sending it webhooks.
	DrainDelay time.Duration `mapstructure:"drain_delay"`
}

// RiverUIConfig holds the basic-auth credentials of the River UI. The UI can
// cancel and retry any tenant's jobs, so the worker refuses to serve it
// without a password (see ValidateForWorker).
type RiverUIConfig struct {
	Username string `mapstructure:"username"`
	Password string `mapstructure:"password" secret:"true"`
}

// RiverConfig tunes the River client shared by every queue.
type RiverConfig struct {
	FetchCooldown     time.Duration `mapstructure:"fetch_cooldown"`
	FetchPollInterval time.Duration `mapstructure:"fetch_poll_interval"`

	// SoftStopTimeout is how long, on SIGTERM, running jobs may finish before
	// they are cancelled and handed back to the queue for another replica.
	SoftStopTimeout time.Duration `mapstructure:"soft_stop_timeout"`

	// JobTimeout bounds one run: its context is cancelled after this long.
	// It must cover the longest legitimate run (an ingest makes up to three
	// CRM requests of up to their timeout, 15s each by default).
	JobTimeout time.Duration `mapstructure:"job_timeout"`

	// ScheduleInterval is how often the elected leader looks for tenants due
	// a poll.
	ScheduleInterval time.Duration `mapstructure:"schedule_interval"`

	// RescueStuckJobsAfter is how long a job may stay running before River
	// assumes its worker died and hands it to another replica. A replica
	// killed without warning (SIGKILL, OOM, a lost node) leaves its jobs
	// running, so this is most of what a crash costs in latency: its work
	// resumes within this plus River's rescuer interval (30s, see
	// jobs.CrashResumeBound). It must exceed JobTimeout by RescueSlack, or
	// a run still finishing would be run twice at once.
	RescueStuckJobsAfter time.Duration `mapstructure:"rescue_stuck_jobs_after"`

	// PollOnly makes River find new jobs by polling every
	// fetch_poll_interval instead of LISTEN/NOTIFY, which a pooler in
	// transaction mode cannot carry (a LISTEN lasts a session, and the
	// pooler hands the session to someone else after each transaction).
	PollOnly bool `mapstructure:"poll_only"`
}

// QueuesConfig gives each concern its own queue and concurrency, so that a
// slow CRM cannot hold back texts.
type QueuesConfig struct {
	CRM         QueueConfig `mapstructure:"crm"`
	CRMBackfill QueueConfig `mapstructure:"crm_backfill"`
	SMS         QueueConfig `mapstructure:"sms"`
	Email       QueueConfig `mapstructure:"email"`
	Bookkeeping QueueConfig `mapstructure:"bookkeeping"`
}

// QueueConfig is one River queue.
type QueueConfig struct {
	MaxWorkers int `mapstructure:"max_workers"`
}

// PollConfig shapes the time windows that poll_crm jobs list.
type PollConfig struct {
	// Overlap makes each window start this far before the previous one ended,
	// so a lead written late (CRM write lag) or stamped by a skewed clock
	// still falls inside some window. Ingestion is idempotent, so the
	// re-listed leads cost a lookup, not a duplicate.
	Overlap time.Duration `mapstructure:"overlap"`

	// MaxWindow is the longest window one poll_crm job covers; a longer gap
	// (an outage, a new tenant) is split into several jobs.
	MaxWindow time.Duration `mapstructure:"max_window"`
}

// OutboxConfig tunes the sweep that settles outbox messages no send job
// will finish.
type OutboxConfig struct {
	// SweepInterval is how often the elected leader looks for messages left
	// pending or sending whose send job is gone (cancelled or deleted in
	// River UI, or discarded) and marks them failed (never sent) or
	// ambiguous (the provider may have it), so that `enqueue messages`
	// shows them.
	SweepInterval time.Duration `mapstructure:"sweep_interval"`
}

// RetentionConfig says how long rows that only young ones need are kept,
// and how often the elected leader deletes older ones.
type RetentionConfig struct {
	// WebhookReceipts is how long a CRM webhook's delivery id is kept to
	// drop the provider's redeliveries of it. Standard Webhooks (ShopMonkey)
	// retries a failed delivery for about 27.5 hours (5s, 5m, 30m, 2h, 5h,
	// 10h, 10h), so it must stay well above that; a redelivery after it
	// only re-fetches the record (ingest schedules messages only for a lead
	// it creates).
	WebhookReceipts time.Duration `mapstructure:"webhook_receipts"`

	// InboundMessages is how long what customers texted (replies, STOP,
	// START, HELP) is kept. Suppressions and a lead's replied_at live
	// elsewhere and are not pruned; a STOP or START handled late compares
	// itself with later texts, so this must outlast a handle_inbound job's
	// retries (hours).
	InboundMessages time.Duration `mapstructure:"inbound_messages"`

	// PruneInterval is how often the elected leader deletes what is past
	// retention.
	PruneInterval time.Duration `mapstructure:"prune_interval"`
}

// ShopMonkeyConfig is the ShopMonkey API client. An empty BaseURL means the
// real service; tests and the demo point it at cmd/sandbox.
type ShopMonkeyConfig struct {
	BaseURL string        `mapstructure:"base_url"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// TekmetricConfig is the Tekmetric API client. An empty BaseURL means the
// production API; a tenant's own crm_base_url (the sandbox host, say) wins.
type TekmetricConfig struct {
	BaseURL string        `mapstructure:"base_url"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// WebhooksConfig limits the CRM webhooks (ShopMonkey, Tekmetric) each
// tenant may deliver, across the whole fleet. Every delivery taken can put
// a live ingest at the head of the crm queue every shop shares, so one
// shop's webhook credential (or anyone who saw its Tekmetric URL) could
// otherwise hold back every other shop's leads. A delivery over the limit
// is answered 429 with Retry-After and enqueues nothing: the CRM delivers
// it again, and the poll finds the change in any case.
type WebhooksConfig struct {
	// IntakePerMinute is the sustained rate of deliveries a tenant may
	// make (those about an order or appointment of its shop; others are
	// ignored without counting).
	IntakePerMinute int `mapstructure:"intake_per_minute"`
	// IntakeBurst is how many deliveries a tenant may make at once, after a
	// quiet spell (a CRM catching up on a backlog, staff editing many
	// orders at once).
	IntakeBurst int `mapstructure:"intake_burst"`
}

// CredentialsConfig holds the keys that seal tenants' CRM secrets at rest.
type CredentialsConfig struct {
	// Keys is comma-separated ID=BASE64KEY pairs (32-byte AES-256 keys);
	// the first seals, all open. Rotate by putting a new key first, running
	// `enqueue tenant rotate-keys`, then removing the old one.
	Keys string `mapstructure:"keys" secret:"true"`
}

// TwilioConfig is the Twilio client used to send texts. An empty BaseURL
// means the real service.
type TwilioConfig struct {
	BaseURL    string        `mapstructure:"base_url"`
	AccountSID string        `mapstructure:"account_sid"`
	AuthToken  string        `mapstructure:"auth_token" secret:"true"`
	Timeout    time.Duration `mapstructure:"timeout"`
}

// SendGridConfig is the SendGrid client used to send email. An empty BaseURL
// means the real service.
type SendGridConfig struct {
	BaseURL string        `mapstructure:"base_url"`
	APIKey  string        `mapstructure:"api_key" secret:"true"`
	Timeout time.Duration `mapstructure:"timeout"`

	// SandboxMode asks SendGrid to validate each email without delivering it.
	SandboxMode bool `mapstructure:"sandbox_mode"`

	// WebhookPublicKey is the base64 ECDSA public key of SendGrid's signed
	// event webhook. Empty disables the event route, and with it the
	// confirmation of interrupted sends.
	WebhookPublicKey string `mapstructure:"webhook_public_key"`

	// ConfirmWait bounds how long an interrupted send waits for SendGrid's
	// "processed" event before it is resent or marked ambiguous.
	ConfirmWait time.Duration `mapstructure:"confirm_wait"`

	// InboundPublicKey is the base64 ECDSA public key of the signature
	// security policy on SendGrid Inbound Parse. Empty disables the
	// inbound email route (/webhooks/sendgrid/inbound).
	InboundPublicKey string `mapstructure:"inbound_public_key"`

	// ReplyDomain is the fleet's receiving domain for reply addresses
	// (r+<token>@reply_domain), for shops that set none of their own.
	// Empty: emails of such shops carry no reply address.
	ReplyDomain string `mapstructure:"reply_domain"`
}

// TemplatesConfig holds the text/template sources of the first messages sent
// to a lead. Validate checks that they parse and render against sample leads
// (lead.CheckTemplate, as a tenant's own templates are checked), so a
// template naming a field a message does not have stops the worker at
// start-up.
type TemplatesConfig struct {
	SMS          string `mapstructure:"sms"`
	EmailSubject string `mapstructure:"email_subject"`
	EmailText    string `mapstructure:"email_text"`
}

// LogConfig chooses the level and format of the process's structured log.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// NewLogger returns a logger writing to w at the configured level and format.
// Values that Validate would reject fall back to info and JSON rather than
// failing, so that the error explaining them can still be logged.
func (c LogConfig) NewLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Default returns the configuration used for every key that neither the file
// nor the environment sets. It passes Validate but not ValidateForWorker: the
// provider credentials and the River UI password have no safe default.
func Default() Config {
	return Config{
		Database: DatabaseConfig{
			URL:           "postgres://leadorch_worker@127.0.0.1:5432/leadorch?sslmode=disable",
			MaxConns:      20,
			QueryExecMode: "cache_statement",
		},
		HTTP: HTTPConfig{
			Addr:            ":8080",
			ShutdownTimeout: 10 * time.Second,
			ReadTimeout:     30 * time.Second,
			WriteTimeout:    60 * time.Second,
			IdleTimeout:     90 * time.Second,
			DrainDelay:      5 * time.Second,
		},
		Operator: OperatorConfig{Addr: "127.0.0.1:9464"},
		Metrics:  MetricsConfig{DatabaseStatsInterval: 10 * time.Second},
		Tracing:  TracingConfig{SampleRatio: 1, ServiceName: "lead-orchestrator"},
		RiverUI: RiverUIConfig{
			Username: "admin",
		},
		River: RiverConfig{
			FetchCooldown:     20 * time.Millisecond,
			FetchPollInterval: 500 * time.Millisecond,
			SoftStopTimeout:   15 * time.Second,
			JobTimeout:        60 * time.Second,
			ScheduleInterval:  5 * time.Second,
			// River's own default is an hour: after 16 SIGKILLs of 3
			// replicas on it, 21 leads waited un-ingested and 45 messages
			// unsent three minutes after the last kill. 90s is the 60s
			// job timeout, RescueSlack and ten seconds to spare; a killed
			// replica's work resumes within about two minutes.
			RescueStuckJobsAfter: 90 * time.Second,
		},
		Queues: QueuesConfig{
			CRM:         QueueConfig{MaxWorkers: 20},
			CRMBackfill: QueueConfig{MaxWorkers: 5},
			SMS:         QueueConfig{MaxWorkers: 50},
			Email:       QueueConfig{MaxWorkers: 50},
			Bookkeeping: QueueConfig{MaxWorkers: 50},
		},
		Poll: PollConfig{
			Overlap:   2 * time.Minute,
			MaxWindow: 24 * time.Hour,
		},
		Outbox: OutboxConfig{SweepInterval: time.Minute},
		Retention: RetentionConfig{
			WebhookReceipts: 30 * 24 * time.Hour,
			InboundMessages: 90 * 24 * time.Hour,
			PruneInterval:   time.Hour,
		},
		ShopMonkey: ShopMonkeyConfig{Timeout: 15 * time.Second},
		Tekmetric:  TekmetricConfig{Timeout: 15 * time.Second},
		Twilio:     TwilioConfig{Timeout: 10 * time.Second},
		SendGrid:   SendGridConfig{Timeout: 10 * time.Second, ConfirmWait: 10 * time.Minute},
		Templates: TemplatesConfig{
			SMS:          "Hi {{.Lead.FirstName}}, this is {{.Shop.Name}}. We got your request{{with .Vehicle.Name}} about your {{.}}{{end}} and will text you shortly with next steps.{{with .BookingURL}} Book a time online: {{.}}{{end}} Reply STOP to opt out.",
			EmailSubject: "{{.Shop.Name}} received your request",
			EmailText:    defaultEmailText,
		},
		Log: LogConfig{
			Level:  "info",
			Format: "json",
		},
		// A shop's webhooks come from people: staff editing orders, customers
		// booking. The demo's shop sends one a second and the bench's
		// tenants two a second each (make bench's webhook run); 300 a minute
		// sustained, 150 at once, is several times what any one shop sends,
		// yet keeps what one tenant can queue ahead of the others small.
		Webhooks: WebhooksConfig{IntakePerMinute: 300, IntakeBurst: 150},
	}
}

const defaultEmailText = `Hi {{.Lead.FirstName}},

Thanks for contacting {{.Shop.Name}}{{with .Vehicle.Name}} about your {{.}}{{end}}. We received your request:

{{.Lead.Summary}}

Someone from our team will get back to you shortly with next steps. If you would rather talk now, just reply to this email.
{{with .BookingURL}}
You can also pick a time yourself: {{.}}
{{end}}
{{.Shop.Name}}
`

// leaf is one key of the configuration. Defaults, environment overrides, the
// unknown-key check and masking all walk the leaves of Config found by
// reflection, so a field added to the struct gets all four without a second
// list to keep in step.
type leaf struct {
	key    string // dotted, e.g. "queues.sms.max_workers"
	index  []int  // for reflect.Value.FieldByIndex
	secret string // the field's secret tag: "" (not secret), "url" or anything else (mask all)
}

// leavesOf returns the leaves of struct type t in declaration order, their keys
// starting with prefix. Nested structs are sections; every other field is a
// leaf.
func leavesOf(t reflect.Type, prefix string, index []int) []leaf {
	var leaves []leaf
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("mapstructure")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct {
			leaves = append(leaves, leavesOf(f.Type, key+".", idx)...)
			continue
		}
		leaves = append(leaves, leaf{key: key, index: idx, secret: f.Tag.Get("secret")})
	}
	return leaves
}

func configLeaves() []leaf {
	return leavesOf(reflect.TypeFor[Config](), "", nil)
}

// envVar returns the environment variable that overrides key.
func envVar(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

const envPrefix = "LEADORCH_"

// EnvVars returns the name of every environment variable Load reads, in
// the order of config.yaml's keys (and DATABASE_URL last), so that a
// deployment's manifests can be checked against the keys that exist.
func EnvVars() []string {
	var names []string
	for _, l := range configLeaves() {
		names = append(names, envVar(l.key))
	}
	return append(names, "DATABASE_URL")
}
