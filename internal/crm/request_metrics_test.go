package crm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// waitOnceBudget makes the first request of each test wait a moment.
type waitOnceBudget struct{ spent atomic.Int32 }

func (b *waitOnceBudget) SpendCRMRequest(context.Context, lead.Tenant, int) (time.Duration, error) {
	if b.spent.Add(1) == 1 {
		return 5 * time.Millisecond, nil
	}
	return 0, nil
}

// TestKindOptsClientMetrics: a kind's requests are counted by outcome
// class under the kind's name, 429s and budget waits by tenant class, and
// no tenant id becomes a label unless an operator opted in.
func TestKindOptsClientMetrics(t *testing.T) {
	t.Parallel()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)

	for _, tenantLabels := range []bool{false, true} {
		t.Run("TenantLabels="+strconv.FormatBool(tenantLabels), func(t *testing.T) {
			t.Parallel()
			m := metrics.New(metrics.Opts{TenantLabels: tenantLabels, CRMs: []string{"third"}})
			tenant := lead.Tenant{ID: uuid.New(), Name: "shop"}
			opts := crm.KindOpts{HTTPClient: srv.Client(), Budget: &waitOnceBudget{}, Metrics: m}
			client := opts.Client(crm.Kind{Name: "third"}, tenant)
			for _, status := range []int{200, 201, 429, 503, 404} {
				resp, err := client.Get(srv.URL + "?status=" + strconv.Itoa(status))
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
			}
			_, err := client.Get("http://127.0.0.1:1/refused")
			require.Error(t, err)

			tenantLabel := metrics.TenantAll
			if tenantLabels {
				tenantLabel = tenant.ID.String()
			}
			want := `
# HELP leadorch_crm_budget_waits_total CRM requests that had to wait for the tenant's request budget (tenant is "all" unless metrics.tenant_labels).
# TYPE leadorch_crm_budget_waits_total counter
leadorch_crm_budget_waits_total{crm="third",tenant="` + tenantLabel + `"} 1
# HELP leadorch_crm_rate_limited_total 429 answers from a CRM (tenant is "all" unless metrics.tenant_labels).
# TYPE leadorch_crm_rate_limited_total counter
leadorch_crm_rate_limited_total{crm="third",tenant="` + tenantLabel + `"} 1
# HELP leadorch_crm_requests_total HTTP requests to the shops' CRMs by CRM kind and outcome (ok, retry = 5xx or no answer, permanent = another 4xx, rate_limited = 429).
# TYPE leadorch_crm_requests_total counter
leadorch_crm_requests_total{crm="third",outcome="ok"} 2
leadorch_crm_requests_total{crm="third",outcome="permanent"} 1
leadorch_crm_requests_total{crm="third",outcome="rate_limited"} 1
leadorch_crm_requests_total{crm="third",outcome="retry"} 2
`
			names := []string{"leadorch_crm_budget_waits_total", "leadorch_crm_rate_limited_total", "leadorch_crm_requests_total"}
			require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...))

			families, err := m.Registry().Gather()
			require.NoError(t, err)
			var timed uint64
			for _, f := range families {
				if f.GetName() == "leadorch_crm_request_duration_seconds" {
					timed = f.GetMetric()[0].GetHistogram().GetSampleCount()
				}
			}
			require.EqualValues(t, 6, timed, "every request is timed, answered or not")
		})
	}
}
