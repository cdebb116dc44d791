package store_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/db/migrations"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestMessageSenderMigration: migration 10 gives the outbox rows composed
// before it the sender their next attempt would have sent from (that code
// stored a text's Messaging Service, when the shop had one, in
// from_address and read the number and an email's display name from the
// tenant), and its down puts from_address back.
func TestMessageSenderMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	const service = "MG0123456789abcdef0123456789abcdef"
	tenant := b.a
	tenant.EmailFrom, tenant.EmailFromName = "desk@a.example.com", "A Auto"
	tenant, err := b.store.UpdateTenant(ctx, tenant, nil)
	require.NoError(t, err)
	leadID, _, err := b.store.UpsertLead(ctx, tenant.ID, fixture.Lead("order:1"), false)
	require.NoError(t, err)
	apply := func(name string) {
		t.Helper()
		sql, err := fs.ReadFile(migrations.FS, name)
		require.NoError(t, err)
		_, err = b.db.Owner.Exec(ctx, string(sql))
		require.NoError(t, err)
	}

	apply("000010_message_sender.down.sql")
	_, err = b.db.Owner.Exec(ctx, `INSERT INTO messages (tenant_id, lead_id, step, channel, to_address, from_address, body) VALUES
		($1, $2, 'initial', 'sms', '+15552013344', $3, 'through the service'),
		($1, $2, 'second', 'sms', '+15552013344', '+15125550100', 'from the number'),
		($1, $2, 'initial', 'email', 'ann@example.com', 'desk@a.example.com', 'an email')`,
		tenant.ID, leadID, service)
	require.NoError(t, err)
	apply("000010_message_sender.up.sql")

	msgs, err := b.store.ListLeadMessages(ctx, tenant.ID, leadID)
	require.NoError(t, err)
	senders := map[string][3]string{}
	for _, m := range msgs {
		senders[m.Step+"/"+string(m.Channel)] = [3]string{m.From, m.MessagingServiceSID, m.FromName}
	}
	require.Equal(t, map[string][3]string{
		"initial/" + string(lead.ChannelSMS):   {"+15125550100", service, ""},
		"second/" + string(lead.ChannelSMS):    {"+15125550100", "", ""},
		"initial/" + string(lead.ChannelEmail): {"desk@a.example.com", "", "A Auto"},
	}, senders)

	apply("000010_message_sender.down.sql")
	var from string
	require.NoError(t, b.db.Owner.QueryRow(ctx, `SELECT from_address FROM messages WHERE step = 'initial' AND channel = 'sms'`).Scan(&from))
	require.Equal(t, service, from)
	apply("000010_message_sender.up.sql")
}
