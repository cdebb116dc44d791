package jobs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// newLead stores a consenting lead with a phone and an email.
func (b *testBundle) newLead(t *testing.T, tenant lead.Tenant, n int) uuid.UUID {
	t.Helper()
	id, inserted, err := b.store.UpsertLead(context.Background(), tenant.ID, fixture.Lead(fmt.Sprintf("order:o%d", n), func(l *lead.Lead) {
		l.LastName, l.Phone, l.Email = "Lee", lead.PhoneNumber(fmt.Sprintf("+1512555%04d", n)), lead.Email(fmt.Sprintf("ann%d@example.com", n))
		l.Consent = lead.Consent{SMS: true, Email: true}
		l.Vehicle, l.Summary = lead.Vehicle{Year: 2019, Make: "Honda", Model: "Civic"}, "Brakes squeal"
	}), false)
	require.NoError(t, err)
	require.True(t, inserted)
	return id
}

// insertAndWait inserts a job and waits for it to reach a final state.
func insertAndWait(t *testing.T, client *river.Client[pgx.Tx], args river.JobArgs) *rivertype.JobRow {
	t.Helper()
	res, err := client.Insert(context.Background(), args, nil)
	require.NoError(t, err)
	return waitFinal(t, client, res.Job.ID)
}

// waitFinal waits for a job to reach a final state and returns it.
func waitFinal(t *testing.T, client *river.Client[pgx.Tx], id int64) *rivertype.JobRow {
	t.Helper()
	var job *rivertype.JobRow
	require.Eventually(t, func() bool {
		var err error
		job, err = client.JobGet(context.Background(), id)
		require.NoError(t, err)
		return job.FinalizedAt != nil
	}, 30*time.Second, 20*time.Millisecond)
	return job
}

func (b *testBundle) message(t *testing.T, tenantID, leadID uuid.UUID, ch lead.Channel) lead.Message {
	t.Helper()
	m, ok := b.findMessage(t, tenantID, leadID, ch)
	if !ok {
		t.Fatalf("no %s message for lead %s", ch, leadID)
	}
	return m
}

// findMessage is message for polling: it reports a missing row instead of
// failing.
func (b *testBundle) findMessage(t *testing.T, tenantID, leadID uuid.UUID, ch lead.Channel) (lead.Message, bool) {
	t.Helper()
	msgs, err := b.store.ListLeadMessages(context.Background(), tenantID, leadID)
	require.NoError(t, err)
	for _, m := range msgs {
		if m.Channel == ch {
			return m, true
		}
	}
	return lead.Message{}, false
}

func (b *testBundle) outcomes(t *testing.T, jobID int64) []string {
	t.Helper()
	rows, err := b.pool.Query(context.Background(), `SELECT outcome FROM job_executions WHERE job_id = $1 ORDER BY run`, jobID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

func TestSendSMS(t *testing.T) {
	t.Parallel()

	send := func(t *testing.T, b *testBundle, client *river.Client[pgx.Tx], tenant lead.Tenant, leadID uuid.UUID) *rivertype.JobRow {
		t.Helper()
		return insertAndWait(t, client, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial})
	}

	t.Run("Sent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "sent")
		leadID := b.newLead(t, tenant, 1)
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, b, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		msgs := b.sandbox.Twilio.Messages()
		require.Len(t, msgs, 1)
		m := b.message(t, tenant.ID, leadID, lead.ChannelSMS)
		require.Equal(t, lead.MessageSent, m.Status)
		require.Equal(t, msgs[0].Sid, m.ProviderID)
		require.Equal(t, "+15125550001", msgs[0].To)
		require.Contains(t, msgs[0].Body, "Hi Ann, sent got your request about your 2019 Honda Civic")

		// A rescued or repeated run of the same job finds the row sent and
		// does not call Twilio again.
		_, err := b.pool.Exec(context.Background(), `UPDATE river_job SET state = 'available', finalized_at = NULL, scheduled_at = now() WHERE id = $1`, job.ID)
		require.NoError(t, err)
		job = waitFinal(t, client, job.ID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Equal(t, 2, job.Attempt)
		require.Len(t, b.sandbox.Twilio.Messages(), 1, "a retry must never re-send a sent message")
		require.Eventually(t, func() bool { return len(b.outcomes(t, job.ID)) == 2 }, 5*time.Second, 20*time.Millisecond)
	})

	t.Run("OptedOutAtTwilio", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "optout")
		leadID := b.newLead(t, tenant, 2)
		b.sandbox.Twilio.OptOut("+15125550002")
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, b, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.Empty(t, b.sandbox.Twilio.Messages())
		require.Equal(t, lead.MessageSuppressed, b.message(t, tenant.ID, leadID, lead.ChannelSMS).Status)
		suppressed, err := b.store.IsSuppressed(context.Background(), tenant.ID, lead.ChannelSMS, "+15125550002")
		require.NoError(t, err)
		require.True(t, suppressed)
		require.Eventually(t, func() bool { return fmt.Sprint(b.outcomes(t, job.ID)) == "[cancelled]" }, 5*time.Second, 20*time.Millisecond)
	})

	t.Run("PermanentFailure", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "permanent")
		leadID := b.newLead(t, tenant, 3)
		b.sandbox.Twilio.AddFault(fake.Fault{Status: 400, Code: 21614})
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, b, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.Equal(t, 1, job.Attempt, "a permanent failure is not retried")
		m := b.message(t, tenant.ID, leadID, lead.ChannelSMS)
		require.Equal(t, lead.MessageFailed, m.Status)
		require.Contains(t, m.LastError, "21614")
	})

	t.Run("RateLimitedSnoozes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "ratelimited")
		leadID := b.newLead(t, tenant, 4)
		b.sandbox.Twilio.AddFault(fake.Fault{Status: 429, RetryAfter: time.Second, EmptyBody: true, Count: 1})
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, b, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Len(t, b.sandbox.Twilio.Messages(), 1)
		// The snooze gave the attempt back: one attempt, two runs.
		require.Equal(t, 1, job.Attempt)
		require.Eventually(t, func() bool { return fmt.Sprint(b.outcomes(t, job.ID)) == "[snoozed completed]" }, 5*time.Second, 20*time.Millisecond)
	})

	t.Run("AmbiguousNotProcessedIsResentOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "ambiguous1")
		leadID := b.newLead(t, tenant, 5)
		// A 500 before Twilio stored anything: the retry asks, finds
		// nothing, and sends once.
		b.sandbox.Twilio.AddFault(fake.Fault{Status: 500, Count: 1})
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, b, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Len(t, b.sandbox.Twilio.Messages(), 1)
		m := b.message(t, tenant.ID, leadID, lead.ChannelSMS)
		require.Equal(t, lead.MessageSent, m.Status)
		require.Equal(t, 2, m.Attempts)
	})

	t.Run("AmbiguousProcessedIsReconciledNotResent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "ambiguous2")
		leadID := b.newLead(t, tenant, 6)
		// Twilio creates the message, then the answer is lost (a 502 from
		// a proxy on the way back). The retry must find it, not resend.
		lose := newAnswerLoser(b.sandbox.Twilio, 1)
		srv := httptest.NewServer(http.StripPrefix("/twilio", lose))
		t.Cleanup(srv.Close)
		sms, err := twilio.NewSender(twilio.SenderOpts{AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken, BaseURL: srv.URL + "/twilio"})
		require.NoError(t, err)
		b.deps.SMS = sms
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, b, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		msgs := b.sandbox.Twilio.Messages()
		require.Len(t, msgs, 1, "the customer must get one text, not two")
		m := b.message(t, tenant.ID, leadID, lead.ChannelSMS)
		require.Equal(t, lead.MessageSent, m.Status)
		require.Equal(t, msgs[0].Sid, m.ProviderID)
		require.Equal(t, 1, m.Attempts, "reconciled, not sent again")
		// The error run, then the reconciling run; a retry that comes
		// sooner than ReconcileAfter after the claim snoozes first (River's
		// backoff is jittered), so snoozes may sit in between.
		require.Eventually(t, func() bool {
			got := b.outcomes(t, job.ID)
			if len(got) < 2 || got[0] != "error" || got[len(got)-1] != "completed" {
				return false
			}
			for _, o := range got[1 : len(got)-1] {
				if o != "snoozed" {
					return false
				}
			}
			return true
		}, 5*time.Second, 20*time.Millisecond, "got %v", b.outcomes(t, job.ID))
	})
}

// answerLoser passes message creates through to the fake, then throws the
// answer away and says 502, n times.
type answerLoser struct {
	next http.Handler
	left chan struct{}
}

func newAnswerLoser(next http.Handler, n int) *answerLoser {
	l := &answerLoser{next: next, left: make(chan struct{}, n)}
	for range n {
		l.left <- struct{}{}
	}
	return l
}

func (l *answerLoser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		select {
		case <-l.left:
			rec := httptest.NewRecorder()
			l.next.ServeHTTP(rec, r)
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>502 Bad Gateway</html>")
			return
		default:
		}
	}
	l.next.ServeHTTP(w, r)
}

func TestSendEmail(t *testing.T) {
	t.Parallel()

	send := func(t *testing.T, client *river.Client[pgx.Tx], tenant lead.Tenant, leadID uuid.UUID) *rivertype.JobRow {
		t.Helper()
		return insertAndWait(t, client, jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial})
	}

	t.Run("Sent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "esent")
		leadID := b.newLead(t, tenant, 1)
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		emails := b.sandbox.SendGrid.Emails()
		require.Len(t, emails, 1)
		m := b.message(t, tenant.ID, leadID, lead.ChannelEmail)
		require.Equal(t, lead.MessageSent, m.Status)
		require.Equal(t, emails[0].MessageID, m.ProviderID)
		require.Equal(t, "esent received your request", emails[0].Subject)
		require.Equal(t, m.ID.String(), emails[0].CustomArgs["message_id"])
		require.Equal(t, leadID.String(), emails[0].CustomArgs["lead_id"])
	})

	t.Run("BadRequestIsPermanent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "ebad")
		leadID := b.newLead(t, tenant, 2)
		b.sandbox.SendGrid.AddFault(fake.Fault{Status: 400})
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		require.Equal(t, lead.MessageFailed, b.message(t, tenant.ID, leadID, lead.ChannelEmail).Status)
	})

	t.Run("RateLimitedSnoozesUntilReset", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "elimited")
		leadID := b.newLead(t, tenant, 3)
		b.sandbox.SendGrid.AddFault(fake.Fault{Status: 429, RetryAfter: time.Second, Count: 1})
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, client, tenant, leadID)
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Len(t, b.sandbox.SendGrid.Emails(), 1)
		require.Eventually(t, func() bool { return fmt.Sprint(b.outcomes(t, job.ID)) == "[snoozed completed]" }, 5*time.Second, 20*time.Millisecond)
	})

	t.Run("ServerErrorIsAmbiguousNotResent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tenant := b.addShop(t, "eambiguous")
		leadID := b.newLead(t, tenant, 4)
		b.sandbox.SendGrid.AddFault(fake.Fault{Status: 503, EmptyBody: true, Count: 1})
		client := b.startClient(t, jobs.ClientOpts{})

		job := send(t, client, tenant, leadID)
		// SendGrid cannot be asked whether it has the email: the outbox
		// says ambiguous and the job ends, rather than risk a second email.
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Equal(t, 2, job.Attempt)
		require.Empty(t, b.sandbox.SendGrid.Emails())
		m := b.message(t, tenant.ID, leadID, lead.ChannelEmail)
		require.Equal(t, lead.MessageAmbiguous, m.Status)
		require.Equal(t, 1, m.Attempts)
	})
}

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
		b := setup(t)
		tenant := b.addShop(t, "keepsms")
		leadID := b.newLead(t, tenant, 1)
		// Twilio creates the text, then its answer is lost (see
		// answerLoser); the shop's new number is saved before that answer.
		changed := tenant
		changed.SMSFrom = "+15005550010"
		sms, err := twilio.NewSender(twilio.SenderOpts{AccountSID: faketwilio.DefaultAccountSID, AuthToken: faketwilio.DefaultAuthToken,
			BaseURL: b.beforeFirstPost(t, changed, "/twilio", newAnswerLoser(b.sandbox.Twilio, 1))})
		require.NoError(t, err)
		b.deps.SMS = sms
		b.sendCompleted(t, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial})
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
		b.sendCompleted(t, jobs.SendSMSArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial})
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
		b := setup(t)
		tenant := b.addShop(t, "keepemail")
		leadID := b.newLead(t, tenant, 3)
		// SendGrid refuses the first try (429, nothing sent); the shop's
		// new address is saved before that answer.
		b.sandbox.SendGrid.AddFault(fake.Fault{Status: 429, RetryAfter: time.Second, Count: 1})
		changed := tenant
		changed.EmailFrom, changed.EmailFromName = "desk@keepemail.example.com", "Keep Email Desk"
		email, err := sendgrid.NewSender(sendgrid.SenderOpts{APIKey: fakesendgrid.DefaultAPIKey,
			BaseURL: b.beforeFirstPost(t, changed, "/sendgrid", b.sandbox.SendGrid)})
		require.NoError(t, err)
		b.deps.Email = email
		b.sendCompleted(t, jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial})
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

// beforeFirstPost serves next under prefix on a server of its own and
// returns its base URL. When the first provider call (a POST) arrives, it
// saves the tenant changed before next answers: the change lands while the
// message is in flight, after it was composed and claimed.
func (b *testBundle) beforeFirstPost(t *testing.T, changed lead.Tenant, prefix string, next http.Handler) string {
	t.Helper()
	var once sync.Once
	srv := httptest.NewServer(http.StripPrefix(prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			once.Do(func() {
				if _, err := b.store.UpdateTenant(r.Context(), changed, nil); err != nil {
					t.Errorf("error changing the tenant's sender: %v", err)
				}
			})
		}
		next.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	return srv.URL + prefix
}

// sendCompleted starts a client, runs one send job and requires that it
// completed.
func (b *testBundle) sendCompleted(t *testing.T, args river.JobArgs) {
	t.Helper()
	job := insertAndWait(t, b.startClient(t, jobs.ClientOpts{}), args)
	require.Equal(t, rivertype.JobStateCompleted, job.State)
}
