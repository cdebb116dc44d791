package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// reportNow is the clock of every report test: a Friday noon in Chicago,
// after the clocks fell back, so the default range (7 days) is
// 2026-11-13T12:00 to 2026-11-20T12:00 CST.
var reportNow = mustTime("2026-11-20T12:00:00-06:00")

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// reportLead is a lead as a report test plants it: when we first saw it,
// when its CRM made it (empty: the CRM did not say), when its first text
// was accepted (empty: never), and what became of it.
type reportLead struct {
	source                     lead.Source
	seen, crmCreated, textedAt string
	replied, booked, optedOut  bool
	backfilled                 bool
	failedSMS, bouncedEmail    bool
	ambiguousEmail             bool
}

// plant stores the lead through the store (as the application role),
// then dates it as the owner: no command sets a lead's first sight.
func (b *testBundle) plant(t *testing.T, tenant lead.Tenant, n int, rl reportLead) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	l := fixture.Lead("order:"+tenant.Name+string(rune('a'+n)), func(l *lead.Lead) {
		l.Source, l.FoundVia = rl.source, lead.FoundViaWebhook
		if rl.source == lead.SourceAppointment {
			l.ExternalID = "appointment:" + tenant.Name + string(rune('a'+n))
		}
		if rl.crmCreated != "" {
			l.CRMCreatedAt = mustTime(rl.crmCreated)
		}
	})
	id, inserted, err := b.store.UpsertLead(ctx, tenant.ID, l, rl.backfilled)
	require.NoError(t, err)
	require.True(t, inserted)
	_, err = b.owner.Exec(ctx, `UPDATE leads SET created_at = $2 WHERE id = $1`, id, mustTime(rl.seen))
	require.NoError(t, err)
	if rl.textedAt != "" {
		_, isFirst, err := b.store.RecordFirstMessage(ctx, tenant.ID, id, lead.ChannelSMS, mustTime(rl.textedAt))
		require.NoError(t, err)
		require.True(t, isFirst)
	}
	for status, set := range map[lead.Status]bool{lead.StatusReplied: rl.replied, lead.StatusBooked: rl.booked, lead.StatusOptedOut: rl.optedOut} {
		if set {
			require.NoError(t, b.store.SetLeadStatus(ctx, tenant.ID, id, status))
		}
	}
	problem := func(ch lead.Channel, to string, status lead.MessageStatus, reason string) {
		m, err := b.store.LockMessage(ctx, tenant.ID, lead.Message{LeadID: id, Step: lead.StepInitial, Channel: ch, To: to, Body: "hello"})
		require.NoError(t, err)
		require.NoError(t, b.store.SetMessageStatus(ctx, tenant.ID, m.ID, status, reason))
	}
	if rl.failedSMS {
		problem(lead.ChannelSMS, string(l.Phone), lead.MessageFailed, "send failed (permanent, code 21614): error sending sms to "+string(l.Phone)+": not a mobile number")
	}
	if rl.bouncedEmail {
		problem(lead.ChannelEmail, string(l.Email), lead.MessageFailed, "bounce: 550 "+string(l.Email)+" mailbox unavailable")
	}
	if rl.ambiguousEmail {
		problem(lead.ChannelEmail, string(l.Email), lead.MessageAmbiguous, "no confirmation from the provider within 10m0s of an interrupted send")
	}
	return id
}

// runReport runs the CLI at reportNow.
func (b *testBundle) runReport(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	sys := system{now: func() time.Time { return reportNow }, isTerminal: func(io.Writer) bool { return false }, after: time.After}
	err = runOn(context.Background(), sys, append([]string{"enqueue", "report"}, args...), func(k string) string { return b.env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

// setupReport plants two shops' leads with known times and one shop with
// none. Main Street Auto texts 08:00-21:00 in Chicago.
func setupReport(t *testing.T) *testBundle {
	t.Helper()
	b := setup(t)
	main, oak := b.addTenant(t, "Main Street Auto"), b.addTenant(t, "Oak Auto")
	b.addTenant(t, "Quiet Auto")
	for i, rl := range []reportLead{
		// 30 s to the text, all of it open; 90 s from the CRM's creation.
		{source: lead.SourceEstimate, seen: "2026-11-18T10:00:00-06:00", crmCreated: "2026-11-18T09:59:00-06:00", textedAt: "2026-11-18T10:00:30-06:00", replied: true},
		// Seen a minute before closing, texted a minute after opening:
		// 11h02m, of which 2 minutes open. The CRM gave no time.
		{source: lead.SourceEstimate, seen: "2026-11-18T20:59:00-06:00", textedAt: "2026-11-19T08:01:00-06:00", booked: true},
		// 100 s, all open; 200 s from the CRM.
		{source: lead.SourceEstimate, seen: "2026-11-19T14:00:00-06:00", crmCreated: "2026-11-19T13:58:20-06:00", textedAt: "2026-11-19T14:01:40-06:00", optedOut: true},
		// Never texted: counted in leads, not in the times.
		{source: lead.SourceEstimate, seen: "2026-11-19T15:00:00-06:00", failedSMS: true, bouncedEmail: true},
		{source: lead.SourceAppointment, seen: "2026-11-17T09:00:00-06:00", textedAt: "2026-11-17T09:00:10-06:00", ambiguousEmail: true},
		// Outside the range, and a backfill's unmessaged import: neither counts.
		{source: lead.SourceEstimate, seen: "2026-11-10T10:00:00-06:00", textedAt: "2026-11-10T10:00:05-06:00"},
		{source: lead.SourceEstimate, seen: "2026-11-18T11:00:00-06:00", backfilled: true},
	} {
		b.plant(t, main, i, rl)
	}
	b.plant(t, oak, 0, reportLead{source: lead.SourceEstimate, seen: "2026-11-19T09:00:00-06:00", textedAt: "2026-11-19T09:00:05-06:00"})
	return b
}

func TestReport(t *testing.T) {
	t.Parallel()
	b := setupReport(t)
	customer := []string{"+13122013344", "ann@example.com", "ann", "3344"}

	t.Run("CSV", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := b.runReport(t, "--format", "csv")
		require.NoError(t, err)
		require.Empty(t, stderr)
		records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, [][]string{
			reportColumns,
			{"Main Street Auto", "appointment", "1", "1", "10", "10", "10", "10", "n/a", "n/a", "0", "0", "0", "0", "", "1"},
			{"Main Street Auto", "estimate", "4", "3", "100", "31796", "100", "116", "145", "189", "0.25", "0.25", "0.25",
				"2", "email: bounced 1; sms: refused by the provider (code 21614) 1", "0"},
			{"Oak Auto", "estimate", "1", "1", "5", "5", "5", "5", "n/a", "n/a", "0", "0", "0", "0", "", "0"},
			{"Quiet Auto", "none", "0", "0", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "0", "", "0"},
		}, records)
		for _, c := range customer {
			require.NotContains(t, strings.ToLower(stdout), c)
		}
	})

	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := b.runReport(t, "--format", "json", "--tenant", "Main Street Auto")
		require.NoError(t, err)
		require.Empty(t, stderr)
		var rows []map[string]any
		require.NoError(t, json.Unmarshal([]byte(stdout), &rows))
		require.Len(t, rows, 2)
		for _, r := range rows {
			keys := make([]string, 0, len(r))
			for k := range r {
				keys = append(keys, k)
			}
			require.ElementsMatch(t, reportColumns, keys)
		}
		appointment, estimate := rows[0], rows[1]
		require.Equal(t, "appointment", appointment["source"])
		require.Nil(t, appointment["median_from_crm_seconds"], "no lead of the row has a CRM time")
		require.Equal(t, map[string]any{}, appointment["failures_by_reason"])
		require.InDelta(t, 1, appointment["ambiguous"], 0)
		require.Equal(t, map[string]any{
			"shop": "Main Street Auto", "source": "estimate", "leads": 4.0, "texted": 3.0,
			"median_to_text_seconds": 100.0, "p90_to_text_seconds": 31796.0,
			"median_in_window_seconds": 100.0, "p90_in_window_seconds": 116.0,
			"median_from_crm_seconds": 145.0, "p90_from_crm_seconds": 189.0,
			"reply_rate": 0.25, "booked_rate": 0.25, "opt_out_rate": 0.25,
			"failed": 2.0, "failures_by_reason": map[string]any{"sms: refused by the provider (code 21614)": 1.0, "email: bounced": 1.0},
			"ambiguous": 0.0,
		}, estimate)
	})

	t.Run("Table", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := b.runReport(t)
		require.NoError(t, err)
		require.Empty(t, stderr)
		lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
		require.Len(t, lines, 5)
		header := lines[0]
		cells := func(line string) []string { return regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1) }
		require.Equal(t, []string{"SHOP", "SOURCE", "LEADS", "TEXTED", "TO TEXT (MEDIAN / P90)", "IN WINDOW (MEDIAN / P90)",
			"FROM CRM (MEDIAN / P90)", "REPLIED", "BOOKED", "OPTED OUT", "AMBIGUOUS", "FAILED"}, cells(header))
		require.Equal(t, []string{"Main Street Auto", "appointment", "1", "1", "10s / 10s", "10s / 10s", "n/a", "0.0%", "0.0%", "0.0%", "1", "0"}, cells(lines[1]))
		require.Equal(t, []string{"Main Street Auto", "estimate", "4", "3", "1m40s / 8h49m56s", "1m40s / 1m56s", "2m25s / 3m9s",
			"25.0%", "25.0%", "25.0%", "0", "2 (email: bounced 1; sms: refused by the provider (code 21614) 1)"}, cells(lines[2]))
		require.Equal(t, []string{"Quiet Auto", "none", "0", "0", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "0", "0"}, cells(lines[4]))
		// Aligned: every column starts where its heading does.
		for _, col := range []string{"SOURCE", "LEADS", "TO TEXT", "REPLIED", "AMBIGUOUS", "FAILED"} {
			at := strings.Index(header, col)
			for _, line := range lines[1:] {
				require.NotEqual(t, ' ', line[at], "column %s in %q", col, line)
				require.Equal(t, byte(' '), line[at-1], "column %s in %q", col, line)
			}
		}
	})

	t.Run("TenantScoped", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := b.runReport(t, "--tenant", "Oak Auto", "--format", "csv")
		require.NoError(t, err)
		records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, "Oak Auto", records[1][0])
		require.NotContains(t, stdout, "Main Street Auto")
	})

	t.Run("DateRangeInTheShopsZone", func(t *testing.T) {
		t.Parallel()
		// Midnight to midnight in Chicago: both leads first seen on the
		// 18th there, the one of 20:59 included (already the 19th in UTC).
		stdout, _, err := b.runReport(t, "--tenant", "Main Street Auto", "--since", "2026-11-18", "--until", "2026-11-19", "--format", "csv")
		require.NoError(t, err)
		records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, []string{"estimate", "2", "2"}, records[1][1:4])
	})

	t.Run("DurationBack", func(t *testing.T) {
		t.Parallel()
		// 24h back from Friday noon: only the 19th's two leads (one texted).
		stdout, _, err := b.runReport(t, "--tenant", "Main Street Auto", "--since", "24h", "--format", "csv")
		require.NoError(t, err)
		records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		require.NoError(t, err)
		require.Len(t, records, 2)
		require.Equal(t, []string{"estimate", "2", "1", "100"}, records[1][1:5])
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := b.runReport(t, "--tenant", "Nowhere Auto")
		require.ErrorContains(t, err, `--tenant "Nowhere Auto": no tenant has this name or id`)
		require.Empty(t, stdout)
	})
}

func TestReportBadFlags(t *testing.T) {
	t.Parallel()
	// No database: a bad flag is refused before anything connects.
	b := &testBundle{env: map[string]string{}}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"Format", []string{"--format", "xml"}, []string{`report: --format "xml": want table, csv or json`}},
		{"Since", []string{"--since", "garbage"}, []string{`invalid value "garbage" for flag -since`, "7d, 24h"}},
		{"SinceNegative", []string{"--since", "-3d"}, []string{"-since", "more than zero"}},
		{"Until", []string{"--until", "2026-13-01"}, []string{`invalid value "2026-13-01" for flag -until`}},
		{"SinceNotBeforeUntil", []string{"--since", "1d", "--until", "2d"}, []string{"--since 1d must be further back than --until 2d"}},
		{"Positional", []string{"now"}, []string{`unexpected argument "now"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, err := b.runReport(t, tt.args...)
			var uErr *usageError
			require.True(t, errors.As(err, &uErr), "want a usage error (exit 2), got %v", err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			require.Contains(t, err.Error(), "usage: enqueue "+reportSynopsis)
			require.Empty(t, stdout)
			require.Empty(t, stderr)
		})
	}
}
