package shopmonkey_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// webhookRequest is a ShopMonkey webhook of the tenant at location
// "loc-maple", signed by the sandbox now.
func webhookRequest(t *testing.T, body string) crm.WebhookRequest {
	t.Helper()
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	return crm.WebhookRequest{
		Tenant: lead.Tenant{CRMKind: shopmonkey.Kind, CRMLocationID: "loc-maple"},
		Secret: lead.Secret(testWebhookSecret),
		Header: fakeshopmonkey.SignWebhook(testWebhookSecret, "msg_7", now, []byte(body)),
		Body:   []byte(body),
		Now:    now,
	}
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()

	t.Run("OrderOfTheShop", func(t *testing.T) {
		t.Parallel()
		e, err := shopmonkey.ParseWebhook(webhookRequest(t, `{"apiVersion":"v3","operation":"INSERT","table":"order",
			"data":{"id":"ord_9","status":"Estimate","locationId":"loc-maple","meta":{"version":4}}}`))
		require.NoError(t, err)
		require.Equal(t, crm.WebhookEvent{DeliveryID: "msg_7", ExternalID: "order:ord_9", Version: 4}, e)
		parsed, err := shopmonkey.ParseExternalID("ord_9")
		require.NoError(t, err)
		require.Equal(t, parsed, e.ExternalID)
	})

	t.Run("AppointmentWithoutLocation", func(t *testing.T) {
		t.Parallel()
		// A record that does not say its location is not ruled out: GetLead
		// checks it.
		e, err := shopmonkey.ParseWebhook(webhookRequest(t, `{"operation":"UPDATE","table":"appointment",
			"data":{"id":"ap_1","attributionSource":"Manual","updatedDate":"2025-03-04T15:00:00.5Z"}}`))
		require.NoError(t, err)
		require.Equal(t, crm.WebhookEvent{DeliveryID: "msg_7", ExternalID: "appointment:ap_1",
			Version: time.Date(2025, 3, 4, 15, 0, 0, 500e6, time.UTC).UnixMilli()}, e)
	})

	t.Run("IDAsTheAdapterKeepsIt", func(t *testing.T) {
		t.Parallel()
		// The adapter keeps ids in crm.EscapeID form, and GetLead unescapes
		// them: a "%" in a webhook's id must be escaped the same way.
		e, err := shopmonkey.ParseWebhook(webhookRequest(t, `{"operation":"UPDATE","table":"order","data":{"id":"a%41"}}`))
		require.NoError(t, err)
		require.Equal(t, "order:"+crm.EscapeID("a%41"), e.ExternalID)
		require.Equal(t, "order:a%2541", e.ExternalID)
	})

	for name, body := range map[string]string{
		"Customer":      `{"operation":"UPDATE","table":"customer","data":{"id":"c1"}}`,
		"Deleted":       `{"operation":"DELETE","table":"order","data":{"id":"o1","locationId":"loc-maple"}}`,
		"OtherLocation": `{"operation":"INSERT","table":"order","data":{"id":"o1","locationId":"loc-oak"}}`,
	} {
		t.Run("Ignored"+name, func(t *testing.T) {
			t.Parallel()
			e, err := shopmonkey.ParseWebhook(webhookRequest(t, body))
			require.NoError(t, err)
			require.Equal(t, "not an order or appointment of this shop", e.Ignored)
			require.Empty(t, e.ExternalID)
		})
	}

	t.Run("Unverified", func(t *testing.T) {
		t.Parallel()
		req := webhookRequest(t, `{"operation":"INSERT","table":"order","data":{"id":"o1"}}`)
		req.Secret = lead.Secret("whsec_" + base64.StdEncoding.EncodeToString([]byte("another key entirely")))
		_, err := shopmonkey.ParseWebhook(req)
		require.ErrorIs(t, err, crm.ErrWebhookUnverified)
		require.ErrorIs(t, err, shopmonkey.ErrWebhookSignature)
	})

	t.Run("MalformedButSigned", func(t *testing.T) {
		t.Parallel()
		_, err := shopmonkey.ParseWebhook(webhookRequest(t, `{"operation":"UPSERT","table":"order","data":{"id":"o1"}}`))
		require.ErrorContains(t, err, "field operation")
		require.NotErrorIs(t, err, crm.ErrWebhookUnverified)
	})
}

// TestParseWebhookEndToEnd runs the sandbox's ShopMonkey sender against
// ParseWebhook over real HTTP.
func TestParseWebhookEndToEnd(t *testing.T) {
	t.Parallel()
	type result struct {
		e   crm.WebhookEvent
		err error
	}
	got := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e, err := shopmonkey.ParseWebhook(crm.WebhookRequest{
			Tenant: lead.Tenant{CRMLocationID: "loc-maple"}, Secret: lead.Secret(testWebhookSecret),
			Header: r.Header, Body: body, Now: time.Now(),
		})
		got <- result{e, err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	require.NoError(t, fakeshopmonkey.PostWebhook(ctx, srv.Client(), srv.URL, testWebhookSecret, "INSERT", "order",
		map[string]any{"id": "ord_9", "status": "Estimate", "locationId": "loc-maple", "meta": map[string]any{"version": 4}}))
	r := <-got
	require.NoError(t, r.err)
	require.Equal(t, "order:ord_9", r.e.ExternalID)
	require.Equal(t, int64(4), r.e.Version)
	require.NotEmpty(t, r.e.DeliveryID)

	err := fakeshopmonkey.PostWebhook(ctx, srv.Client(), srv.URL, "whsec_"+base64.StdEncoding.EncodeToString([]byte("other")), "INSERT", "order", map[string]any{"id": "x"})
	require.ErrorContains(t, err, "401")
	require.ErrorIs(t, (<-got).err, crm.ErrWebhookUnverified)
}

func TestDecodeWebhook(t *testing.T) {
	t.Parallel()

	t.Run("Order", func(t *testing.T) {
		t.Parallel()
		r, err := shopmonkey.DecodeWebhook([]byte(`{"apiVersion":"v3","operation":"UPDATE","table":"order",
			"data":{"id":"ord_1","status":"Estimate","locationId":"loc","number":12,"updatedDate":"2025-03-04T15:00:00.5Z"},"diff":[{"op":"replace"}]}`))
		require.NoError(t, err)
		require.Equal(t, shopmonkey.WebhookRecord{APIVersion: "v3", Operation: "UPDATE", Table: "order", RecordID: "ord_1", LocationID: "loc", Status: "Estimate",
			Version: time.Date(2025, 3, 4, 15, 0, 0, 500e6, time.UTC).UnixMilli()}, r)
		require.Equal(t, "order:ord_1", r.ExternalID())
		require.True(t, r.LeadCandidate())
		require.True(t, r.Relevant())
	})

	t.Run("LenientExtras", func(t *testing.T) {
		t.Parallel()
		// apiVersion and meta decide nothing: odd shapes do not refuse a
		// signed webhook.
		r, err := shopmonkey.DecodeWebhook([]byte(`{"apiVersion":3,"operation":"INSERT","table":"appointment","data":{"id":"a","meta":{"version":"7"}}}`))
		require.NoError(t, err)
		require.Equal(t, "3", r.APIVersion)
		require.Equal(t, int64(7), r.Version)
		r, err = shopmonkey.DecodeWebhook([]byte(`{"apiVersion":{},"operation":"INSERT","table":"order","data":{"id":"o","meta":"x","updatedDate":"bad"}}`))
		require.NoError(t, err)
		require.Empty(t, r.APIVersion)
		require.Zero(t, r.Version)
	})

	t.Run("LeadCandidates", func(t *testing.T) {
		t.Parallel()
		for body, want := range map[string]bool{
			`{"operation":"INSERT","table":"order","data":{"id":"o","status":"Estimate"}}`:                              true,
			`{"operation":"INSERT","table":"order","data":{"id":"o"}}`:                                                  true,
			`{"operation":"UPDATE","table":"order","data":{"id":"o","status":"RepairOrder"}}`:                           false,
			`{"operation":"DELETE","table":"order","data":{"id":"o","status":"Estimate"}}`:                              false,
			`{"operation":"INSERT","table":"appointment","data":{"id":"a","attributionSource":"WorkRequestForm"}}`:      true,
			`{"operation":"INSERT","table":"appointment","data":{"id":"a","attributionSource":"AppointmentScheduler"}}`: true,
			`{"operation":"INSERT","table":"appointment","data":{"id":"a","attributionSource":"Manual"}}`:               false,
			`{"operation":"INSERT","table":"customer","data":{"id":"c","status":5}}`:                                    false,
			`{"apiVersion":3,"operation":"insert","table":"appointment","data":{"id":"a","meta":{"version":"7"}}}`:      true,
		} {
			r, err := shopmonkey.DecodeWebhook([]byte(body))
			require.NoError(t, err, body)
			require.Equal(t, want, r.LeadCandidate(), body)
		}
	})

	for body, field := range map[string]string{
		``:                  "body",
		`[]`:                "body",
		`{"operation":1}`:   "operation",
		`{"table":"order"}`: "operation",
		`{"operation":"UPSERT","table":"order","data":{"id":"o"}}`:                "operation",
		`{"operation":"INSERT","data":{"id":"o"}}`:                                "table",
		`{"operation":"INSERT","table":"order"}`:                                  "data",
		`{"operation":"INSERT","table":"order","data":[1]}`:                       "data",
		`{"operation":"INSERT","table":"order","data":{}}`:                        "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":7}}`:                  "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":""}}`:                 "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":"a\u0000b"}}`:         "data.id",
		`{"operation":"INSERT","table":"order","data":{"id":"o","status":false}}`: "data.status",
		`{"operation":"INSERT","table":"order","data":{"id":"o","locationId":1}}`: "data.locationId",
	} {
		_, err := shopmonkey.DecodeWebhook([]byte(body))
		require.Error(t, err, body)
		require.Contains(t, err.Error(), field, body)
	}
}

// TestParseWebhookMatchesGetLead: a webhook carrying a record names it,
// and versions it, exactly as the adapter's GetLead (and so FetchNewLeads)
// does, so that the webhook's ingest and the poll's ingest of one change
// share a job.
func TestParseWebhookMatchesGetLead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	updated := b.at(time.Minute).Format(time.RFC3339Nano)
	for name, tt := range map[string]struct {
		table  fakeshopmonkey.Table
		record string
	}{
		"OrderWithMetaVersion": {fakeshopmonkey.Order, `{"id":"o-meta","status":"Estimate","locationId":"loc-a","customerId":"c","createdDate":"` + updated + `","updatedDate":"` + updated + `","meta":{"version":"12"}}`},
		"OrderWithoutVersion":  {fakeshopmonkey.Order, `{"id":"o-50%","status":"Estimate","locationId":"loc-a","customerId":"c","createdDate":"` + updated + `","updatedDate":"` + updated + `"}`},
		"Appointment":          {fakeshopmonkey.Appointment, `{"id":"ap-1","attributionSource":"WorkRequestForm","locationId":"loc-a","customerId":"c","createdDate":"` + updated + `","updatedDate":"` + updated + `","meta":{"version":3}}`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b.AddRaw(t, tt.table, tt.record)
			req := webhookRequest(t, `{"operation":"UPDATE","table":"`+string(tt.table)+`","data":`+tt.record+`}`)
			req.Tenant.CRMLocationID = testLocation
			e, err := shopmonkey.ParseWebhook(req)
			require.NoError(t, err)
			in, err := b.adapter.GetLead(ctx, e.ExternalID)
			require.NoError(t, err)
			require.Equal(t, in.ExternalID, e.ExternalID)
			require.Equal(t, in.Version, e.Version)
			require.NotZero(t, e.Version)
		})
	}
}
