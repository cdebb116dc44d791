package tekmetric_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// webhookRequest is a Tekmetric webhook of a tenant in zone (its URL token
// already checked by the route).
func webhookRequest(zone, body string) crm.WebhookRequest {
	return crm.WebhookRequest{
		Tenant: lead.Tenant{CRMKind: tekmetric.Kind, CRMLocationID: "238", TimeZone: zone},
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(body),
		Now:    time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC),
	}
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	denver, err := time.LoadLocation("America/Denver")
	require.NoError(t, err)

	for name, tt := range map[string]struct {
		zone, body string
		want       crm.WebhookEvent
	}{
		"RepairOrder": {"America/Denver", `{"event":"Repair Order Created","data":{"id":123,"shopId":238}}`,
			crm.WebhookEvent{ExternalID: "repair-order:123"}},
		"AppointmentInTheShopsZone": {"America/Denver", `{"event":"Appointment Created","data":{"id":8,"updatedDate":"2026-11-25T10:30:00.250"}}`,
			crm.WebhookEvent{ExternalID: "appointment:8", Version: time.Date(2026, 11, 25, 10, 30, 0, 250e6, denver).UnixMilli()}},
		"ZoneThatDoesNotLoad": {"Mars/Olympus", `{"event":"Appointment Created","data":{"id":8,"updatedDate":"2026-11-25T10:30:00.250"}}`,
			crm.WebhookEvent{ExternalID: "appointment:8", Version: time.Date(2026, 11, 25, 10, 30, 0, 250e6, time.UTC).UnixMilli()}},
		"UpdatedDateWithZone": {"America/Denver", `{"event":"Repair Order Updated","data":{"id":7,"updatedDate":"2026-11-25T10:30:00Z"}}`,
			crm.WebhookEvent{ExternalID: "repair-order:7", Version: time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC).UnixMilli()}},
		"UnreadableUpdatedDate": {"America/Denver", `{"event":"Repair Order Updated","data":{"id":7,"updatedDate":"Tuesday"}}`,
			crm.WebhookEvent{ExternalID: "repair-order:7"}},
		"OtherEvent": {"America/Denver", `{"event":"Customer Viewed Estimate","data":{"id":9}}`,
			crm.WebhookEvent{Ignored: "Customer Viewed Estimate"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := tekmetric.ParseWebhook(webhookRequest(tt.zone, tt.body))
			require.NoError(t, err)
			require.Equal(t, tt.want, e)
			if e.ExternalID != "" {
				parsed, err := tekmetric.ParseExternalID(e.ExternalID)
				require.NoError(t, err)
				require.Equal(t, parsed, e.ExternalID)
			}
		})
	}

	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		_, err := tekmetric.ParseWebhook(webhookRequest("UTC", `{"event":"Repair Order Created","data":{"id":"5"}}`))
		require.ErrorContains(t, err, "field data.id")
		require.NotErrorIs(t, err, crm.ErrWebhookUnverified)
	})
}

// TestParseWebhookEndToEnd runs the sandbox's Tekmetric sender against
// ParseWebhook over real HTTP.
func TestParseWebhookEndToEnd(t *testing.T) {
	t.Parallel()
	got := make(chan crm.WebhookEvent, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e, err := tekmetric.ParseWebhook(crm.WebhookRequest{Tenant: lead.Tenant{TimeZone: "UTC"}, Header: r.Header, Body: body, Now: time.Now()})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got <- e
	}))
	t.Cleanup(srv.Close)
	require.NoError(t, faketekmetric.PostWebhook(context.Background(), srv.Client(), srv.URL+"/webhooks/tekmetric/t1/tok_secret", "Appointment Created", map[string]any{"id": 77}))
	require.Equal(t, crm.WebhookEvent{ExternalID: "appointment:77"}, <-got)
}

func TestDecodeWebhook(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]tekmetric.WebhookRecord{
		`{"event":"Repair Order Created","data":{"id":123,"shopId":238}}`: {Event: "Repair Order Created", Kind: tekmetric.WebhookRepairOrder, ID: 123},
		`{"event":"appointment  updated","data":{"id":5}}`:                {Event: "appointment  updated", Kind: tekmetric.WebhookAppointment, ID: 5},
		`{"event":"Customer Viewed Estimate","data":{"id":9}}`:            {Event: "Customer Viewed Estimate", Kind: tekmetric.WebhookOther, ID: 9},
		`{"event":"Customer Created","data":{"id":"x"}}`:                  {Event: "Customer Created", Kind: tekmetric.WebhookOther},
		`{"event":"Inventory Changed"}`:                                   {Event: "Inventory Changed", Kind: tekmetric.WebhookOther},
	} {
		r, err := tekmetric.DecodeWebhook([]byte(body))
		require.NoError(t, err, body)
		require.Equal(t, want, r, body)
	}
	r, _ := tekmetric.DecodeWebhook([]byte(`{"event":"Repair Order Created","data":{"id":123}}`))
	require.Equal(t, "repair-order:123", r.ExternalID())
	r, _ = tekmetric.DecodeWebhook([]byte(`{"event":"Customer Viewed Estimate","data":{"id":9}}`))
	require.Empty(t, r.ExternalID())

	for body, field := range map[string]string{
		`nope`:                             "body",
		`{"data":{"id":1}}`:                "event",
		`{"event":["x"],"data":{}}`:        "event",
		`{"event":"Repair Order Created"}`: "data",
		`{"event":"Repair Order Created","data":"x"}`:                        "data",
		`{"event":"Repair Order Created","data":{}}`:                         "data.id",
		`{"event":"Appointment Created","data":{"id":"5"}}`:                  "data.id",
		`{"event":"Appointment Created","data":{"id":0}}`:                    "data.id",
		`{"event":"Appointment Created","data":{"id":-4}}`:                   "data.id",
		`{"event":"Appointment Created","data":{"id":1.5}}`:                  "data.id",
		`{"event":"Appointment Created","data":{"id":99999999999999999999}}`: "data.id",
	} {
		_, err := tekmetric.DecodeWebhook([]byte(body))
		require.Error(t, err, body)
		if field != "body" {
			field = "field " + field
		}
		require.Contains(t, err.Error(), field, body)
	}
}

// TestWebhookVersion: the version a webhook derives from the record's
// updatedDate is the adapter's (Unix milliseconds; a zone-less time is the
// shop's wall clock), so a webhook and a poll share an ingest.
func TestWebhookVersion(t *testing.T) {
	t.Parallel()
	denver, err := time.LoadLocation("America/Denver")
	require.NoError(t, err)
	for body, want := range map[string]int64{
		`{"event":"Repair Order Updated","data":{"id":7,"updatedDate":"2026-11-25T10:30:00Z"}}`:    time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC).UnixMilli(),
		`{"event":"Appointment Created","data":{"id":8,"updatedDate":"2026-11-25T10:30:00.250"}}`:  time.Date(2026, 11, 25, 10, 30, 0, 250e6, denver).UnixMilli(),
		`{"event":"Appointment Created","data":{"id":9,"updatedDate":"2026-11-25T10:30:00-0700"}}`: time.Date(2026, 11, 25, 17, 30, 0, 0, time.UTC).UnixMilli(),
	} {
		r, err := tekmetric.DecodeWebhook([]byte(body))
		require.NoError(t, err)
		got, ok := r.Version(denver)
		require.True(t, ok, body)
		require.Equal(t, want, got, body)
	}
	r, err := tekmetric.DecodeWebhook([]byte(`{"event":"Repair Order Created","data":{"id":7}}`))
	require.NoError(t, err)
	_, ok := r.Version(denver)
	require.False(t, ok, "no updatedDate: no version")
}

// TestParseWebhookMatchesGetLead: a webhook carrying a record's
// updatedDate names it, and versions it, exactly as the adapter's GetLead
// (and so FetchNewLeads) does, zone-less times in the shop's zone, so
// that the webhook's ingest and the poll's ingest of one change share a
// job.
func TestParseWebhookMatchesGetLead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for name, tt := range map[string]struct {
		event, record string
	}{
		"ZonelessTime": {"Appointment Updated", `{"id": 555, "shopId": 3, "customerId": 1, "leadSource": "Yelp", "createdDate": null, "updatedDate": "2026-11-25T09:45:00"}`},
		"JavaOffset":   {"Appointment Updated", `{"id": 556, "shopId": 3, "customerId": 1, "leadSource": "Yelp", "updatedDate": "2026-11-25T09:50:00.000-0600"}`},
		"UTC":          {"Appointment Created", `{"id": 557, "shopId": 3, "customerId": 1, "leadSource": "Yelp", "updatedDate": "2026-11-25T15:55:00+00:00"}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b.AddRaw(t, faketekmetric.Appointments, tt.record)
			e, err := tekmetric.ParseWebhook(webhookRequest(testTimeZone, `{"event":"`+tt.event+`","data":`+tt.record+`}`))
			require.NoError(t, err)
			in, err := b.adapter.GetLead(t.Context(), e.ExternalID)
			require.NoError(t, err)
			require.Equal(t, in.ExternalID, e.ExternalID)
			require.Equal(t, in.Version, e.Version)
			require.NotZero(t, e.Version)
		})
	}
}
