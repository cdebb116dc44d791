package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// TestSendKeepsTheStoredSender: the sender is chosen once, when the
// message is composed, and every attempt sends from it and looks for it
// under it. The shop changes its sender while a message is in flight
// (between the first provider call and the retry). The code before read
// the tenant's sender at every attempt: its reconcile looked for the text
// under the new number, missed the one Twilio had and sent it again, from
// the new number; its email retry went out from the new address.
func TestSendKeepsTheStoredSender(t *testing.T) {
	t.Parallel()

	t.Run("SMSReconciledUnderTheStoredNumber", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := setup(t)
		tenant := b.addShop(t, "keepsms")
		leadID := b.newLead(t, tenant, 1)
		// Twilio creates the text, then its answer is lost (see
		// answerLoser); the shop's new number is saved before that answer.
		changed := tenant
		changed.SMSFrom = "+15005550010"
		srv := httptest.NewServer(http.StripPrefix("/twilio", b.beforeFirstPost(t, changed, newAnswerLoser(b.sandbox.Twilio, 1))))
		t.Cleanup(srv.Close)
		sms, err := twilio.NewSender(twilio.SenderOpts{AccountSID: sandbox.DefaultTwilioAccountSID, AuthToken: sandbox.DefaultTwilioAuthToken, BaseURL: srv.URL + "/twilio"})
		require.NoError(t, err)
		b.deps.SMS = sms
		client := b.startClient(t, jobs.ClientOpts{})

		res, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
		require.NoError(t, err)
		job := waitFinal(t, client, res.Job.ID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		msgs := b.sandbox.Twilio.Messages()
		require.Len(t, msgs, 1, "the customer must get one text, not two")
		require.Equal(t, tenant.SMSFrom, msgs[0].From)
		m := b.message(t, tenant.ID, leadID, lead.ChannelSMS)
		require.Equal(t, lead.MessageSent, m.Status)
		require.Equal(t, msgs[0].Sid, m.ProviderID)
		require.Equal(t, 1, m.Attempts, "reconciled, not sent again")
		require.Equal(t, tenant.SMSFrom, m.From)
		require.Empty(t, m.MessagingServiceSID)
	})

	t.Run("SMSFromNumberAndMessagingService", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := setup(t)
		tenant := b.addShop(t, "keepservice")
		tenant.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
		tenant, err := b.store.UpdateTenant(ctx, tenant, nil)
		require.NoError(t, err)
		leadID := b.newLead(t, tenant, 2)
		client := b.startClient(t, jobs.ClientOpts{})

		res, err := client.Insert(ctx, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, res.Job.ID).State)
		// Both go to Twilio, as they did when the send read them from the
		// tenant: the number is the service's sender to use.
		msgs := b.sandbox.Twilio.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, "+15005550006", msgs[0].From)
		require.Equal(t, tenant.MessagingServiceSID, msgs[0].MessagingServiceSID)
		m := b.message(t, tenant.ID, leadID, lead.ChannelSMS)
		require.Equal(t, "+15005550006", m.From)
		require.Equal(t, tenant.MessagingServiceSID, m.MessagingServiceSID)
	})

	t.Run("EmailRetriedFromTheStoredAddress", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		b := setup(t)
		tenant := b.addShop(t, "keepemail")
		leadID := b.newLead(t, tenant, 3)
		// SendGrid refuses the first try (429, nothing sent); the shop's
		// new address is saved before that answer.
		b.sandbox.SendGrid.AddFault(sandbox.Fault{Status: 429, RetryAfter: time.Second, Count: 1})
		changed := tenant
		changed.EmailFrom, changed.EmailFromName = "desk@keepemail.example.com", "Keep Email Desk"
		srv := httptest.NewServer(http.StripPrefix("/sendgrid", b.beforeFirstPost(t, changed, b.sandbox.SendGrid)))
		t.Cleanup(srv.Close)
		email, err := sendgrid.NewSender(sendgrid.SenderOpts{APIKey: sandbox.DefaultSendGridAPIKey, BaseURL: srv.URL + "/sendgrid"})
		require.NoError(t, err)
		b.deps.Email = email
		client := b.startClient(t, jobs.ClientOpts{})

		res, err := client.Insert(ctx, jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, client, res.Job.ID).State)
		emails := b.sandbox.SendGrid.Emails()
		require.Len(t, emails, 1)
		require.Equal(t, tenant.EmailFrom, emails[0].From)
		require.Equal(t, tenant.EmailFromName, emails[0].FromName)
		m := b.message(t, tenant.ID, leadID, lead.ChannelEmail)
		require.Equal(t, lead.MessageSent, m.Status)
		require.Equal(t, 2, m.Attempts, "the refused try, then the one that went out")
		require.Equal(t, tenant.EmailFrom, m.From)
		require.Equal(t, tenant.EmailFromName, m.FromName)
	})
}

// beforeFirstPost saves the tenant changed when the first provider call
// (a POST) arrives, before next answers it: the change lands while the
// message is in flight, after it was composed and claimed.
func (b *testBundle) beforeFirstPost(t *testing.T, changed lead.Tenant, next http.Handler) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			once.Do(func() {
				if _, err := b.store.UpdateTenant(r.Context(), changed, nil); err != nil {
					t.Errorf("error changing the tenant's sender: %v", err)
				}
			})
		}
		next.ServeHTTP(w, r)
	})
}
