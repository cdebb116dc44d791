package crmtest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// runWebhook checks a kind's webhook against its adapter: a webhook the
// fake sends for a lead names the record exactly as the poll and GetLead
// do, with the poll's version when it carries one (so a webhook's ingest
// and a poll's ingest of one change share a job), and a request that does
// not verify, or that the CRM could not have sent, is refused with the
// error class the route maps to 401 or 400.
func runWebhook(t *testing.T, h Harness) {
	if h.Registry.WebhookAuth == crm.WebhookNone {
		require.Nil(t, h.Registry.ParseWebhook, "a kind without webhooks has no parser")
		return
	}
	t.Run("NamesThePolledLead", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		for _, appointment := range []bool{false, true} {
			ref := w.AddLead(t, LeadSpec{Appointment: appointment, CreatedAt: w.Since.Add(time.Minute)})
			polled, err := w.Adapter.GetLead(t.Context(), ref.ExternalID)
			require.NoError(t, err)

			e, err := h.Registry.ParseWebhook(w.Webhook(t, ref))
			require.NoError(t, err)
			require.Empty(t, e.Ignored)
			require.Equal(t, ref.ExternalID, e.ExternalID)
			// The fakes' records carry their version (or update time), as
			// the CRMs' do: the webhook must read the poll's.
			require.NotZero(t, polled.Version)
			require.Equal(t, polled.Version, e.Version, "the webhook's version is the poll's")
			_, err = w.Adapter.GetLead(t.Context(), e.ExternalID)
			require.NoError(t, err, "the adapter reads the record the webhook names")
		}
	})
	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		req := w.Webhook(t, w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Minute)}))
		if h.Registry.WebhookAuth == crm.WebhookSigned {
			tampered := req
			tampered.Body = append([]byte(nil), req.Body...)
			tampered.Body[len(tampered.Body)/2] ^= 1
			_, err := h.Registry.ParseWebhook(tampered)
			require.ErrorIs(t, err, crm.ErrWebhookUnverified, "one byte changed")
			stale := req
			stale.Now = req.Now.Add(time.Hour)
			_, err = h.Registry.ParseWebhook(stale)
			require.ErrorIs(t, err, crm.ErrWebhookUnverified, "an hour late")
			return
		}
		// Nothing is signed: the route has checked the URL token, and a
		// body that is not the CRM's is the sender's mistake, named.
		req.Body = []byte(`{"event": 7}`)
		_, err := h.Registry.ParseWebhook(req)
		require.Error(t, err)
		require.False(t, errors.Is(err, crm.ErrWebhookUnverified), "a verified request the CRM sent malformed is a 400: %v", err)
	})
}

// CaptureWebhook runs post against a local server and returns the request
// it sent, as a route receives it: a World's Webhook builds its requests
// with the fake's own sender this way.
func CaptureWebhook(t *testing.T, post func(url string) error) (http.Header, []byte) {
	t.Helper()
	type captured struct {
		header http.Header
		body   []byte
	}
	got := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- captured{r.Header.Clone(), body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	require.NoError(t, post(srv.URL+"/webhook"))
	c := <-got
	return c.header, c.body
}
