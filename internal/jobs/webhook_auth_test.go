package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// webhookAnswer is what a webhook sender sees of an answer, but for the
// headers that differ per request (Date).
type webhookAnswer struct {
	Status      int
	ContentType string
	Body        string
}

func postWebhookRaw(t *testing.T, url string, h http.Header, body []byte) webhookAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return webhookAnswer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: string(got)}
}

// refusingIntake fails the test on anything handed to it: the requests
// sent to it must not verify.
type refusingIntake struct{ t *testing.T }

func (i refusingIntake) AdmitIngest(context.Context, uuid.UUID) (time.Duration, error) {
	i.t.Error("an unverified CRM webhook was admitted")
	return 0, nil
}

func (i refusingIntake) Ingest(context.Context, uuid.UUID, string, crm.WebhookEvent) error {
	i.t.Error("an unverified CRM webhook was enqueued")
	return nil
}

func (i refusingIntake) InboundEmail(context.Context, messaging.InboundEmail) error {
	i.t.Error("an unverified inbound email was stored")
	return nil
}

func (i refusingIntake) Inbound(context.Context, uuid.UUID, messaging.InboundText) error {
	i.t.Error("an unverified text was enqueued")
	return nil
}

func (i refusingIntake) SMSStatus(context.Context, uuid.UUID, messaging.SMSStatus) error {
	i.t.Error("an unverified status callback was enqueued")
	return nil
}

func (i refusingIntake) EmailEvents(context.Context, string, []messaging.EmailEvent) error {
	i.t.Error("an unverified event batch was enqueued")
	return nil
}

// unverifiedRequest is a webhook request that must not verify.
type unverifiedRequest struct {
	url  string
	h    http.Header
	body []byte
}

// TestWebhookRoutesAnswerOneUnauthorized: on every webhook route, a
// request that does not verify gets the very same 401, whatever failed: a
// tenant id that is unknown, malformed or of another CRM, a missing
// header, a bad signature, a stale timestamp, a wrong URL token. The
// ShopMonkey route used to answer a known tenant's request without
// webhook-id with 400 "webhook-id is required" and an unknown tenant's
// with 401, which told anyone which tenant ids exist. Nothing is enqueued.
func TestWebhookRoutesAnswerOneUnauthorized(t *testing.T) {
	t.Parallel()
	b := setupWebhooks(t)
	shop := b.addShop(t, "authsm")
	b.withWebhookCredentials(t, shop)
	tek := b.addTekmetricShop(t, "authtek", 41, nil)
	b.withWebhookCredentials(t, tek)
	unknown := uuid.New()
	want := webhookAnswer{Status: http.StatusUnauthorized, ContentType: "application/json", Body: httpapi.UnauthorizedBody}

	smBody, err := json.Marshal(map[string]any{"apiVersion": "v3", "operation": "INSERT", "table": "order",
		"data": map[string]any{"id": "ord_1", "status": "Estimate", "locationId": shop.CRMLocationID}})
	require.NoError(t, err)
	signed := func(secret string, at time.Time) http.Header {
		return fakeshopmonkey.SignWebhook(secret, "msg_"+uuid.NewString(), at, smBody)
	}
	without := func(h http.Header, name string) http.Header { h.Del(name); return h }
	smURL := func(id string) string { return webhookurl.URL(b.server.URL, webhookurl.CRM("shopmonkey", id, "")) }

	tekBody := []byte(`{"event":"Repair Order Created","data":{"id":7}}`)
	tekURL := func(id uuid.UUID, token string) string {
		return webhookurl.URL(b.server.URL, webhookurl.CRM("tekmetric", id.String(), token))
	}

	twilioForm := url.Values{"MessageSid": {"SM" + uuid.NewString()[:8]}, "AccountSid": {faketwilio.DefaultAccountSID},
		"From": {"+15555550100"}, "To": {shop.SMSFrom}, "Body": {"hi"}, "MessageStatus": {"delivered"}}
	twilio := func(id string, route func(string) webhookurl.Route, token string, sign bool) (string, http.Header, []byte) {
		u := webhookurl.URL(b.server.URL, route(id))
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if sign {
			h.Set("X-Twilio-Signature", faketwilio.Signature(token, u, twilioForm))
		}
		return u, h, []byte(twilioForm.Encode())
	}

	cases := map[string]unverifiedRequest{
		"ShopMonkeyUnknownTenant":    {smURL(unknown.String()), signed(shopMonkeyWebhookSecret, time.Now()), smBody},
		"ShopMonkeyMalformedTenant":  {smURL("not-a-tenant"), signed(shopMonkeyWebhookSecret, time.Now()), smBody},
		"ShopMonkeyTekmetricTenant":  {smURL(tek.ID.String()), signed(shopMonkeyWebhookSecret, time.Now()), smBody},
		"ShopMonkeyMissingWebhookID": {smURL(shop.ID.String()), without(signed(shopMonkeyWebhookSecret, time.Now()), "webhook-id"), smBody},
		"ShopMonkeyMissingSignature": {smURL(shop.ID.String()), without(signed(shopMonkeyWebhookSecret, time.Now()), "webhook-signature"), smBody},
		"ShopMonkeyTimestampNotSeconds": {smURL(shop.ID.String()), func() http.Header {
			h := signed(shopMonkeyWebhookSecret, time.Now())
			h.Set("webhook-timestamp", "soon")
			return h
		}(), smBody},
		"ShopMonkeyBadSignature":    {smURL(shop.ID.String()), signed("whsec_"+"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", time.Now()), smBody},
		"ShopMonkeyStale":           {smURL(shop.ID.String()), signed(shopMonkeyWebhookSecret, time.Now().Add(-time.Hour)), smBody},
		"TekmetricUnknownTenant":    {tekURL(unknown, tekmetricWebhookToken), nil, tekBody},
		"TekmetricShopMonkeyTenant": {tekURL(shop.ID, tekmetricWebhookToken), nil, tekBody},
		"TekmetricWrongToken":       {tekURL(tek.ID, "tok_guess"), nil, tekBody},
	}
	for name, route := range map[string]func(string) webhookurl.Route{"sms": webhookurl.TwilioSMS, "status": webhookurl.TwilioStatus} {
		u, h, body := twilio(unknown.String(), route, faketwilio.DefaultAuthToken, true)
		cases["Twilio_"+name+"_UnknownTenant"] = unverifiedRequest{u, h, body}
		u, h, body = twilio(shop.ID.String(), route, faketwilio.DefaultAuthToken, false)
		cases["Twilio_"+name+"_MissingSignature"] = unverifiedRequest{u, h, body}
		u, h, body = twilio(shop.ID.String(), route, "wrong-token", true)
		cases["Twilio_"+name+"_BadSignature"] = unverifiedRequest{u, h, body}
		u, h, _ = twilio(shop.ID.String(), route, faketwilio.DefaultAuthToken, true)
		cases["Twilio_"+name+"_NotAForm"] = unverifiedRequest{u, h, []byte("%zz")}
	}

	// SendGrid's event route has no tenant; its failures answer the same.
	eventWebhook, err := sendgrid.NewEventWebhook(fakesendgrid.WebhookPublicKey)
	require.NoError(t, err)
	events, err := httpapi.NewHandler(httpapi.Opts{
		Logger:      b.deps.Logger,
		Intake:      refusingIntake{t},
		EmailEvents: eventWebhook,
	})
	require.NoError(t, err)
	eventSrv := httptest.NewServer(events)
	t.Cleanup(eventSrv.Close)
	eventBody := []byte(`[{"email":"a@example.com","event":"delivered","sg_message_id":"x"}]`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := fakesendgrid.SignEvents(eventBody, ts)
	require.NoError(t, err)
	cases["SendGridMissingSignature"] = unverifiedRequest{webhookurl.URL(eventSrv.URL, webhookurl.SendGridEvents()), http.Header{sendgrid.TimestampHeader: {ts}}, eventBody}
	cases["SendGridBadSignature"] = unverifiedRequest{webhookurl.URL(eventSrv.URL, webhookurl.SendGridEvents()), http.Header{sendgrid.TimestampHeader: {ts}, sendgrid.SignatureHeader: {sig}}, append(eventBody, ' ')}

	for name, tc := range cases {
		require.Equal(t, want, postWebhookRaw(t, tc.url, tc.h, tc.body), name)
	}
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job WHERE kind IN ('ingest_lead', 'handle_inbound', 'record_sms_status')`),
		"nothing unverified is enqueued")

	// The same requests, verified, are taken: the 401s above were about
	// verification alone.
	require.Equal(t, http.StatusOK, postWebhookRaw(t, smURL(shop.ID.String()), signed(shopMonkeyWebhookSecret, time.Now()), smBody).Status)
	require.Equal(t, http.StatusOK, postWebhookRaw(t, tekURL(tek.ID, tekmetricWebhookToken), nil, tekBody).Status)
}
