package jobs_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

// customerTraces are what must never leave a tenant's rows: its
// customers' numbers (as stored and as bare digits), addresses and texts.
type customerTraces []string

func (c customerTraces) foundIn(text string) []string {
	var found []string
	for _, s := range c {
		if strings.Contains(text, s) {
			found = append(found, s)
		}
	}
	return found
}

// TestNoCustomerDataInRiverJobs: two shops go through everything that used
// to put a customer's data into River's tables (which have no row-level
// security): replies and a STOP texted through the signed Twilio route,
// one SendGrid batch of both shops' events with bounces naming the
// address, and a send Twilio refuses with an error naming the number.
// Then, as the application role scoped to shop A, no river_job row's args
// or errors carry B's numbers, addresses or texts, nor anyone's; and
// neither do the logs.
func TestNoCustomerDataInRiverJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := setup(t)
	var logs syncBuffer
	base.deps.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := newWebhookBundle(t, base)

	type shopWorld struct {
		shop   lead.Tenant
		leads  [3]uuid.UUID
		traces customerTraces
	}
	worlds := map[string]*shopWorld{}
	for name, first := range map[string]int{"a": 11, "b": 21} {
		w := &shopWorld{shop: b.addShop(t, "pii-"+name)}
		w.shop.NotifyEmail = "desk@" + name + ".example.com"
		var err error
		w.shop, err = b.store.UpdateTenant(ctx, w.shop, nil)
		require.NoError(t, err)
		for i := range w.leads {
			n := first + i
			w.leads[i] = b.newLead(t, w.shop, n)
			l, err := b.store.GetLead(ctx, w.shop.ID, w.leads[i])
			require.NoError(t, err)
			w.traces = append(w.traces, string(l.Phone), strings.TrimPrefix(string(l.Phone), "+1"), string(l.Email))
		}
		worlds[name] = w
	}

	for _, name := range []string{"a", "b"} {
		w := worlds[name]
		// The first two leads are texted and emailed.
		for _, leadID := range w.leads[:2] {
			for _, args := range []river.JobArgs{
				jobs.SendSMSArgs{TenantID: w.shop.ID, LeadID: leadID, Step: jobs.StepInitial},
				jobs.SendEmailArgs{TenantID: w.shop.ID, LeadID: leadID, Step: jobs.StepInitial},
			} {
				res, err := b.client.Insert(ctx, args, nil)
				require.NoError(t, err)
				require.Equal(t, rivertype.JobStateCompleted, waitFinal(t, b.client, res.Job.ID).State)
			}
		}
		// The third one's text is refused, in words that name the number.
		b.sandbox.Twilio.AddFault(fake.Fault{Status: 400, Code: 21211, Count: 1, Method: http.MethodPost, Paths: []string{"/Messages.json"}})
		res, err := b.client.Insert(ctx, jobs.SendSMSArgs{TenantID: w.shop.ID, LeadID: w.leads[2], Step: jobs.StepInitial}, nil)
		require.NoError(t, err)
		final := waitFinal(t, b.client, res.Job.ID)
		require.Equal(t, rivertype.JobStateCancelled, final.State)
		require.Contains(t, final.Errors[0].Error, "21211", "the refusal is recorded")

		// The customers text back: a reply and a STOP.
		reply := fmt.Sprintf("Shop %s, can you fit my Civic in Thursday at 4?", strings.ToUpper(name))
		w.traces = append(w.traces, reply)
		first, err := b.store.GetLead(ctx, w.shop.ID, w.leads[0])
		require.NoError(t, err)
		second, err := b.store.GetLead(ctx, w.shop.ID, w.leads[1])
		require.NoError(t, err)
		b.text(t, w.shop, first.Phone, reply)
		b.text(t, w.shop, second.Phone, "STOP")
		require.Eventually(t, func() bool {
			got, err := b.store.GetLead(ctx, w.shop.ID, first.ID)
			require.NoError(t, err)
			stopped, err := b.store.IsSuppressed(ctx, w.shop.ID, lead.ChannelSMS, string(second.Phone))
			require.NoError(t, err)
			return got.Status == lead.StatusReplied && stopped
		}, 10*time.Second, 10*time.Millisecond)
	}

	// One SendGrid batch with both shops' events: the first leads'
	// emails delivered, the second ones' bounced by a server quoting the
	// address.
	var events []fakesendgrid.Event
	for _, e := range b.sandbox.SendGrid.Emails() {
		if strings.HasPrefix(e.To, "desk@") {
			continue // the notices to the shops
		}
		kind := "delivered"
		if strings.HasPrefix(e.To, "ann12@") || strings.HasPrefix(e.To, "ann22@") {
			kind = "bounce"
		}
		ev := fakesendgrid.NewEvent(e, kind, time.Now())
		if kind == "bounce" {
			ev["reason"] = "550 5.1.1 <" + e.To + ">: Recipient address rejected: User unknown"
		}
		events = append(events, ev)
	}
	require.Len(t, events, 4)
	body := mustJSON(t, events)
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := fakesendgrid.SignEvents(body, stamp)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, postEvents(t, b.server.URL+"/webhooks/sendgrid/events", body, stamp, sig))
	require.Eventually(t, func() bool {
		for name, n := range map[string]int{"a": 12, "b": 22} {
			ok, err := b.store.IsSuppressed(ctx, worlds[name].shop.ID, lead.ChannelEmail, fmt.Sprintf("ann%d@example.com", n))
			require.NoError(t, err)
			if !ok {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "both bounces suppressed their address")
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`) == 0
	}, 20*time.Second, 20*time.Millisecond, "every job finished")

	// Everything River holds, read as the application role scoped to A.
	var jobsText []string
	require.NoError(t, pgx.BeginFunc(ctx, b.deps.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('leadorch.tenant_id', $1, true)`, worlds["a"].shop.ID.String()); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT kind || ' ' || args::text || ' ' || coalesce(errors::text, '') FROM river_job ORDER BY id`)
		if err != nil {
			return err
		}
		jobsText, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	kinds := map[string]bool{}
	for _, row := range jobsText {
		kind, _, _ := strings.Cut(row, " ")
		kinds[kind] = true
		require.Empty(t, worlds["b"].traces.foundIn(row), "B's customer data in river_job as A sees it: %s", row)
		require.Empty(t, worlds["a"].traces.foundIn(row), "a customer's data in river_job: %s", row)
	}
	for _, kind := range []string{"handle_inbound_message", "record_email_event_batch", "send_sms", "send_email", "notify_shop", "record_job_execution"} {
		require.True(t, kinds[kind], "the flow ran %s", kind)
	}
	require.Contains(t, strings.Join(jobsText, "\n"), "+1512***0013", "the refused send's error names the number masked")

	for _, w := range worlds {
		require.Empty(t, w.traces.foundIn(logs.String()), "customer data in the logs")
	}
}

// postEvents posts an event batch to the SendGrid route with the given
// signature headers and returns the status.
func postEvents(t *testing.T, url string, body []byte, stamp, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(sendgrid.TimestampHeader, stamp)
	req.Header.Set(sendgrid.SignatureHeader, sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
