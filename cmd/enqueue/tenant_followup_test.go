package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// sequenceJSON is a shop's own sequence as an operator writes it: the
// initial answer on both channels, a text two days on, and an email five
// days after that text with its own subject only.
const sequenceJSON = `[
  {"name": "initial", "channel": "sms"},
  {"name": "initial", "channel": "email"},
  {"name": "day2", "channel": "sms", "delay": "48h", "condition": "no_reply",
   "template": {"sms": "Hi {{.Lead.FirstName}}, still need a hand? Reply STOP to opt out."}},
  {"name": "week", "channel": "email", "delay": "120h", "after": "previous", "condition": "no_reply",
   "template": {"email_subject": "About your {{.Vehicle.Name}}"}}
]`

// writeTestFile writes content to a new file and returns its path.
func writeTestFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// newWebhookSecret returns a ShopMonkey-style signing secret, registered
// with b as a secret (whole and its key) so run checks it is never printed.
func (b *testBundle) newWebhookSecret(t *testing.T, env string) string {
	t.Helper()
	raw := make([]byte, 32)
	_, err := rand.Read(raw)
	require.NoError(t, err)
	key := base64.StdEncoding.EncodeToString(raw)
	b.setSecret(env, "whsec_"+key)
	b.secrets = append(b.secrets, key)
	return "whsec_" + key
}

// webhookColumns reads a tenant's webhook credentials as stored.
func (b *testBundle) webhookColumns(t *testing.T, id string) (sealed lead.SealedSecret, tokenHash []byte) {
	t.Helper()
	require.NoError(t, b.owner.QueryRow(context.Background(),
		`SELECT webhook_secret_key_id, webhook_secret_sealed, webhook_token_sha256 FROM tenants WHERE id = $1`, id).
		Scan(&sealed.KeyID, &sealed.Ciphertext, &tokenHash))
	return sealed, tokenHash
}

// tekmetricPath finds the one Tekmetric webhook path printed in out and
// returns its token.
var tekmetricPath = regexp.MustCompile(`/webhooks/tekmetric/([0-9a-f-]{36})/([A-Za-z0-9_-]+)\n`)

func TestTenantFollowUpSettings(t *testing.T) {
	t.Parallel()

	ctx := context.Background()

	t.Run("AddEveryNewFlagThenShow", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
		webhookSecret := b.newWebhookSecret(t, "SM_WEBHOOK_SECRET")
		seqFile := writeTestFile(t, sequenceJSON)

		stdout, _, err := b.run(t, "tenant", "add", "--name", "Main Street Auto", "--location-id", "loc-42",
			"--secret-env", "SHOP_KEY", "--time-zone", "America/Chicago", "--sms-from", "+13125550142",
			"--quiet-hours", "09:00-22:00", "--quiet-rule", "tx", "--sequence-file", seqFile,
			"--first-reply-without-consent", "--notify-email", "Desk@Main.Example.COM",
			"--help-text", "{{.Shop.Name}}: call us at 555-0142. Reply STOP to opt out.",
			"--webhook-secret-env", "SM_WEBHOOK_SECRET")
		require.NoError(t, err)
		require.Contains(t, stdout, "added tenant Main Street Auto")

		tenant, err := b.store.FleetFindTenant(ctx, "Main Street Auto")
		require.NoError(t, err)
		require.Equal(t, lead.QuietRuleTexas, tenant.QuietRule)
		require.Equal(t, lead.Sequence{
			{Name: "initial", Channel: lead.ChannelSMS},
			{Name: "initial", Channel: lead.ChannelEmail},
			{Name: "day2", Channel: lead.ChannelSMS, Delay: 48 * time.Hour, Condition: lead.ConditionNoReply,
				Template: lead.Templates{SMS: "Hi {{.Lead.FirstName}}, still need a hand? Reply STOP to opt out."}},
			{Name: "week", Channel: lead.ChannelEmail, Delay: 120 * time.Hour, After: lead.AnchorPrevious, Condition: lead.ConditionNoReply,
				Template: lead.Templates{EmailSubject: "About your {{.Vehicle.Name}}"}},
		}, tenant.Sequence)
		require.True(t, tenant.AllowFirstReplyWithoutConsent)
		require.Equal(t, "Desk@main.example.com", tenant.NotifyEmail)
		require.Equal(t, "{{.Shop.Name}}: call us at 555-0142. Reply STOP to opt out.", tenant.HelpText)
		require.Empty(t, tenant.WebhookTokenHash)

		// The signing secret: sealed with key A for this tenant, no
		// plaintext in the row, and it opens with the keyring.
		sealed, tokenHash := b.webhookColumns(t, tenant.ID.String())
		require.Nil(t, tokenHash)
		require.Equal(t, "A", sealed.KeyID)
		require.NotEmpty(t, sealed.Ciphertext)
		require.NotContains(t, string(sealed.Ciphertext), webhookSecret)
		require.NotContains(t, string(sealed.Ciphertext), strings.TrimPrefix(webhookSecret, "whsec_"))
		opened, err := b.keys.OpenWebhook(tenant.ID, sealed)
		require.NoError(t, err)
		require.Equal(t, webhookSecret, opened.Reveal())
		require.NotEqual(t, tenant.CRMSecret.Ciphertext, sealed.Ciphertext)

		for _, out := range []string{stdout, b.mustRun(t, "tenant", "show", "--tenant", "Main Street Auto")} {
			id := tenant.ID.String()
			for _, want := range []string{
				`quiet hours:\s+texts only 09:00-22:00\n`,
				`quiet rule:\s+TX\n`,
				`sending window:\s+texts only 09:00-21:00, Sunday 12:00-21:00, America/Chicago time\n`,
				// The TX rule holds on the customer's clock too, and the
				// stricter states' rules stay stricter.
				`customer's clock:\s+texts only 09:00-21:00, Sunday 12:00-21:00 on the customer's clock \(the state of their address in the CRM, else their number's area code; in every zone of one a zone line cuts; else the shop's\), stricter in CT, FL, MD, OK 09:00-20:00, Sunday 12:00-20:00\n`,
				`sequence:\s+the shop's own, 4 messages\n`,
				`first reply without consent:\s+allowed: the answer to the customer's own inquiry may go without consent; follow-ups need it\n`,
				`notify email:\s+Desk@main.example.com\n`,
				`help text:\s+"\{\{\.Shop\.Name\}\}: call us at 555-0142\. Reply STOP to opt out\."\n`,
				`webhook secret:\s+sealed with key A\n`,
				`webhook token:\s+not set\n`,
				`shopmonkey webhook:\s+/webhooks/shopmonkey/` + id + `\n`,
				`twilio inbound webhook:\s+/webhooks/twilio/` + id + `/sms\n`,
				`twilio status webhook:\s+/webhooks/twilio/` + id + `/status\n`,
				`sequence steps \(the shop's own, 4 messages\):\n\s+STEP\s+CHANNEL\s+DELAY\s+AFTER\s+CONDITION\s+WORDING\n`,
				`\n\s+initial\s+sms\s+0s\s+lead\s+always\s+first message\n`,
				`\n\s+initial\s+email\s+0s\s+lead\s+always\s+first message\n`,
				`\n\s+day2\s+sms\s+48h\s+lead\s+only if no reply\s+own\n`,
				`\n\s+week\s+email\s+120h\s+previous step\s+only if no reply\s+own subject; body: default follow-up\n`,
			} {
				require.Regexp(t, want, out)
			}
			require.NotContains(t, out, "tekmetric")
			// Nor the ciphertext, in any common encoding.
			for _, enc := range []string{hex.EncodeToString(sealed.Ciphertext), base64.StdEncoding.EncodeToString(sealed.Ciphertext)} {
				require.NotContains(t, out, enc)
			}
		}
	})

	t.Run("DefaultsShow", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.addTenant(t, "Main Street Auto")
		out := b.mustRun(t, "tenant", "show", "--tenant", "Main Street Auto")
		for _, want := range []string{
			`quiet rule:\s+federal \(the default\)\n`,
			`sending window:\s+texts only 08:00-21:00 every day, America/Chicago time\n`,
			`customer's clock:\s+texts only 08:00-21:00 every day on the customer's clock \(.*\), stricter in CT 09:00-20:00 every day; FL, MD, OK 08:00-20:00 every day; TX 09:00-21:00, Sunday 12:00-21:00\n`,
			`sequence:\s+default, 5 messages\n`,
			`first reply without consent:\s+not allowed: every message needs the customer's consent\n`,
			`notify email:\s+none\n`,
			`help text:\s+default\n`,
			`webhook secret:\s+none\n`,
			`webhook token:\s+not set\n`,
			`\n\s+day1\s+sms\s+24h\s+lead\s+only if no reply\s+own\n`,
			`\n\s+day7\s+sms\s+168h\s+lead\s+only if no reply\s+own\n`,
		} {
			require.Regexp(t, want, out)
		}
	})

	t.Run("BrokenSequenceFileNamesStepAndField", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
		add := func(seqFile string) error {
			_, _, err := b.run(t, "tenant", "add", "--name", "Main Street Auto", "--location-id", "loc-42",
				"--secret-env", "SHOP_KEY", "--sms-from", "+13125550142", "--sequence-file", seqFile)
			return err
		}

		// Steps that decode but break the rules: each named by its place
		// and part, all at once.
		err := add(writeTestFile(t, `[
			{"name": "initial", "channel": "sms"},
			{"name": "day2", "channel": "sms", "delay": "48h", "template": {"sms": "Hi {{.Lead.Nickname}}"}},
			{"name": "day3", "channel": "email", "delay": "72h", "condition": "maybe"}
		]`))
		require.ErrorContains(t, err, "tenant add: 2 problems:")
		require.ErrorContains(t, err, "--sequence-file: sequence[1].template.sms: template day2.sms: unknown field Nickname (in {{.Lead.Nickname}}")
		require.ErrorContains(t, err, `--sequence-file: sequence[2].condition: step "day3" has condition "maybe"`)
		var uErr *usageError
		require.True(t, errors.As(err, &uErr))

		// Steps that do not decode: each named, all at once.
		err = add(writeTestFile(t, `[
			{"name": "initial", "channel": "sms"},
			{"name": "day1", "channel": "sms", "dealy": "24h"},
			{"name": "day2", "channel": "sms", "delay": 86400},
			{"name": 7, "channel": "sms"},
			"day3"
		]`))
		require.ErrorContains(t, err, "tenant add: 4 problems:")
		require.ErrorContains(t, err, `--sequence-file: sequence[1]: step "day1": json: unknown field "dealy"`)
		require.ErrorContains(t, err, `--sequence-file: sequence[2]: step "day2": delay 86400 must be a duration string such as "24h"`)
		require.ErrorContains(t, err, `--sequence-file: sequence[3]: "name" is a JSON number, must be a string`)
		require.ErrorContains(t, err, `--sequence-file: sequence[4]: is a string, must be an object`)

		for content, want := range map[string]string{
			"[\n  {\"name\": \"initial\",}\n]": "--sequence-file: is not valid JSON: line 2 column 22: invalid character '}'",
			`{"name": "initial"}`:              "--sequence-file: holds a JSON object, must be an array of steps",
			`[]`:                               `--sequence-file: holds no steps: give at least one, or "--sequence-file default"`,
		} {
			require.ErrorContains(t, add(writeTestFile(t, content)), want)
		}
		require.ErrorContains(t, add(filepath.Join(t.TempDir(), "missing.json")), "--sequence-file: cannot read ")

		var tenants int
		require.NoError(t, b.owner.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&tenants))
		require.Zero(t, tenants)
	})

	t.Run("UpdateSequenceAndResetToDefault", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		added := b.addTenant(t, "Main Street Auto")
		seqFile := writeTestFile(t, sequenceJSON)

		stdout, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--sequence-file", seqFile)
		require.NoError(t, err)
		require.Regexp(t, `sequence:\s+default, 5 messages\s+-> the shop's own, 4 messages\n`, stdout)
		// The new steps are printed.
		require.Regexp(t, `\n\s+week\s+email\s+120h\s+previous step`, stdout)
		after, err := b.store.GetTenant(ctx, added.ID)
		require.NoError(t, err)
		require.Len(t, after.Sequence, 4)

		// The same file again changes nothing; new wording does.
		stdout = b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--sequence-file", seqFile)
		require.Contains(t, stdout, "nothing changed")
		reworded := writeTestFile(t, strings.Replace(sequenceJSON, "still need a hand?", "still need help?", 1))
		stdout = b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--sequence-file", reworded)
		require.Regexp(t, `sequence:\s+the shop's own, 4 messages\s+-> the shop's own, 4 messages, changed \(see below\)\n`, stdout)

		stdout = b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--sequence-file", "default")
		require.Regexp(t, `sequence:\s+the shop's own, 4 messages\s+-> default, 5 messages\n`, stdout)
		var isNull bool
		require.NoError(t, b.owner.QueryRow(ctx, `SELECT sequence IS NULL FROM tenants WHERE id = $1`, added.ID).Scan(&isNull))
		require.True(t, isNull)

		// An empty file resets too.
		b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--sequence-file", seqFile)
		b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--sequence-file", writeTestFile(t, "\n"))
		after, err = b.store.GetTenant(ctx, added.ID)
		require.NoError(t, err)
		require.Nil(t, after.Sequence)

		// A broken file on update names the step, and changes nothing.
		broken := writeTestFile(t, `[{"name": "initial", "channel": "sms", "template": {"sms": "Hi {{.Lead.Nickname}}"}}]`)
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--sequence-file", broken)
		require.ErrorContains(t, err, "tenant update: --sequence-file: sequence[0].template.sms: template initial.sms: unknown field Nickname")
		again, err := b.store.GetTenant(ctx, added.ID)
		require.NoError(t, err)
		require.Equal(t, after, again)
	})

	t.Run("NewWebhookTokenKeepsOnlyItsHash", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.setSecret("OAK_SECRET", "tk_client_secret_5e2b7c")
		stdout, _, err := b.run(t, "tenant", "add", "--name", "Oak Garage", "--crm", "tekmetric", "--location-id", "238",
			"--client-id", "oak-client-7", "--secret-env", "OAK_SECRET", "--sms-from", "+13125550199", "--new-webhook-token")
		require.NoError(t, err)
		tenant, err := b.store.FleetFindTenant(ctx, "Oak Garage")
		require.NoError(t, err)

		m := tekmetricPath.FindStringSubmatch(stdout)
		require.NotNil(t, m, stdout)
		require.Equal(t, tenant.ID.String(), m[1])
		token := m[2]
		require.Len(t, token, 43) // 32 bytes, base64 without padding
		require.Equal(t, 1, strings.Count(stdout, token), "the token is printed once")
		require.Contains(t, stdout, "shown only now")

		_, tokenHash := b.webhookColumns(t, tenant.ID.String())
		sum := sha256.Sum256([]byte(token))
		require.Equal(t, sum[:], tokenHash)
		require.Equal(t, sum[:], tenant.WebhookTokenHash)
		require.True(t, tenant.WebhookSecret.IsZero())
		// Only the hash: the token is nowhere in the row.
		var row string
		require.NoError(t, b.owner.QueryRow(ctx, `SELECT t::text FROM tenants t WHERE id = $1`, tenant.ID).Scan(&row))
		require.NotContains(t, row, token)

		// From now on run checks that no output holds the token, nor its
		// hash.
		b.secrets = append(b.secrets, token, hex.EncodeToString(tokenHash), base64.StdEncoding.EncodeToString(tokenHash))
		show := b.mustRun(t, "tenant", "show", "--tenant", "Oak Garage")
		require.Regexp(t, `webhook token:\s+set\n`, show)
		require.Regexp(t, `tekmetric webhook:\s+/webhooks/tekmetric/`+tenant.ID.String()+`/<token> \(the token is shown only when it is made\)\n`, show)
		require.NotContains(t, show, "/webhooks/shopmonkey/")
		b.mustRun(t, "tenant", "list")

		// A new token replaces the old one, which stops working.
		stdout = b.mustRun(t, "tenant", "update", "--tenant", "Oak Garage", "--new-webhook-token")
		require.Regexp(t, `webhook token:\s+set\s+-> a new token \(below\); the old webhook URL stops working\n`, stdout)
		m = tekmetricPath.FindStringSubmatch(stdout)
		require.NotNil(t, m, stdout)
		newToken := m[2]
		require.NotEqual(t, token, newToken)
		_, tokenHash = b.webhookColumns(t, tenant.ID.String())
		sum = sha256.Sum256([]byte(newToken))
		require.Equal(t, sum[:], tokenHash)
		b.secrets = append(b.secrets, newToken)
		b.mustRun(t, "tenant", "show", "--tenant", "Oak Garage")

		// A ShopMonkey tenant has no URL token, and a Tekmetric one no
		// signing secret.
		b.addTenant(t, "Main Street Auto")
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--new-webhook-token")
		require.ErrorContains(t, err, "--new-webhook-token: only tekmetric webhooks carry a token in their URL, and this tenant's CRM is shopmonkey")
		b.newWebhookSecret(t, "SM_WEBHOOK_SECRET")
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Oak Garage", "--webhook-secret-env", "SM_WEBHOOK_SECRET")
		require.ErrorContains(t, err, "--webhook-secret-env: only shopmonkey signs its webhooks with a secret, and this tenant's CRM is tekmetric")
	})

	t.Run("WebhookSecretFromEnvIsSealed", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		added := b.addTenant(t, "Main Street Auto")
		secret := b.newWebhookSecret(t, "SM_WEBHOOK_SECRET")

		stdout := b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--webhook-secret-env", "SM_WEBHOOK_SECRET")
		require.Regexp(t, `webhook secret:\s+none\s+-> a new secret, sealed with key A\n`, stdout)
		sealed, tokenHash := b.webhookColumns(t, added.ID.String())
		require.Nil(t, tokenHash)
		require.Equal(t, "A", sealed.KeyID)
		require.NotContains(t, string(sealed.Ciphertext), secret)
		opened, err := b.keys.OpenWebhook(added.ID, sealed)
		require.NoError(t, err)
		require.Equal(t, secret, opened.Reveal())
		// Nothing else changed.
		after, err := b.store.GetTenant(ctx, added.ID)
		require.NoError(t, err)
		after.WebhookSecret, after.UpdatedAt = lead.SealedSecret{}, added.UpdatedAt
		require.Equal(t, added, after)

		// A raw secret from a file works too, once it is long enough.
		const raw = "a-raw-signing-secret-0123"
		b.secrets = append(b.secrets, raw)
		b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--webhook-secret-file", writeTestFile(t, raw+"\n"))
		sealed, _ = b.webhookColumns(t, added.ID.String())
		opened, err = b.keys.OpenWebhook(added.ID, sealed)
		require.NoError(t, err)
		require.Equal(t, raw, opened.Reveal())

		// Secrets that cannot sign are refused, never quoted.
		for secret, want := range map[string]string{
			"short-secret":      "--webhook-secret-env: the secret is 12 characters long",
			"whsec_not*base64!": `--webhook-secret-env: the secret starts with "whsec_" but what follows is not standard base64`,
			"whsec_c2hvcnQ=":    `--webhook-secret-env: the key after "whsec_" is 5 bytes, at least 16 needed`,
		} {
			b.setSecret("BAD_WEBHOOK_SECRET", secret)
			_, _, err := b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--webhook-secret-env", "BAD_WEBHOOK_SECRET")
			require.ErrorContains(t, err, want)
		}
		_, _, err = b.run(t, "tenant", "update", "--tenant", "Main Street Auto", "--webhook-secret-env", "SM_WEBHOOK_SECRET",
			"--webhook-secret-file", "f")
		require.ErrorContains(t, err, "give only one of --webhook-secret-env and --webhook-secret-file")

		// show names the key, and says when rotate-keys would leave it
		// behind.
		b.setKeys(t, newKey(t, "B"), b.env["LEADORCH_CREDENTIALS_KEYS"])
		show := b.mustRun(t, "tenant", "show", "--tenant", "Main Street Auto")
		require.Regexp(t, `webhook secret:\s+sealed with key A\n`, show)
		require.Contains(t, show, "note: the webhook secret is sealed with key A, not the current key (B): run `enqueue tenant rotate-keys`")
	})

	t.Run("EveryProblemAtOnce", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")
		b.setSecret("SHORT_SECRET", "too-short")
		_, _, err := b.run(t, "tenant", "add", "--name", "Main Street Auto", "--location-id", "loc-42",
			"--secret-env", "SHOP_KEY", "--sms-from", "+13125550142",
			"--quiet-rule", "TEXAS", "--notify-email", "front desk", "--help-text", "Call {{.Shop.Phone}}",
			"--first-reply-without-consent=maybe", "--webhook-secret-env", "SHORT_SECRET", "--new-webhook-token",
			"--sequence-file", writeTestFile(t, `[{"name": "Initial", "channel": "fax"}]`))
		require.ErrorContains(t, err, "tenant add: 8 problems:")
		for _, want := range []string{
			`--quiet-rule: quiet rule "TEXAS" is not known (known: federal, FL, OK, MD, CT, TX, none; empty means federal)`,
			"--notify-email: ",
			"--help-text: template help: unknown field Phone",
			`--first-reply-without-consent: "maybe" is not true or false`,
			"--webhook-secret-env: the secret is 9 characters long",
			"--new-webhook-token: only tekmetric webhooks carry a token",
			"--sequence-file: sequence[0].name: ",
			"--sequence-file: sequence[0].channel: ",
		} {
			require.ErrorContains(t, err, want)
		}
	})
}

// TestTenantConversationSettings: the reply domain, the shop's phone and
// the missed-call text are set, normalised, shown and checked like every
// other setting, each problem named by its flag.
func TestTenantConversationSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.setSecret("SHOP_KEY", "sm_live_3c9a1b2d4e7f")

	_, _, err := b.run(t, "tenant", "add", "--name", "Bad Settings Auto", "--location-id", "loc-1", "--secret-env", "SHOP_KEY",
		"--sms-from", "+13125550142", "--reply-domain", "https://reply.shop.example/", "--shop-phone", "call us", "--missed-call-text", "Hi {{.Shop.Phone}}")
	require.ErrorContains(t, err, "tenant add: 3 problems:")
	for _, want := range []string{
		`--reply-domain: "https://reply.shop.example/" is not a domain`,
		"--shop-phone: ",
		"--missed-call-text: template --missed-call-text: unknown field Phone",
	} {
		require.ErrorContains(t, err, want)
	}

	stdout := b.mustRun(t, "tenant", "add", "--name", "Main Street Auto", "--location-id", "loc-42", "--secret-env", "SHOP_KEY",
		"--sms-from", "+13125550142", "--reply-domain", "Reply.MainStreet.Example", "--shop-phone", "(512) 555-0142",
		"--missed-call-text", "Sorry we missed you at {{.Shop.Name}}. Reply STOP to opt out.")
	require.Contains(t, stdout, "added tenant Main Street Auto")
	tenant, err := b.store.FleetFindTenant(ctx, "Main Street Auto")
	require.NoError(t, err)
	require.Equal(t, "reply.mainstreet.example", tenant.ReplyDomain)
	require.Equal(t, "+15125550142", tenant.ShopPhone)
	require.Equal(t, "Sorry we missed you at {{.Shop.Name}}. Reply STOP to opt out.", tenant.MissedCallText)

	show := b.mustRun(t, "tenant", "show", "--tenant", "Main Street Auto")
	require.Contains(t, show, "reply.mainstreet.example")
	require.Contains(t, show, "+15125550142")

	// Emptied again: the fleet's domain, no forwarding, the default text.
	b.mustRun(t, "tenant", "update", "--tenant", "Main Street Auto", "--reply-domain", "", "--shop-phone", "", "--missed-call-text", "")
	tenant, err = b.store.FleetFindTenant(ctx, "Main Street Auto")
	require.NoError(t, err)
	require.Empty(t, tenant.ReplyDomain+tenant.ShopPhone+tenant.MissedCallText)
	require.Contains(t, b.mustRun(t, "tenant", "show", "--tenant", "Main Street Auto"), "none: calls are not answered")
}

// mustRun runs the CLI, requires it to succeed and returns its stdout.
func (b *testBundle) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	stdout, _, err := b.run(t, args...)
	require.NoError(t, err)
	return stdout
}
