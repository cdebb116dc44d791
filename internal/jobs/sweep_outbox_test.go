package jobs_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// sweep runs one round of the orphan sweep and waits for it to finish.
func sweep(t *testing.T, client *river.Client[pgx.Tx]) {
	t.Helper()
	res, err := client.Insert(context.Background(), jobs.SweepOutboxArgs{}, nil)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, res.Job.ID).State)
}

// waitMessage waits until the lead's message on ch is in status.
func (b *testBundle) waitMessage(t *testing.T, tenantID, leadID uuid.UUID, ch lead.Channel, status lead.MessageStatus) lead.Message {
	t.Helper()
	var m lead.Message
	require.Eventually(t, func() bool {
		var ok bool
		m, ok = b.findMessage(t, tenantID, leadID, ch)
		return ok && m.Status == status
	}, 30*time.Second, 20*time.Millisecond, "message never became %s (last: %+v)", status, m)
	return m
}

// waitJobState waits until job id is in state.
func waitJobState(t *testing.T, client *river.Client[pgx.Tx], id int64, state rivertype.JobState) {
	t.Helper()
	require.Eventually(t, func() bool {
		job, err := client.JobGet(context.Background(), id)
		require.NoError(t, err)
		return job.State == state
	}, 30*time.Second, 20*time.Millisecond, "job %d never became %s", id, state)
}

// TestSweepOutbox: outbox rows whose send job is gone are settled, rows
// whose job is live are left alone. Without the sweep, each row below
// stays pending or sending forever (the old code has nothing that looks at
// it again) and `enqueue messages` shows it under neither ambiguous nor
// failed.
func TestSweepOutbox(t *testing.T) {
	t.Parallel()

	t.Run("PendingWithLiveJobIsLeftThenFailedOnceCancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "sweeppending")
		other := b.addShop(t, "sweepother")
		leadID, otherLead := b.newLead(t, tenant, 1), b.newLead(t, other, 2)
		// Twilio says 429, retry in an hour: Twilio did nothing, the row
		// goes back to pending and the job is scheduled an hour out.
		b.sandbox.Twilio.AddFault(fake.Fault{Status: 429, RetryAfter: time.Hour, Count: 2})
		client := b.startClient(t, jobs.ClientOpts{})
		var ids []int64
		for _, l := range []struct {
			tenant lead.Tenant
			lead   uuid.UUID
		}{{tenant, leadID}, {other, otherLead}} {
			res, err := client.Insert(context.Background(), jobs.SendSMSArgs{TenantID: l.tenant.ID, LeadID: l.lead, Step: jobs.StepInitial}, nil)
			require.NoError(t, err)
			waitJobState(t, client, res.Job.ID, rivertype.JobStateScheduled)
			b.waitMessage(t, l.tenant.ID, l.lead, lead.ChannelSMS, lead.MessagePending)
			ids = append(ids, res.Job.ID)
		}

		// A live (scheduled) job will settle its row itself.
		sweep(t, client)
		require.Equal(t, lead.MessagePending, b.message(t, tenant.ID, leadID, lead.ChannelSMS).Status)
		require.Equal(t, lead.MessagePending, b.message(t, other.ID, otherLead, lead.ChannelSMS).Status)

		// An operator cancels both in River UI: nothing will send them.
		for _, id := range ids {
			_, err := client.JobCancel(context.Background(), id)
			require.NoError(t, err)
			waitJobState(t, client, id, rivertype.JobStateCancelled)
		}
		sweep(t, client)
		for i, l := range []struct {
			tenant lead.Tenant
			lead   uuid.UUID
		}{{tenant, leadID}, {other, otherLead}} {
			m := b.message(t, l.tenant.ID, l.lead, lead.ChannelSMS)
			require.Equal(t, lead.MessageFailed, m.Status, "tenant %s", l.tenant.Name)
			require.Equal(t, fmt.Sprintf("send job %d was cancelled before the provider had the message; no job is left to send it", ids[i]), m.LastError)
		}
		require.Empty(t, b.sandbox.Twilio.Messages())

		// A River UI retry of the cancelled job now finds the row settled
		// and sends nothing.
		_, err := client.JobRetry(context.Background(), ids[0])
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, ids[0]).State)
		require.Empty(t, b.sandbox.Twilio.Messages())
	})

	t.Run("SendingWithDeletedJobIsAmbiguous", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "sweepsending")
		leadID := b.newLead(t, tenant, 3)
		// Twilio takes the text, then never answers: the row is sending,
		// the job running, when the operator cancels it.
		b.sandbox.Twilio.AddFault(fake.Fault{Hang: 2 * time.Minute, After: true, Count: 1})
		srv := httptest.NewServer(b.sandbox.Twilio)
		t.Cleanup(srv.Close)
		sms, err := twilio.NewSender(twilio.SenderOpts{
			AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken,
			BaseURL: srv.URL, Timeout: 2 * time.Minute,
		})
		require.NoError(t, err)
		b.deps.SMS = sms
		client := b.startClient(t, jobs.ClientOpts{})
		res, err := client.Insert(context.Background(), jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
		require.NoError(t, err)
		b.waitMessage(t, tenant.ID, leadID, lead.ChannelSMS, lead.MessageSending)
		require.Eventually(t, func() bool { return len(b.sandbox.Twilio.Messages()) == 1 }, 10*time.Second, 20*time.Millisecond)

		_, err = client.JobCancel(context.Background(), res.Job.ID)
		require.NoError(t, err)
		waitJobState(t, client, res.Job.ID, rivertype.JobStateCancelled)
		_, err = client.JobDelete(context.Background(), res.Job.ID)
		require.NoError(t, err)
		require.Equal(t, lead.MessageSending, b.message(t, tenant.ID, leadID, lead.ChannelSMS).Status)

		sweep(t, client)
		m := b.message(t, tenant.ID, leadID, lead.ChannelSMS)
		require.Equal(t, lead.MessageAmbiguous, m.Status)
		require.Equal(t, "its send job was deleted after it called the provider, which may have the message; it is not sent again unless an operator runs `enqueue resend`", m.LastError)
		require.Len(t, b.sandbox.Twilio.Messages(), 1, "the customer has the text; the sweep sends nothing")
	})

	t.Run("RunsPeriodicallyOnTheLeader", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "sweepperiodic")
		leadID := b.newLead(t, tenant, 4)
		b.sandbox.Twilio.AddFault(fake.Fault{Status: 429, RetryAfter: time.Hour, Count: 1})
		client := b.startClient(t, jobs.ClientOpts{OutboxSweepInterval: 50 * time.Millisecond})
		res, err := client.Insert(context.Background(), jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
		require.NoError(t, err)
		waitJobState(t, client, res.Job.ID, rivertype.JobStateScheduled)
		b.waitMessage(t, tenant.ID, leadID, lead.ChannelSMS, lead.MessagePending)
		// Sweeps ran while the job was live and must have left the row.
		require.Eventually(t, func() bool {
			return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'sweep_outbox' AND state = 'completed'
				AND finalized_at > (SELECT updated_at FROM messages WHERE tenant_id = $1)`, tenant.ID) > 0
		}, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, lead.MessagePending, b.message(t, tenant.ID, leadID, lead.ChannelSMS).Status)

		_, err = client.JobDelete(context.Background(), res.Job.ID)
		require.NoError(t, err)
		m := b.waitMessage(t, tenant.ID, leadID, lead.ChannelSMS, lead.MessageFailed)
		require.Equal(t, "its send job was deleted before the provider had the message; no job is left to send it", m.LastError)
		require.Zero(t, b.unrecordedRuns(t), "every sweep run has its execution row")
	})
}
