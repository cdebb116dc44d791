package main

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// contractMetrics is every name of the metrics contract
// (_prompts/metrics-contract.md): what the alert rules, the dashboard and
// the speed-to-lead report were written against.
func contractMetrics() []string {
	return []string{
		"leadorch_build_info",
		"leadorch_job_runs_total", "leadorch_job_run_duration_seconds",
		"leadorch_provider_requests_total", "leadorch_provider_request_duration_seconds",
		"leadorch_crm_requests_total", "leadorch_crm_request_duration_seconds",
		"leadorch_crm_budget_waits_total", "leadorch_crm_rate_limited_total",
		"leadorch_webhooks_total",
		"leadorch_speed_to_lead_seconds", "leadorch_speed_to_lead_from_first_seen_seconds",
		"leadorch_queue_jobs", "leadorch_queue_oldest_available_age_seconds",
		"leadorch_outbox_messages", "leadorch_poll_lag_seconds", "leadorch_tenants_polls_failing",
		"leadorch_tenants_needing_attention", "leadorch_poll_schedule_age_seconds", "leadorch_database_stats_up",
	}
}

const scrapeWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

type scrapeBundle struct {
	*testBundle
	w        *worker
	sandbox  *sandbox.Server
	tenantID string
	// leadPhone and leadEmail are the customer's, which no label may hold.
	leadPhone, leadEmail string
}

// setupScrape starts a worker against the sandbox and drives one lead
// through a signed ShopMonkey webhook to an accepted text and email.
func setupScrape(t *testing.T) *scrapeBundle {
	t.Helper()
	ctx := context.Background()
	b := setup(t)
	sb := sandbox.NewServer(sandbox.ServerOpts{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	urls := sandbox.URLs(srv.URL)
	b.env["LEADORCH_TWILIO_ACCOUNT_SID"] = faketwilio.DefaultAccountSID
	b.env["LEADORCH_TWILIO_AUTH_TOKEN"] = faketwilio.DefaultAuthToken
	b.env["LEADORCH_TWILIO_BASE_URL"] = urls.Twilio
	b.env["LEADORCH_SENDGRID_API_KEY"] = fakesendgrid.DefaultAPIKey
	b.env["LEADORCH_SENDGRID_BASE_URL"] = urls.SendGrid
	b.env["LEADORCH_SHOPMONKEY_BASE_URL"] = urls.ShopMonkey
	w := startWorker(t, b)

	keys, err := credentials.ParseKeyring(credentialsKeys)
	require.NoError(t, err)
	st := store.New(b.db.App)
	sb.ShopMonkey.AddLocation("sm_key_scrape", "loc-scrape")
	tenant := fixture.Create(t, st, keys, fixture.ShopMonkeyTenant("scrape", fixture.Senders("+15005550006", "service@scrape.example.com"),
		fixture.Unlimited, fixture.SendAnyTime), "sm_key_scrape")
	sealed, err := keys.SealWebhook(tenant.ID, scrapeWebhookSecret)
	require.NoError(t, err)
	hash := sha256.Sum256([]byte("unused"))
	require.NoError(t, st.SetTenantWebhookCredentials(ctx, tenant.ID, &sealed, hash[:]))

	ref, err := sb.ShopMonkey.AddLead(tenant.CRMLocationID, fakeshopmonkey.LeadSpec{})
	require.NoError(t, err)
	record, ok := sb.ShopMonkey.Record(tenant.CRMLocationID, fakeshopmonkey.Order, ref.ID)
	require.True(t, ok)
	require.NoError(t, fakeshopmonkey.PostWebhook(ctx, http.DefaultClient, webhookurl.URL(w.base, webhookurl.CRM("shopmonkey", tenant.ID.String(), "")),
		scrapeWebhookSecret, "INSERT", string(fakeshopmonkey.Order), record))
	require.Eventually(t, func() bool { s := sb.Stats(); return s.SMS == 1 && s.Emails == 1 },
		20*time.Second, 20*time.Millisecond, "the lead was never texted and emailed; output:\n%s", w.out)

	sent := sb.Twilio.Messages()[0]
	return &scrapeBundle{testBundle: b, w: w, sandbox: sb, tenantID: tenant.ID.String(),
		leadPhone: sent.To, leadEmail: sb.SendGrid.Emails()[0].To}
}

// scrape reads /metrics from the operator listener and parses it.
func (b *scrapeBundle) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(b.w.operator + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return families
}

// value is the value of name{labels...}, -1 when absent.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
series:
	for _, s := range f.GetMetric() {
		for _, l := range s.GetLabel() {
			if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
				continue series
			}
		}
		switch {
		case s.Counter != nil:
			return s.GetCounter().GetValue()
		case s.Histogram != nil:
			return float64(s.GetHistogram().GetSampleCount())
		}
		return s.GetGauge().GetValue()
	}
	return -1
}

// TestMetricsScrape scrapes a real worker that has just texted and
// emailed a lead from a CRM webhook.
func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	b := setupScrape(t)

	// The figures of the run arrive as its jobs finish recording.
	var families map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		families = b.scrape(t)
		return value(families, "leadorch_provider_requests_total", map[string]string{"provider": "twilio", "operation": "send", "outcome": "ok"}) == 1 &&
			value(families, "leadorch_provider_requests_total", map[string]string{"provider": "sendgrid", "operation": "send", "outcome": "ok"}) == 1 &&
			value(families, "leadorch_job_runs_total", map[string]string{"kind": "send_email", "queue": "email", "outcome": "completed"}) == 1
	}, 20*time.Second, 50*time.Millisecond, "the sends were never counted")

	t.Run("Contract", func(t *testing.T) {
		t.Parallel()
		var missing []string
		for _, name := range contractMetrics() {
			if _, ok := families[name]; !ok {
				missing = append(missing, name)
			}
		}
		require.Empty(t, missing, "contract metrics missing from /metrics")

		require.Equal(t, 1.0, value(families, "leadorch_webhooks_total", map[string]string{"route": "crm_shopmonkey", "result": "accepted", "reason": "ok"}))
		require.Positive(t, value(families, "leadorch_crm_requests_total", map[string]string{"crm": "shopmonkey", "outcome": "ok"}))
		require.Positive(t, value(families, "leadorch_job_runs_total", map[string]string{"kind": "ingest_lead", "queue": "crm", "outcome": "completed"}))
		require.Equal(t, 1.0, value(families, "leadorch_database_stats_up", nil))
		require.Zero(t, value(families, "leadorch_queue_jobs", map[string]string{"queue": "sms", "state": "retryable"}))
		require.Zero(t, value(families, "leadorch_outbox_messages", map[string]string{"channel": "email", "status": "ambiguous"}))
		require.GreaterOrEqual(t, value(families, "leadorch_poll_lag_seconds", map[string]string{"crm": "shopmonkey", "tenant": "all"}), 0.0)
		require.Contains(t, families, "go_goroutines", "Go's runtime collector")
		require.Contains(t, families, "process_cpu_seconds_total", "the process collector")
	})

	t.Run("NoTenantOrContactInLabels", func(t *testing.T) {
		t.Parallel()
		phone := regexp.MustCompile(`^\+?[0-9]{10,15}$`)
		for name, f := range families {
			for _, s := range f.GetMetric() {
				for _, l := range s.GetLabel() {
					v := l.GetValue()
					require.NotEqual(t, b.tenantID, v, "%s{%s} holds the tenant id", name, l.GetName())
					require.NotContains(t, v, b.leadPhone, "%s{%s}", name, l.GetName())
					require.NotContains(t, v, b.leadEmail, "%s{%s}", name, l.GetName())
					require.NotContains(t, v, "@", "%s{%s}=%q looks like an address", name, l.GetName(), v)
					require.False(t, phone.MatchString(v), "%s{%s}=%q looks like a phone number", name, l.GetName(), v)
				}
			}
		}
	})

	t.Run("DeployFiles", func(t *testing.T) {
		t.Parallel()
		names := deployMetricNames(t)
		var missing []string
		for _, name := range names {
			if _, ok := families[name]; !ok {
				missing = append(missing, name)
			}
		}
		require.Empty(t, missing, "metrics the alert rules or the dashboard query that /metrics does not export")
	})
}

// deployMetricNames is every leadorch_* name in the alert rules and the
// dashboards, with the histogram suffixes stripped. No files is a
// failure: the check would pass vacuously.
func deployMetricNames(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../../deploy/prometheus/*.yml", "../../deploy/grafana/*.json"} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, matches...)
	}
	require.NotEmpty(t, files, "no alert rules (deploy/prometheus/*.yml) or dashboards (deploy/grafana/*.json) found: nothing to check the scrape against")
	re := regexp.MustCompile(`leadorch_[a-z0-9_]+`)
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, name := range re.FindAllString(string(data), -1) {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				name = strings.TrimSuffix(name, suffix)
			}
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
