package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// errFake is an intake's failure.
var errFake = errors.New("the database is down")

// fakeSMS is an SMS provider whose "signature" is the X-Fake-Signed
// header naming the URL it signed. Bodies "bad" decode to an error naming
// a field.
type fakeSMS struct {
	mu   sync.Mutex
	urls []string
}

func (f *fakeSMS) verify(url string, h http.Header, body []byte) error {
	f.mu.Lock()
	f.urls = append(f.urls, url)
	f.mu.Unlock()
	switch {
	case h.Get("X-Fake-Signed") != url:
		return fmt.Errorf("%w: the signature does not cover %s", messaging.ErrWebhookUnverified, url)
	case string(body) == "bad":
		return errors.New("fake sms: field MessageSid: is missing")
	}
	return nil
}

func (f *fakeSMS) ParseInbound(url string, h http.Header, body []byte) (messaging.InboundText, error) {
	if err := f.verify(url, h, body); err != nil {
		return messaging.InboundText{}, err
	}
	return messaging.InboundText{ProviderID: "SM1", From: "+15555550100", To: "+15555550199", Body: string(body)}, nil
}

func (f *fakeSMS) ParseStatus(url string, h http.Header, body []byte) (messaging.SMSStatus, error) {
	if err := f.verify(url, h, body); err != nil {
		return messaging.SMSStatus{}, err
	}
	return messaging.SMSStatus{ProviderID: "SM1", Status: string(body)}, nil
}

// TestSMSWebhooks: the SMS routes verify through the provider's parser
// over the public URL as configured (never the request's host), answer
// the uniform 401 when it does not verify, 400 for a verified request
// built wrong, and hand the text, stamped with the route's clock, or the
// status to the intake.
func TestSMSWebhooks(t *testing.T) {
	t.Parallel()

	t.Run("Inbound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		route := webhookurl.TwilioSMS(b.signed.ID.String())
		public := webhookurl.URL(b.publicURL, route) + "?v=2"
		got := b.post(t, route.Path()+"?v=2", http.Header{"X-Fake-Signed": {public}}, []byte("Yes please"))
		require.Equal(t, answer{Status: http.StatusOK, ContentType: "text/xml", Body: `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`}, got)
		require.Equal(t, []string{"https://hooks.example.test/base" + route.Path() + "?v=2"}, b.sms.urls)
		require.Equal(t, []messaging.InboundText{{ProviderID: "SM1", From: "+15555550100", To: "+15555550199", Body: "Yes please", ReceivedAt: b.now}}, b.intake.inbound)
	})

	t.Run("Status", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		route := webhookurl.TwilioStatus(b.token.ID.String())
		got := b.post(t, route.Path(), http.Header{"X-Fake-Signed": {webhookurl.URL(b.publicURL, route)}}, []byte("delivered"))
		require.Equal(t, http.StatusNoContent, got.Status)
		require.Equal(t, []messaging.SMSStatus{{ProviderID: "SM1", Status: "delivered"}}, b.intake.statuses)
	})

	t.Run("Unverified", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		disabled := b.addTenant(b.signed)
		disabled.ID, disabled.Enabled = uuid.New(), false
		b.addTenant(disabled)
		for name, id := range map[string]string{"Unknown": uuid.NewString(), "Malformed": "not-a-tenant", "Disabled": disabled.ID.String()} {
			for _, route := range []webhookurl.Route{webhookurl.TwilioSMS(id), webhookurl.TwilioStatus(id)} {
				require.Equal(t, b.unauthorizedOK, b.post(t, route.Path(), http.Header{"X-Fake-Signed": {webhookurl.URL(b.publicURL, route)}}, []byte("hi")), name)
			}
		}
		// Signed for the request's own host, not the configured public URL.
		route := webhookurl.TwilioSMS(b.signed.ID.String())
		require.Equal(t, b.unauthorizedOK, b.post(t, route.Path(), http.Header{"X-Fake-Signed": {"http://example.com" + route.Path()}}, []byte("hi")))
		require.Empty(t, b.intake.inbound)
		require.Empty(t, b.intake.statuses)
	})

	t.Run("MalformedAndIntakeFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		route := webhookurl.TwilioSMS(b.signed.ID.String())
		signed := http.Header{"X-Fake-Signed": {webhookurl.URL(b.publicURL, route)}}
		require.Equal(t, answer{Status: http.StatusBadRequest, ContentType: "application/json", Body: `{"error":"fake sms: field MessageSid: is missing"}` + "\n"},
			b.post(t, route.Path(), signed, []byte("bad")))
		b.intake.fail = errFake
		require.Equal(t, http.StatusInternalServerError, b.post(t, route.Path(), signed, []byte("hi")).Status)
		require.Contains(t, b.logged(), "error enqueueing an inbound text")
	})
}
