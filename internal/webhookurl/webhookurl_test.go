package webhookurl_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// Every URL the builders make is routed by the pattern of its route, with
// the segments read back as they were given: the two halves cannot drift.
func TestURLsMatchTheirPatterns(t *testing.T) {
	t.Parallel()
	const tenant = "7b0c0c1e-3f1a-4c55-9d7e-2b8f7f0e9a11"
	cases := []struct {
		name    string
		pattern string
		route   webhookurl.Route
		token   string
	}{
		{"signed crm", webhookurl.CRMPattern("shopmonkey", false), webhookurl.CRM("shopmonkey", tenant, ""), ""},
		{"token crm", webhookurl.CRMPattern("tekmetric", true), webhookurl.CRM("tekmetric", tenant, "a/b c"), "a/b c"},
		{"twilio sms", webhookurl.TwilioSMSPattern, webhookurl.TwilioSMS(tenant), ""},
		{"twilio status", webhookurl.TwilioStatusPattern, webhookurl.TwilioStatus(tenant), ""},
		{"sendgrid", webhookurl.SendGridEventsPattern, webhookurl.SendGridEvents(), ""},
		{"sendgrid inbound", webhookurl.SendGridInboundPattern, webhookurl.SendGridInbound(), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var gotTenant, gotToken string
			mux := http.NewServeMux()
			mux.HandleFunc(tc.pattern, func(w http.ResponseWriter, r *http.Request) {
				gotTenant, gotToken = r.PathValue(webhookurl.TenantSegment), r.PathValue(webhookurl.TokenSegment)
				w.WriteHeader(http.StatusNoContent)
			})
			u := webhookurl.URL("https://hooks.example.com/prefix/", tc.route)
			require.Contains(t, u, "https://hooks.example.com/prefix/webhooks/")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.route.Path(), nil))
			require.Equal(t, http.StatusNoContent, rec.Code, u)
			if tc.pattern != webhookurl.SendGridEventsPattern && tc.pattern != webhookurl.SendGridInboundPattern {
				require.Equal(t, tenant, gotTenant)
			}
			require.Equal(t, tc.token, gotToken)
		})
	}
}
