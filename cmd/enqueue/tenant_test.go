package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTenantCommands(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		const key = "sm_live_7f3c9a1b2d4e"
		b.env["MAIN_STREET_KEY"] = key

		stdout, stderr, err := b.run(t, "tenant", "add", "--name", "Main Street Auto", "--location-id", "loc-42",
			"--api-key-env", "MAIN_STREET_KEY", "--time-zone", "America/Denver", "--poll-interval", "90s",
			"--sms-from", "(555) 555-0142", "--email-from", "Shop@Example.COM", "--sms-template", "Hi {{.Lead.FirstName}}")
		require.NoError(t, err)
		require.NotContains(t, stdout+stderr, key)
		require.Contains(t, stdout, "added tenant Main Street Auto")
		require.Regexp(t, `api key:\s+\*\*\*\*\n`, stdout)
		require.Regexp(t, `sms from:\s+\+15555550142\n`, stdout)
		require.Regexp(t, `sms template:\s+the tenant's own\n`, stdout)

		tenant, err := b.store.FleetFindTenant(context.Background(), "Main Street Auto")
		require.NoError(t, err)
		require.Contains(t, stdout, tenant.ID.String())
		require.Equal(t, key, tenant.CRMAPIKey.Reveal())
		require.Equal(t, "loc-42", tenant.CRMLocationID)
		require.Equal(t, "America/Denver", tenant.TimeZone)
		require.Equal(t, 90*time.Second, tenant.PollInterval)
		require.Equal(t, "+15555550142", tenant.SMSFrom)
		require.Equal(t, "Shop@example.com", tenant.EmailFrom)
		require.Equal(t, "Hi {{.Lead.FirstName}}", tenant.Templates.SMS)
		require.True(t, tenant.Enabled)

		// A second tenant, its key from a file, added disabled.
		keyFile := filepath.Join(t.TempDir(), "key")
		require.NoError(t, os.WriteFile(keyFile, []byte("  file_key_0042\n"), 0o600))
		stdout, stderr, err = b.run(t, "tenant", "add", "--name", "Elm Street Auto", "--location-id", "loc-43",
			"--api-key-file", keyFile, "--messaging-service-sid", "MG"+strings.Repeat("ab", 16), "--disabled")
		require.NoError(t, err)
		require.NotContains(t, stdout+stderr, "file_key_0042")
		elm, err := b.store.FleetFindTenant(context.Background(), "Elm Street Auto")
		require.NoError(t, err)
		require.Equal(t, "file_key_0042", elm.CRMAPIKey.Reveal())
		require.False(t, elm.Enabled)

		stdout, stderr, err = b.run(t, "tenant", "list")
		require.NoError(t, err)
		require.NotContains(t, stdout+stderr, key)
		require.NotContains(t, stdout+stderr, "file_key_0042")
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		require.Len(t, lines, 3)
		require.Regexp(t, `^ID\s+NAME\s+CRM\s+LOCATION\s+TIME ZONE\s+POLL INTERVAL\s+ENABLED\s+POLL CURSOR$`, lines[0])
		require.Regexp(t, `^`+elm.ID.String()+`\s+Elm Street Auto\s+shopmonkey\s+loc-43\s+America/New_York\s+1m0s\s+false\s+\d{4}-`, lines[1])
		require.Regexp(t, `^`+tenant.ID.String()+`\s+Main Street Auto\s+shopmonkey\s+loc-42\s+America/Denver\s+1m30s\s+true\s+\d{4}-`, lines[2])

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
		require.Regexp(t, `Main Street Auto\s+shopmonkey\s+loc-42\s+America/Denver\s+1m30s\s+true`, stdout)
	})

	t.Run("ListEmpty", func(t *testing.T) {
		t.Parallel()

		b := setup(t)
		stdout, _, err := b.run(t, "tenant", "list")
		require.NoError(t, err)
		require.Contains(t, stdout, "no tenants yet")
	})

	t.Run("KeyNeverInErrors", func(t *testing.T) {
		t.Parallel()

		// An operator who puts the key where its variable's name or file
		// belongs must not see it echoed into a terminal or a CI log.
		b := setup(t)
		const key = "sm_live_secret_value"
		for _, args := range [][]string{
			{"--api-key-env", key},
			{"--api-key-file", key},
		} {
			_, stderr, err := b.run(t, append([]string{"tenant", "add", "--name", "X Auto", "--location-id", "l", "--sms-from", "+15555550100"}, args...)...)
			require.Error(t, err)
			require.Contains(t, err.Error(), args[0])
			require.NotContains(t, err.Error()+stderr, key)
		}
	})
}
