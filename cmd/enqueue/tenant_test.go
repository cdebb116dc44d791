package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestTenantCommands(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		const key = "sm_live_7f3c9a1b2d4e"
		b.setSecret("MAIN_STREET_KEY", key)

		stdout, _, err := b.run(t, "tenant", "add", "--name", "Main Street Auto", "--location-id", "loc-42",
			"--api-key-env", "MAIN_STREET_KEY", "--time-zone", "America/Denver", "--poll-interval", "90s",
			"--sms-from", "(312) 555-0142", "--email-from", "Shop@Example.COM", "--sms-template", "Hi {{.Lead.FirstName}}. Reply STOP to opt out")
		require.NoError(t, err)
		require.Contains(t, stdout, "added tenant Main Street Auto")
		require.Regexp(t, `crm secret:\s+sealed with key A\n`, stdout)
		require.Regexp(t, `sms from:\s+\+13125550142\n`, stdout)
		require.Regexp(t, `quiet hours:\s+texts only 08:00-21:00\n`, stdout)
		require.Regexp(t, `sms template:\s+"Hi \{\{\.Lead\.FirstName\}\}\. Reply STOP to opt out"\n`, stdout)
		require.Regexp(t, `email text template:\s+fleet default\n`, stdout)

		tenant, err := b.store.FleetFindTenant(context.Background(), "Main Street Auto")
		require.NoError(t, err)
		require.Contains(t, stdout, tenant.ID.String())
		secret, err := b.keys.OpenFor(tenant)
		require.NoError(t, err)
		require.Equal(t, key, secret.Reveal())
		require.Equal(t, "shopmonkey", tenant.CRMKind)
		require.Equal(t, "loc-42", tenant.CRMLocationID)
		require.Equal(t, "America/Denver", tenant.TimeZone)
		require.Equal(t, lead.DefaultQuietHours, tenant.QuietHours)
		require.Equal(t, 90*time.Second, tenant.PollInterval)
		require.Equal(t, "+13125550142", tenant.SMSFrom)
		require.Equal(t, "Shop@example.com", tenant.EmailFrom)
		require.Equal(t, "Hi {{.Lead.FirstName}}. Reply STOP to opt out", tenant.Templates.SMS)
		require.True(t, tenant.Enabled)

		// A second tenant, its key from a file, added disabled.
		keyFile := filepath.Join(t.TempDir(), "key")
		b.secrets = append(b.secrets, "file_key_0042")
		require.NoError(t, os.WriteFile(keyFile, []byte("  file_key_0042\n"), 0o600))
		_, _, err = b.run(t, "tenant", "add", "--name", "Elm Street Auto", "--location-id", "loc-43",
			"--api-key-file", keyFile, "--messaging-service-sid", "MG"+strings.Repeat("ab", 16), "--disabled")
		require.NoError(t, err)
		elm, err := b.store.FleetFindTenant(context.Background(), "Elm Street Auto")
		require.NoError(t, err)
		secret, err = b.keys.OpenFor(elm)
		require.NoError(t, err)
		require.Equal(t, "file_key_0042", secret.Reveal())
		require.False(t, elm.Enabled)

		stdout, _, err = b.run(t, "tenant", "list")
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		require.Len(t, lines, 3)
		require.Regexp(t, `^ID\s+NAME\s+CRM\s+LOCATION\s+TIME ZONE\s+QUIET HOURS\s+POLL INTERVAL\s+ENABLED\s+KEY\s+POLL CURSOR\s+ATTENTION$`, lines[0])
		require.Regexp(t, `^`+elm.ID.String()+`\s+Elm Street Auto\s+shopmonkey\s+loc-43\s+America/New_York\s+08:00-21:00\s+1m0s\s+false\s+A\s+\d{4}-`, lines[1])
		require.Regexp(t, `^`+tenant.ID.String()+`\s+Main Street Auto\s+shopmonkey\s+loc-42\s+America/Denver\s+08:00-21:00\s+1m30s\s+true\s+A\s+\d{4}-`, lines[2])

		stdout, _, err = b.run(t, "tenant", "disable", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		require.Contains(t, stdout, "is now disabled")
		tenant, err = b.store.FleetFindTenant(context.Background(), tenant.ID.String())
		require.NoError(t, err)
		require.False(t, tenant.Enabled)

		stdout, _, err = b.run(t, "tenant", "disable", "--tenant", tenant.ID.String())
		require.NoError(t, err)
		require.Contains(t, stdout, "is already disabled")

		stdout, _, err = b.run(t, "tenant", "enable", "--tenant", tenant.ID.String())
		require.NoError(t, err)
		require.Contains(t, stdout, "is now enabled")
		tenant, err = b.store.FleetFindTenant(context.Background(), tenant.ID.String())
		require.NoError(t, err)
		require.True(t, tenant.Enabled)

		stdout, _, err = b.run(t, "tenant", "list")
		require.NoError(t, err)
		require.Regexp(t, `Main Street Auto\s+shopmonkey\s+loc-42\s+America/Denver\s+08:00-21:00\s+1m30s\s+true`, stdout)
	})

	t.Run("AddEverySettingThenShow", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		const secret = "tk_client_secret_5e2b7c"
		b.setSecret("OAK_SECRET", secret)
		sid := "MG" + strings.Repeat("0f", 16)

		stdout, _, err := b.run(t, "tenant", "add", "--name", "Oak Street Auto", "--crm", "tekmetric",
			"--location-id", "238", "--client-id", "oak-client-7", "--secret-env", "OAK_SECRET",
			"--crm-base-url", "https://sandbox.tekmetric.com", "--rate-limit", "120", "--quiet-hours", "09:30-20:00",
			"--time-zone", "America/Chicago", "--poll-interval", "2m", "--sms-from", "+13125550199",
			"--messaging-service-sid", sid, "--email-from", "service@oak.example.com", "--email-from-name", "Oak Street Auto",
			"--sms-template", "Hi {{.Lead.FirstName}}, it's {{.Shop.Name}}. Reply STOP to opt out", "--email-subject-template", "Your {{.Vehicle.Name}}",
			"--email-text-template", "Hello {{.Lead.FirstName}}", "--disabled")
		require.NoError(t, err)
		require.Contains(t, stdout, "added tenant Oak Street Auto")

		// The row: the secret sealed with key A, bound to the tenant's id,
		// and no plaintext anywhere.
		var (
			keyID, legacyKey string
			sealed           []byte
			tenantID         string
		)
		require.NoError(t, b.owner.QueryRow(context.Background(),
			`SELECT id::text, crm_secret_key_id, crm_secret_sealed, crm_api_key FROM tenants WHERE name = 'Oak Street Auto'`).
			Scan(&tenantID, &keyID, &sealed, &legacyKey))
		require.Equal(t, "A", keyID)
		require.Empty(t, legacyKey)
		require.NotEmpty(t, sealed)
		require.NotContains(t, string(sealed), secret)
		tenant, err := b.store.FleetFindTenant(context.Background(), tenantID)
		require.NoError(t, err)
		opened, err := b.keys.OpenFor(tenant)
		require.NoError(t, err)
		require.Equal(t, secret, opened.Reveal())

		require.Equal(t, lead.Tenant{
			ID: tenant.ID, Name: "Oak Street Auto", CRMKind: "tekmetric", CRMBaseURL: "https://sandbox.tekmetric.com",
			CRMLocationID: "238", CRMClientID: "oak-client-7", CRMSecret: tenant.CRMSecret, CRMRateLimit: 120,
			TimeZone: "America/Chicago", QuietHours: lead.QuietHours{Start: 9*60 + 30, End: 20 * 60}, PollInterval: 2 * time.Minute,
			PollCursor: tenant.PollCursor, NextPollAt: tenant.NextPollAt, SMSFrom: "+13125550199", MessagingServiceSID: sid,
			EmailFrom: "service@oak.example.com", EmailFromName: "Oak Street Auto",
			Templates: lead.Templates{SMS: "Hi {{.Lead.FirstName}}, it's {{.Shop.Name}}. Reply STOP to opt out", EmailSubject: "Your {{.Vehicle.Name}}", EmailText: "Hello {{.Lead.FirstName}}"},
			Enabled:   false, CreatedAt: tenant.CreatedAt, UpdatedAt: tenant.UpdatedAt,
		}, tenant)

		for _, ref := range []string{"Oak Street Auto", tenant.ID.String()} {
			stdout, _, err = b.run(t, "tenant", "show", "--tenant", ref)
			require.NoError(t, err)
			for _, want := range []string{
				`id:\s+` + tenant.ID.String() + `\n`,
				`name:\s+Oak Street Auto\n`,
				`crm:\s+tekmetric\n`,
				`crm base url:\s+https://sandbox.tekmetric.com\n`,
				`location id:\s+238\n`,
				`client id:\s+oak-client-7\n`,
				`crm secret:\s+sealed with key A\n`,
				`rate limit:\s+120 requests per minute\n`,
				`time zone:\s+America/Chicago\n`,
				`quiet hours:\s+texts only 09:30-20:00\n`,
				`poll interval:\s+2m0s\n`,
				`sms from:\s+\+13125550199\n`,
				`messaging service sid:\s+` + sid + `\n`,
				`email from:\s+service@oak.example.com\n`,
				`email from name:\s+Oak Street Auto\n`,
				`sms template:\s+"Hi \{\{\.Lead\.FirstName\}\}, it's \{\{\.Shop\.Name\}\}\. Reply STOP to opt out"\n`,
				`email subject template:\s+"Your \{\{\.Vehicle\.Name\}\}"\n`,
				`email text template:\s+"Hello \{\{\.Lead\.FirstName\}\}"\n`,
				`enabled:\s+false\n`,
				`poll cursor:\s+\d{4}-\d\d-\d\dT[0-9:]+-0[56]:00\n`,
				`next poll:\s+\d{4}-`,
			} {
				require.Regexp(t, want, stdout)
			}
			// Neither the secret (run checks) nor its ciphertext, in any
			// common encoding.
			for _, enc := range []string{hex.EncodeToString(sealed), base64.StdEncoding.EncodeToString(sealed), string(sealed)} {
				require.NotContains(t, stdout, enc)
			}
			require.NotContains(t, stdout, "note:")
			require.NotContains(t, stdout, "warning:")
		}
	})

	t.Run("ShowSaysWhenTheKeyIsNotCurrent", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		keyA := b.env["LEADORCH_CREDENTIALS_KEYS"]
		b.addTenant(t, "Main Street Auto")

		b.setKeys(t, newKey(t, "B"), keyA)
		stdout, _, err := b.run(t, "tenant", "show", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		require.Contains(t, stdout, "note: key A is not the current key (B); `enqueue tenant rotate-keys` re-seals the secret")

		b.setKeys(t, newKey(t, "C"))
		stdout, _, err = b.run(t, "tenant", "show", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		require.Contains(t, stdout, "warning: key A is not in credentials.keys: workers cannot open this secret")

		// show needs no keys at all.
		delete(b.env, "LEADORCH_CREDENTIALS_KEYS")
		stdout, _, err = b.run(t, "tenant", "show", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		require.Regexp(t, `crm secret:\s+sealed with key A\n`, stdout)
	})

	t.Run("ListEmpty", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		stdout, _, err := b.run(t, "tenant", "list")
		require.NoError(t, err)
		require.Contains(t, stdout, "no tenants yet")
	})

	t.Run("SecretNeverInErrors", func(t *testing.T) {
		t.Parallel()

		// An operator who puts the secret where its variable's name or
		// file belongs must not see it echoed into a terminal or a CI log
		// (run checks every output for b.secrets).
		b := setup(t)
		const secret = "sm_live_secret_value"
		b.secrets = append(b.secrets, secret)
		b.addTenant(t, "Main Street Auto")
		for _, flag := range []string{"--api-key-env", "--api-key-file", "--secret-env", "--secret-file"} {
			_, _, err := b.run(t, "tenant", "add", "--name", "X Auto", "--location-id", "l", "--sms-from", "+13125550100", flag, secret)
			require.Error(t, err)
			require.Contains(t, err.Error(), flag)

			_, _, err = b.run(t, "tenant", "update", "--tenant", "Main Street Auto", flag, secret)
			require.Error(t, err)
			require.Contains(t, err.Error(), flag)
		}
	})

	t.Run("NoKeys", func(t *testing.T) {
		t.Parallel()

		// Commands that seal or open secrets say which setting is missing,
		// before connecting to anything (there is no database here).
		b := &testBundle{env: map[string]string{"SHOP_KEY": "sk_test_1"}, secrets: []string{"sk_test_1"}}
		for _, args := range [][]string{
			{"tenant", "add", "--name", "X Auto", "--location-id", "l", "--sms-from", "+13125550100", "--secret-env", "SHOP_KEY"},
			{"tenant", "update", "--tenant", "X Auto", "--poll-interval", "2m"},
			{"tenant", "rotate-keys"},
		} {
			_, _, err := b.run(t, args...)
			require.ErrorContains(t, err, strings.Join(args[:2], " ")+": cannot seal or open CRM secrets")
			require.ErrorContains(t, err, "credentials.keys (LEADORCH_CREDENTIALS_KEYS)")
			var uErr *usageError
			require.False(t, errors.As(err, &uErr))
		}
	})
}

func TestFlagReason(t *testing.T) {
	t.Parallel()

	for reason, want := range map[string]string{
		"or messaging_service_sid is required: texts need a sender": "or --messaging-service-sid is required: texts need a sender",
		"differs from email_from_name and email_from":               "differs from --email-from-name and --email-from",
		"templates.sms and templates.email_text":                    "--sms-template and --email-text-template",
		"the name of the crm":                                       "the name of the crm",
		"crm_secret is sealed":                                      "crm_secret is sealed",
	} {
		require.Equal(t, want, flagReason(reason))
	}
}
