package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/config"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// TestVehicleNotFoundKeepsLead: a lead whose vehicle the CRM answers 404
// for is kept (a lead needs a way to reach the customer, not a vehicle),
// every problem found is recorded, not only the vehicle, and the messages,
// from the shipped default templates, read without a vehicle. On the old
// code the vehicle 404 cancelled the ingest: none of these leads was
// stored or messaged, and the error named only the vehicle.
func TestVehicleNotFoundKeepsLead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	def := config.Default().Templates
	b.deps.Templates = lead.Templates{SMS: def.SMS, EmailSubject: def.EmailSubject, EmailText: def.EmailText}
	sm := b.addShop(t, "novehicle")
	tm := b.addTekmetricShop(t, "novehicletm", 41, func(tn *lead.Tenant) { tn.Templates = lead.Templates{} })

	// Texted: a good phone, a bad email.
	texted, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{MissingVehicle: true,
		FirstName: "Grace", Phone: "(312) 401-0001", Email: "grace at example"})
	require.NoError(t, err)
	// Emailed: a bad phone, a good email.
	emailed, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{MissingVehicle: true,
		FirstName: "Tom", Phone: "call me maybe", Email: "tom@example.com"})
	require.NoError(t, err)
	// Nobody to reach: cancelled, naming all three problems.
	unreachable, err := b.sandbox.ShopMonkey.AddLead(sm.CRMLocationID, fakeshopmonkey.LeadSpec{MissingVehicle: true,
		Phone: "12", Email: "nobody"})
	require.NoError(t, err)
	tmTexted, err := b.sandbox.Tekmetric.AddLead(41, faketekmetric.LeadSpec{MissingVehicle: true,
		FirstName: "Owen", Phone: "312-401-0002", Email: "owen at example"})
	require.NoError(t, err)

	client := b.startClient(t, jobs.ClientOpts{ScheduleInterval: time.Hour})
	for _, shop := range []lead.Tenant{sm, tm} {
		_, err := client.Insert(ctx, jobs.PollCRMArgs{TenantID: shop.ID, Live: true, SendMessages: true,
			Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute)}, nil)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND finalized_at IS NOT NULL`) == 4 &&
			b.sandbox.Stats().SMS == 2 && b.sandbox.Stats().Emails == 1
	}, 30*time.Second, 50*time.Millisecond)

	problems := func(shop lead.Tenant, externalID string) string {
		var p string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT contact_problem FROM leads WHERE tenant_id = $1 AND external_id = $2`,
			shop.ID, externalID).Scan(&p))
		return p
	}
	for _, c := range []struct {
		shop       lead.Tenant
		externalID string
		want       []string
	}{
		{sm, texted.ExternalID, []string{"invalid vehicle: is not in the CRM", "invalid customer.email:"}},
		{sm, emailed.ExternalID, []string{"invalid vehicle: is not in the CRM", "invalid customer.phone:"}},
		{tm, tmTexted.ExternalID, []string{"invalid vehicle: is not in the CRM", "invalid customer.email:"}},
	} {
		p := problems(c.shop, c.externalID)
		for _, w := range c.want {
			require.Contains(t, p, w, c.externalID)
		}
	}

	noVehicle := func(text string) {
		t.Helper()
		require.NotContains(t, text, "about your")
		require.NotContains(t, text, "your .")
		require.NotContains(t, text, "  ")
	}
	msgs := b.sandbox.Twilio.Messages()
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		require.Contains(t, []string{"+13124010001", "+13124010002"}, m.To)
		require.True(t, strings.HasPrefix(m.Body, "Hi Grace, this is novehicle. We got your request and will text you") ||
			strings.HasPrefix(m.Body, "Hi Owen, this is novehicletm. We got your request and will text you"), m.Body)
		noVehicle(m.Body)
	}
	emails := b.sandbox.SendGrid.Emails()
	require.Len(t, emails, 1)
	require.Equal(t, "tom@example.com", emails[0].To)
	require.Contains(t, emails[0].Text, "Thanks for contacting novehicle. We received your request:")
	noVehicle(emails[0].Text)

	// The lead nobody can reach is cancelled, and its error names every
	// problem, the vehicle among them.
	require.Zero(t, b.count(t, `SELECT count(*) FROM leads WHERE external_id = $1`, unreachable.ExternalID))
	// A cancelled run's row is written by a record_job_execution job.
	require.Eventually(t, func() bool {
		return b.count(t, `SELECT count(*) FROM job_executions WHERE kind = 'ingest_lead' AND outcome = 'cancelled'`) == 1
	}, 10*time.Second, 20*time.Millisecond)
	var errText string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT error FROM job_executions WHERE kind = 'ingest_lead' AND outcome = 'cancelled'`).Scan(&errText))
	t.Logf("cancelled: %s", errText)
	for _, w := range []string{unreachable.ExternalID, "invalid customer.phone:", "invalid customer.email:", "invalid vehicle: is not in the CRM"} {
		require.Contains(t, errText, w)
	}
	require.Equal(t, 3, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'ingest_lead' AND state = 'completed'`))
}
