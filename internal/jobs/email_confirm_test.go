package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

// emailWorld is a bundle whose SendGrid events reach a real webhook route
// that feeds record_email_events, as in production.
type emailWorld struct {
	*testBundle
	client  *river.Client[pgx.Tx]
	poster  *fakesendgrid.EventPoster
	hookURL string
}

// newEmailWorld wires the SendGrid fake behind an optional answer loser,
// the event webhook and a client. lose > 0 makes the first lose sends be
// processed and their answer lost.
func newEmailWorld(t *testing.T, lose int) *emailWorld {
	t.Helper()
	b := setup(t)
	b.deps.ConfirmWait = 20 * time.Second

	var handler http.Handler = b.sandbox.SendGrid
	if lose > 0 {
		handler = newAnswerLoser(b.sandbox.SendGrid, lose)
	}
	sgSrv := httptest.NewServer(http.StripPrefix("/sendgrid", handler))
	t.Cleanup(sgSrv.Close)
	email, err := sendgrid.NewSender(sendgrid.SenderOpts{APIKey: fakesendgrid.DefaultAPIKey, BaseURL: sgSrv.URL + "/sendgrid"})
	require.NoError(t, err)
	b.deps.Email = email

	client := b.startClient(t, jobs.ClientOpts{})
	events, err := sendgrid.NewEventWebhook(fakesendgrid.WebhookPublicKey)
	require.NoError(t, err)
	intake := &jobs.WebhookIntake{Pool: b.deps.Pool, Client: client, Logger: b.deps.Logger}
	api, err := httpapi.NewHandler(httpapi.Opts{
		Logger:      b.deps.Logger,
		Intake:      intake,
		EmailEvents: events,
	})
	require.NoError(t, err)
	apiSrv := httptest.NewServer(api)
	t.Cleanup(apiSrv.Close)
	hook := apiSrv.URL + "/webhooks/sendgrid/events"
	return &emailWorld{testBundle: b, client: client, poster: fakesendgrid.NewEventPoster(b.sandbox.SendGrid, hook), hookURL: hook}
}

func (w *emailWorld) sendEmail(t *testing.T, tenant lead.Tenant, leadID uuid.UUID) int64 {
	t.Helper()
	res, err := w.client.Insert(context.Background(), jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial}, nil)
	require.NoError(t, err)
	return res.Job.ID
}

func TestEmailConfirmation(t *testing.T) {
	t.Parallel()

	t.Run("LostAnswerConfirmedByProcessedEvent", func(t *testing.T) {
		t.Parallel()
		w := newEmailWorld(t, 1)
		tenant := w.addShop(t, "confirm")
		leadID := w.newLead(t, tenant, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go w.poster.Run(ctx, 100*time.Millisecond)

		job := waitFinal(t, w.client, w.sendEmail(t, tenant, leadID))
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Len(t, w.sandbox.SendGrid.Emails(), 1, "accepted once, never resent")
		require.Eventually(t, func() bool {
			m, ok := w.findMessage(t, tenant.ID, leadID, lead.ChannelEmail)
			return ok && (m.Status == lead.MessageSent || m.Status == lead.MessageDelivered)
		}, 10*time.Second, 20*time.Millisecond)
		m := w.message(t, tenant.ID, leadID, lead.ChannelEmail)
		require.Equal(t, w.sandbox.SendGrid.Emails()[0].MessageID, m.ProviderID)
		require.Equal(t, 1, m.Attempts)
	})

	t.Run("LateProcessedEventMarksAmbiguousSent", func(t *testing.T) {
		t.Parallel()
		w := newEmailWorld(t, 1)
		w.deps.ConfirmWait = time.Second
		tenant := w.addShop(t, "late")
		leadID := w.newLead(t, tenant, 1)
		// SendGrid accepts the email, the answer is lost, and its event is
		// late (the webhook was down): no proof within ConfirmWait, so the
		// message waits for an operator rather than going out twice.
		job := waitFinal(t, w.client, w.sendEmail(t, tenant, leadID))
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Equal(t, lead.MessageAmbiguous, w.message(t, tenant.ID, leadID, lead.ChannelEmail).Status)
		require.Len(t, w.sandbox.SendGrid.Emails(), 1)
		_, rows := w.firstAccepted(t, leadID, lead.ChannelEmail)
		require.Zero(t, rows, "an ambiguous email is not (yet) an accepted one")

		// The event arrives at last: the message is sent after all, and
		// accepted when SendGrid says it processed it.
		w.poster.Flush(context.Background())
		require.Eventually(t, func() bool {
			m := w.message(t, tenant.ID, leadID, lead.ChannelEmail)
			return m.Status == lead.MessageSent || m.Status == lead.MessageDelivered
		}, 10*time.Second, 20*time.Millisecond)
		require.Len(t, w.sandbox.SendGrid.Emails(), 1)
		at, rows := w.firstAccepted(t, leadID, lead.ChannelEmail)
		require.Equal(t, 1, rows)
		require.True(t, w.sentAt(t, leadID, jobs.StepInitial, lead.ChannelEmail).Equal(at))
	})

	t.Run("NoProofBecomesAmbiguousAfterConfirmWait", func(t *testing.T) {
		t.Parallel()
		w := newEmailWorld(t, 0)
		w.deps.ConfirmWait = 2 * time.Second
		tenant := w.addShop(t, "noproof")
		leadID := w.newLead(t, tenant, 1)
		w.sandbox.SendGrid.AddFault(fake.Fault{Status: 500, Count: 1})

		job := waitFinal(t, w.client, w.sendEmail(t, tenant, leadID))
		require.Equal(t, rivertype.JobStateCompleted, job.State)
		require.Empty(t, w.sandbox.SendGrid.Emails())
		m := w.message(t, tenant.ID, leadID, lead.ChannelEmail)
		require.Equal(t, lead.MessageAmbiguous, m.Status)
		require.Contains(t, m.LastError, "no confirmation")

		// Only an operator's resend (what `enqueue resend` does) sends it.
		require.NoError(t, w.store.SetMessageStatus(context.Background(), tenant.ID, m.ID, lead.MessagePending, "operator"))
		res, err := w.client.Insert(context.Background(), jobs.SendEmailArgs{TenantID: tenant.ID, LeadID: leadID, Step: jobs.StepInitial, Resend: 1}, nil)
		require.NoError(t, err)
		require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, w.client, res.Job.ID).State)
		require.Len(t, w.sandbox.SendGrid.Emails(), 1)
		require.Equal(t, lead.MessageSent, w.message(t, tenant.ID, leadID, lead.ChannelEmail).Status)
	})

	t.Run("BounceSuppressesTheAddress", func(t *testing.T) {
		t.Parallel()
		w := newEmailWorld(t, 0)
		tenant := w.addShop(t, "bounce")
		leadID := w.newLead(t, tenant, 1)
		waitFinal(t, w.client, w.sendEmail(t, tenant, leadID))
		sent := w.sandbox.SendGrid.Emails()[0]
		body := mustJSON(t, []fakesendgrid.Event{fakesendgrid.NewEvent(sent, "bounce", time.Now())})
		require.Equal(t, http.StatusOK, w.post(t, body, time.Now(), true))
		require.Eventually(t, func() bool {
			ok, err := w.store.IsSuppressed(context.Background(), tenant.ID, lead.ChannelEmail, sent.To)
			require.NoError(t, err)
			return ok
		}, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, lead.MessageFailed, w.message(t, tenant.ID, leadID, lead.ChannelEmail).Status)
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// post sends body to the event webhook, signed (or not) at ts.
func (w *emailWorld) post(t *testing.T, body []byte, ts time.Time, sign bool) int {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, w.hookURL, bytes.NewReader(body))
	require.NoError(t, err)
	if sign {
		sig, err := fakesendgrid.SignEvents(body, stamp)
		require.NoError(t, err)
		req.Header.Set(sendgrid.SignatureHeader, sig)
	} else {
		forged, err := fakesendgrid.SignEvents([]byte("something else"), stamp)
		require.NoError(t, err)
		req.Header.Set(sendgrid.SignatureHeader, forged)
	}
	req.Header.Set(sendgrid.TimestampHeader, stamp)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestSendGridEventWebhook(t *testing.T) {
	t.Parallel()
	w := newEmailWorld(t, 0)
	tenant := w.addShop(t, "hook")
	leadID := w.newLead(t, tenant, 1)
	waitFinal(t, w.client, w.sendEmail(t, tenant, leadID))
	sent := w.sandbox.SendGrid.Emails()[0]
	body := mustJSON(t, []fakesendgrid.Event{fakesendgrid.NewEvent(sent, "spamreport", time.Now())})
	eventJobs := func() int {
		return w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'record_email_event_batch'`)
	}

	require.Equal(t, http.StatusUnauthorized, w.post(t, body, time.Now(), false), "bad signature")
	require.Equal(t, http.StatusUnauthorized, w.post(t, body, time.Now().Add(-10*time.Minute), true), "stale timestamp (replay)")
	require.Equal(t, http.StatusBadRequest, w.post(t, []byte(`{"not":"an array"}`), time.Now(), true))
	require.Equal(t, http.StatusBadRequest, w.post(t, []byte(`[{"tenant_id":"x","message_id":"y","event":"processed","timestamp":1}]`), time.Now(), true))
	require.Equal(t, http.StatusRequestEntityTooLarge, w.post(t, bytes.Repeat([]byte(" "), 5<<20), time.Now(), true))
	require.Zero(t, eventJobs(), "nothing rejected was enqueued")

	require.Equal(t, http.StatusOK, w.post(t, body, time.Now(), true))
	require.Equal(t, 1, eventJobs())
	require.Eventually(t, func() bool {
		ok, err := w.store.IsSuppressed(context.Background(), tenant.ID, lead.ChannelEmail, sent.To)
		require.NoError(t, err)
		return ok
	}, 10*time.Second, 20*time.Millisecond)
}
