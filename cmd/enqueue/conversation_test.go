package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// addConversation creates a Chicago shop called name that is told of
// replies at fixture.ConversationNotifyEmail, and Ann's thread in it.
func (b *testBundle) addConversation(t *testing.T, name string) (lead.Tenant, fixture.Conversation) {
	t.Helper()
	secret := "key-" + name
	b.secrets = append(b.secrets, secret)
	shop := fixture.Create(t, b.store, b.keys, fixture.ShopMonkeyTenant(name, func(t *lead.Tenant) {
		t.NotifyEmail = fixture.ConversationNotifyEmail
	}), secret)
	return shop, fixture.BuildConversation(t, b.store, b.owner, shop.ID)
}

// headlines are the thread's event lines (those that start with a time),
// and the body lines under each.
func headlines(out string) (heads []string, bodies [][]string) {
	for _, line := range strings.Split(out, "\n") {
		switch {
		case regexp.MustCompile(`^\d{4}-\d\d-\d\d `).MatchString(line):
			heads = append(heads, line)
			bodies = append(bodies, nil)
		case strings.HasPrefix(line, "    ") && len(heads) > 0:
			bodies[len(bodies)-1] = append(bodies[len(bodies)-1], line)
		}
	}
	return heads, bodies
}

// TestConversation: the whole thread in order, each event at its time in
// the shop's zone (Chicago: CST before the spring-forward of 2025-03-09,
// CDT after), every kind of event, bodies in full but escaped.
func TestConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, c := b.addConversation(t, "Thread Auto")
	first, second := shortID(c.First), shortID(c.Second)
	answer := fmt.Sprint(c.AnswerID)
	// The fixed part of the thread, as the shop reads it.
	want := []string{
		`2025-03-07 09:00:00 CST  lead: estimate order:501 created in the CRM, found via webhook at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d C[SD]T; now opted_out  \[lead ` + first + `\]`,
		`2025-03-07 09:00:06 CST  text out, sent: step initial to \+13122013344  \[lead ` + first + `\]`,
		`2025-03-07 09:00:07 CST  email out, failed: step initial to ann@example.com: SendGrid 400: does not contain a valid address  \[lead ` + first + `\]`,
		`2025-03-08 10:00:00 CST  email auto-reply in from ann@example.com \(recorded, stops nothing\), handled  \[lead ` + first + `\]`,
		`2025-03-08 14:00:00 CST  text STOP in from \+13122013344, handled  \[lead ` + first + `\]`,
		`2025-03-08 14:05:00 CST  text START in from \+13122013344, handled  \[lead ` + first + `\]`,
		`2025-03-10 09:30:00 CDT  email reply in from Ann@Example.com, handled  \[lead ` + first + `\]`,
		`2025-03-10 09:30:06 CDT  notice to the shop by email, sent: step notice-[0-9a-f]{16} to desk@shop.example  \[lead ` + first + `\]`,
		`2025-03-10 10:00:00 CDT  shop's answer ` + answer + ` by email in from owner@shop.example, handled  \[lead ` + first + `\]`,
		`2025-03-10 10:00:03 CDT  shop's answer ` + answer + ` texted, sent: step answer-` + answer + ` to \+13122013344  \[lead ` + first + `\]`,
		`2025-03-11 07:55:00 CDT  call from \+13122013344 to \+13125550100 missed \(no-answer\)  \[lead ` + second + `\]`,
		`2025-03-11 08:00:00 CDT  lead: appointment appointment:502 created in the CRM, found via poll at .*; now booked  \[lead ` + second + `\]`,
		`2025-03-12 07:00:00 CDT  call from \+13122013344 to \+13125550100 answered \(completed\)$`,
		`2025-03-12 08:00:00 CDT  text reply in from \+13122013344, received, not handled yet$`,
		`2025-03-12 09:00:00 CDT  text STOP in from \+13122013344, handled  \[lead ` + second + `\]`,
		// Stamped by the database's clock as the fixture ran.
		` booked  \[lead ` + second + `\]$`,
		` suppressed sms \+13122013344 since: the customer texted STOP \(inbound\)$`,
		` opted out  \[lead ` + first + `\]$`,
		` text out, skipped: step day7 to \+13122013344: the lead opted out  \[lead ` + first + `\]$`,
	}

	// The fixture's leads were stored without consent evidence.
	const noEvidence = "    consent: text yes (no record of where consent came from); email yes (no record of where consent came from)\n" +
		// And the hours its texts keep where the customer is.
		"    customer's clock: 08:00-21:00 every day America/Chicago, by the number's area code (Illinois)\n"
	t.Run("ByPhone", func(t *testing.T) {
		t.Parallel()
		// Any spelling of the number lead.ParsePhoneNumber takes.
		out, _, err := b.run(t, "conversation", "--tenant", "Thread Auto", "--phone", "(312) 201-3344")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(out, "Conversation with +13122013344 at Thread Auto (times in America/Chicago)\n"+
			"lead "+first+"  estimate order:501 Ann, +13122013344, ann@example.com  opted_out\n"+
			noEvidence+
			"lead "+second+"  appointment appointment:502 Ann, +13122013344, ann@example.com  booked\n"+
			noEvidence), out)
		heads, bodies := headlines(out)
		require.Len(t, heads, len(want), out)
		for i, w := range want {
			require.Regexp(t, w, heads[i], "event %d", i)
		}
		require.Equal(t, []string{"    Subject: Your estimate", "    Hi Ann,", "    book here."}, bodies[2], "an email's subject and its whole body")
		require.Equal(t, []string{"    Subject: Re: Your estimate", "    Tuesday works.",
			"    (quoted history and signature stripped; --format json has raw_body, the email as it came)"}, bodies[6])
		require.Equal(t, []string{"    See you Tuesday at 9."}, bodies[9])
		require.Empty(t, bodies[10], "a call has no body")
		// The escape sequence, the carriage return and the right-to-left
		// override are shown, not obeyed; the line break starts a new
		// indented line.
		require.Equal(t, []string{`    ok \x1b[31mred\x1b[0m\r`, `    second line\u202e`}, bodies[13])
		require.NotContains(t, out, "\x1b")
		require.NotContains(t, out, "\r")
	})
	t.Run("ByLead", func(t *testing.T) {
		t.Parallel()
		byID, _, err := b.run(t, "conversation", "--tenant", "Thread Auto", "--lead", c.Second.String())
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(byID, "Conversation with lead "+c.Second.String()+" at Thread Auto"), byID)
		heads, _ := headlines(byID)
		// The second lead's own, and every text and call of its number;
		// not the first lead's messages and emails.
		for i, w := range []int{4, 5, 10, 11, 12, 13, 14, 15, 16} {
			require.Regexp(t, want[w], heads[i], "event %d", i)
		}
		require.Len(t, heads, 9, byID)
		// Its CRM record names it too, as ingest reads one.
		byRecord, _, err := b.run(t, "conversation", "--tenant", "Thread Auto", "--lead", "appointment:502")
		require.NoError(t, err)
		require.Equal(t, byID, byRecord)
		bare, _, err := b.run(t, "conversation", "--tenant", "Thread Auto", "--lead", "501")
		require.NoError(t, err)
		heads, _ = headlines(bare)
		require.Len(t, heads, len(want)-2, "a bare id is an estimate, order:501")
	})
	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		out, _, err := b.run(t, "conversation", "--tenant", "Thread Auto", "--phone", "+1 312 201 3344", "--format", "json")
		require.NoError(t, err)
		var events []map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &events))
		require.Len(t, events, len(want))
		for i, e := range events {
			for _, k := range []string{"time", "kind", "channel", "direction", "status", "body", "step", "lead_id"} {
				require.Contains(t, e, k, "event %d", i)
			}
		}
		var kinds []string
		for _, e := range events {
			kinds = append(kinds, e["kind"].(string))
		}
		require.Equal(t, []string{"lead", "message", "message", "auto_reply", "stop", "start", "reply", "shop_notice", "shop_answer",
			"shop_answer_text", "call", "lead", "call", "reply", "stop", "booked", "suppressed", "opted_out", "message"}, kinds)
		// RFC 3339 with the shop's offset, on both sides of the DST change.
		require.Equal(t, "2025-03-07T09:00:00-06:00", events[0]["time"])
		require.Equal(t, "2025-03-10T09:30:00-05:00", events[6]["time"])
		require.Equal(t, map[string]any{
			"time": "2025-03-10T09:30:00-05:00", "kind": "reply", "channel": "email", "direction": "in", "status": "handled",
			"body": "Tuesday works.", "step": "", "lead_id": c.First.String(), "from": "Ann@Example.com", "to": "r+x@reply.shop.example",
			"subject": "Re: Your estimate", "raw_body": "Tuesday works.\n\nOn Fri, Mar 7, the shop wrote:\n> book here.",
			"ref": fmt.Sprint(events[6]["ref"]),
		}, events[6])
		require.Equal(t, map[string]any{
			"time": "2025-03-10T10:00:03-05:00", "kind": "shop_answer_text", "channel": "sms", "direction": "out", "status": "sent",
			"body": "See you Tuesday at 9.", "step": lead.ShopAnswerStepPrefix + answer, "lead_id": c.First.String(), "to": "+13122013344",
			"ref": c.AnswerText.String(), "answer_id": float64(c.AnswerID),
		}, events[9])
		require.Nil(t, events[12]["lead_id"], "a call no lead took")
		require.Equal(t, fixture.ConversationWeirdBody, events[13]["body"], "JSON carries the body as it is")
		require.Equal(t, "missed", events[10]["status"])
		require.Equal(t, "no-answer", events[10]["reason"])
	})
	t.Run("AnotherTenantsLeadIsNotShown", func(t *testing.T) {
		t.Parallel()
		other := b.addTenant(t, "Other Auto")
		_, _, err := b.run(t, "conversation", "--tenant", "Other Auto", "--lead", c.First.String())
		require.EqualError(t, err, "--lead "+c.First.String()+": tenant Other Auto has no such lead")
		_, _, err = b.run(t, "conversation", "--tenant", "Other Auto", "--lead", "order:501")
		require.EqualError(t, err, "--lead order:501: tenant Other Auto has no such lead")
		_, _, err = b.run(t, "conversation", "--tenant", "Other Auto", "--phone", "+13122013344")
		require.EqualError(t, err, "--phone +13122013344: tenant Other Auto has no lead, text or call of this number")
		var uErr *usageError
		require.False(t, errors.As(err, &uErr), "not a usage error: exit 1")
		// Its own lead of the number shows alone.
		own, _, err := b.store.UpsertLead(t.Context(), other.ID, fixture.Lead("order:9"), false)
		require.NoError(t, err)
		out, _, err := b.run(t, "conversation", "--tenant", "Other Auto", "--phone", "+13122013344")
		require.NoError(t, err)
		heads, _ := headlines(out)
		require.Len(t, heads, 1, out)
		require.Contains(t, heads[0], "[lead "+shortID(own)+"]")
	})
}

func TestConversationBadArguments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "Main Street Auto")
	tests := []struct {
		name  string
		args  []string
		want  string
		usage bool
	}{
		{"MissingTenant", []string{"--lead", uuid.NewString()}, "conversation: --tenant is required", true},
		{"Neither", []string{"--tenant", "Main Street Auto"}, "conversation: --lead or --phone is required", true},
		{"Both", []string{"--tenant", "Main Street Auto", "--lead", uuid.NewString(), "--phone", "+13122013344"},
			"conversation: give --lead or --phone, not both", true},
		{"LeadNotAnID", []string{"--tenant", "Main Street Auto", "--lead", "invoice:7"},
			`conversation: --lead "invoice:7": not a lead id (a UUID), nor a CRM record`, true},
		{"PhoneNotANumber", []string{"--tenant", "Main Street Auto", "--phone", "call me"}, `conversation: --phone "call me":`, true},
		{"BadFormat", []string{"--tenant", "Main Street Auto", "--phone", "+13122013344", "--format", "yaml"},
			`conversation: --format "yaml": want text or json`, true},
		{"UnknownTenant", []string{"--tenant", "Nowhere Auto", "--phone", "+13122013344"}, `--tenant "Nowhere Auto": no tenant has this name or id`, false},
		{"UnknownLead", []string{"--tenant", "Main Street Auto", "--lead", "00000000-0000-0000-0000-000000000001"},
			"--lead 00000000-0000-0000-0000-000000000001: tenant Main Street Auto has no such lead", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := b.run(t, append([]string{"conversation"}, tt.args...)...)
			require.ErrorContains(t, err, tt.want)
			var uErr *usageError
			require.Equal(t, tt.usage, errors.As(err, &uErr), "usage error (exit 2): %v", err)
			if tt.usage {
				require.ErrorContains(t, err, "usage: enqueue "+conversationSynopsis)
			}
		})
	}
}

func TestEscapeText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain, café 🚗":         "plain, café 🚗",
		"\x1b[2J\x07":           `\x1b[2J\x07`,
		"a\tb\rc\nd":            `a\tb\rc\nd`,
		"\u202egnp.exe":         `\u202egnp.exe`,
		"zero\u200bwidth\ufeff": `zero\u200bwidth\ufeff`,
		"bad \xff byte":         `bad \xff byte`,
		"c1 \u009b control":     `c1 \x9b control`,
		"line\u2028sep":         `line\u2028sep`,
	} {
		require.Equal(t, want, escapeText(in), "%q", in)
	}
}
