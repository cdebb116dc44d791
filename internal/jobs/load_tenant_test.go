package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// TestTenantPrologue pins what each job does for a tenant it cannot serve
// (loadTenant): the shop's automation stops for a disabled shop, what its
// customers say does not, and every job of a tenant that is gone is
// cancelled.
func TestTenantPrologue(t *testing.T) {
	t.Parallel()

	t.Run("DisabledTenantGetsNoAutomation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "prologueoff")
		leadID := b.newLead(t, tenant, 1)
		require.NoError(t, b.store.SetTenantEnabled(context.Background(), tenant.ID, false))
		client := b.startClient(t, jobs.ClientOpts{})
		for _, args := range []river.JobArgs{
			jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial},
			jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial},
			jobs.IngestLeadArgs{TenantID: tenant.ID, ExternalID: "order:o1", Version: 1, SendMessages: true},
		} {
			job := insertAndWait(t, client, args)
			require.Equal(t, rivertype.JobStateCancelled, job.State, args.Kind())
			require.Contains(t, job.Errors[0].Error, "tenant prologueoff is disabled", args.Kind())
		}
		require.Zero(t, b.sandbox.Stats().SMS+b.sandbox.Stats().Emails)
		require.Zero(t, b.count(t, `SELECT count(*) FROM messages`))
		require.Zero(t, b.count(t, `SELECT count(*) FROM refused_records`), "a disabled shop is not the record's fault")
	})

	t.Run("DisabledTenantStillHonoursAStop", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := setup(t)
		tenant := b.addShop(t, "prologuestop")
		leadID := b.newLead(t, tenant, 2)
		require.NoError(t, b.store.SetTenantEnabled(ctx, tenant.ID, false))
		id, _, err := b.store.RecordInbound(ctx, tenant.ID, store.InboundMessage{
			ProviderID: "SMprologuestop", From: "+15125550002", To: tenant.SMSFrom, Body: "STOP",
			Kind: string(lead.InboundStop), ReceivedAt: time.Now(),
		})
		require.NoError(t, err)

		job := insertAndWait(t, b.startClient(t, jobs.ClientOpts{}), jobs.HandleInboundArgs{TenantID: tenant.ID, InboundID: id})
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		suppressed, err := b.store.IsSuppressed(ctx, tenant.ID, lead.ChannelSMS, "+15125550002")
		require.NoError(t, err)
		require.True(t, suppressed, "the opt-out must hold when the shop is enabled again")
		l, err := b.store.GetLead(ctx, tenant.ID, leadID)
		require.NoError(t, err)
		require.Equal(t, lead.StatusOptedOut, l.Status)
	})

	t.Run("GoneTenantIsCancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		gone, leadID := uuid.New(), uuid.New()
		client := b.startClient(t, jobs.ClientOpts{})
		for _, args := range []river.JobArgs{
			jobs.SendSMSArgs{TenantID: gone, LeadID: leadID, Step: jobs.StepInitial},
			jobs.IngestLeadArgs{TenantID: gone, ExternalID: "order:o3", Version: 1},
			jobs.PollCRMArgs{TenantID: gone, Live: true},
			jobs.HandleInboundArgs{TenantID: gone, InboundID: 1},
			jobs.NotifyShopArgs{TenantID: gone, LeadID: leadID, MessageSID: "SMgone"},
		} {
			job := insertAndWait(t, client, args)
			require.Equal(t, rivertype.JobStateCancelled, job.State, args.Kind())
			require.Equal(t, 1, job.Attempt, "%s: a tenant that is gone does not come back", args.Kind())
		}
	})
}
