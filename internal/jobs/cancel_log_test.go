package jobs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"sync"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// logBuffer collects a JSON logger's lines; River's goroutines and the
// test's write and read it at once.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines decodes every line logged so far.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader([]byte(l.String())))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "log line %q", sc.Text())
		out = append(out, line)
	}
	return out
}

// warnsOf returns the warn lines about one job.
func (l *logBuffer) warnsOf(t *testing.T, jobID int64) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range l.lines(t) {
		if line["level"] == "WARN" && line["job_id"] == float64(jobID) {
			out = append(out, line)
		}
	}
	return out
}

// captureLogs points the workers' (and River's) logger at a buffer, at
// debug, so that anything any line says is seen.
func (b *testBundle) captureLogs() *logBuffer {
	logs := &logBuffer{}
	b.deps.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return logs
}

var (
	anyEmail = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	// anyPhone is a number in E.164 or written with separators. Bare runs
	// of ten digits are left out, and a match must not continue a word:
	// a log line's durations are integer nanoseconds and its ids hex, and
	// the looser pattern once matched "488-8683401" inside one of them.
	anyPhone = regexp.MustCompile(`(?:^|[^\w.-])(?:\+1?\d{10}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?:$|[^\w-])`)
)

// TestCancelIsLogged: a cancelled job leaves one warn line that names the
// tenant, the job kind, the record and the reason, and no secret or
// customer address. Before it, a cancel was logged by River at debug only.
func TestCancelIsLogged(t *testing.T) {
	t.Parallel()

	ingest := func(t *testing.T, b *testBundle, tenant lead.Tenant, ref fake.LeadRef) *rivertype.JobRow {
		t.Helper()
		client := b.startClient(t, jobs.ClientOpts{})
		res, err := client.Insert(context.Background(), jobs.IngestLeadArgs{TenantID: tenant.ID, ExternalID: ref.ExternalID, Version: 1, SendMessages: true}, nil)
		require.NoError(t, err)
		job := waitFinal(t, client, res.Job.ID)
		require.Equal(t, rivertype.JobStateCancelled, job.State)
		return job
	}

	t.Run("BadCRMKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		logs := b.captureLogs()
		tenant := b.addShop(t, "badkeylog")
		ref, err := b.sandbox.ShopMonkey.AddLead(tenant.CRMLocationID, fakeshopmonkey.LeadSpec{Phone: "(512) 555-0199", Email: "ann.lee@example.com"})
		require.NoError(t, err)
		const badKey = "sm_key_typed_by_hand_0xdeadbeef"
		wrong, err := b.keys.Seal(tenant.ID, badKey)
		require.NoError(t, err)
		_, err = b.store.UpdateTenant(context.Background(), tenant, &wrong)
		require.NoError(t, err)

		job := ingest(t, b, tenant, ref)

		warns := logs.warnsOf(t, job.ID)
		require.Len(t, warns, 1, "one warn line per cancel; got %v", warns)
		w := warns[0]
		require.Equal(t, "job cancelled; River will not run it again", w["msg"])
		require.Equal(t, tenant.ID.String(), w["tenant_id"])
		require.Equal(t, "ingest_lead", w["kind"])
		require.Equal(t, ref.ExternalID, w["external_id"])
		require.Contains(t, w["reason"], "rejected the tenant's credentials")
		require.NotContains(t, w["reason"], "JobCancelError", "the worker's reason, not River's wrapping")

		out := logs.String()
		require.NotContains(t, out, badKey, "the CRM key is never logged")
		require.NotContains(t, out, "ann.lee@example.com")
		require.Empty(t, anyEmail.FindAllString(out, -1), "no email address in the log")
		require.Empty(t, anyPhone.FindAllString(out, -1), "no phone number in the log")
	})

	t.Run("MalformedRecord", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		logs := b.captureLogs()
		tenant := b.addShop(t, "malformedlog")
		// A phone number that is not one and no email: nothing to reach the
		// customer on, so the ingest is cancelled with the field named.
		ref, err := b.sandbox.ShopMonkey.AddLead(tenant.CRMLocationID, fakeshopmonkey.LeadSpec{Phone: "(512) 555-01x9", NoEmail: true})
		require.NoError(t, err)

		job := ingest(t, b, tenant, ref)

		warns := logs.warnsOf(t, job.ID)
		require.Len(t, warns, 1, "one warn line per cancel; got %v", warns)
		w := warns[0]
		require.Equal(t, tenant.ID.String(), w["tenant_id"])
		require.Equal(t, "ingest_lead", w["kind"])
		require.Equal(t, ref.ExternalID, w["external_id"])
		require.Contains(t, w["reason"], "customer.phone")
		require.NotContains(t, logs.String(), "555-01x9", "the customer's number is never logged")
	})
}
