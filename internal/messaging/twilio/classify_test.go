package twilio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

// TestCarrierVerdicts_AtCreate: the verdicts Twilio gives synchronously
// come back through the real SDK as a SendError with its verdict: 21614 (a
// number Twilio knows is not a mobile one) is a landline, 21610 an opt-out.
// A carrier's own refusal (30006, 30007, 30034) never fails the create: the
// message is accepted and its final status carries the code.
func TestCarrierVerdicts_AtCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const landline, stopped, filtered = "+15555550101", "+15555550102", "+15555550103"
	b.fake.Landline(landline)
	b.fake.OptOut(stopped)
	b.fake.CarrierRefuses(filtered, 30007)

	_, err := b.sender.SendSMS(ctx, text(landline, "hi"))
	se := requireSendError(t, err, messaging.ClassPermanent, 21614)
	require.Equal(t, messaging.VerdictLandline, se.Verdict)

	_, err = b.sender.SendSMS(ctx, text(stopped, "hi"))
	se = requireSendError(t, err, messaging.ClassOptedOut, 21610)
	require.Equal(t, messaging.VerdictOptedOut, se.Verdict)

	_, err = b.sender.SendSMS(ctx, text("+15555550100", ""))
	se = requireSendError(t, err, messaging.ClassPermanent, 21602)
	require.Equal(t, messaging.VerdictNone, se.Verdict, "an error about the message alone is no verdict")

	sid, err := b.sender.SendSMS(ctx, text(filtered, "hi"))
	require.NoError(t, err, "a carrier's refusal comes after the create")
	status, code, ok := b.fake.FinalStatus(sid)
	require.True(t, ok)
	require.Equal(t, "undelivered", status)
	require.Equal(t, 30007, code)

	b.fake.CarrierRefuses(filtered, 0)
	sid, err = b.sender.SendSMS(ctx, text(filtered, "hi"))
	require.NoError(t, err)
	status, code, _ = b.fake.FinalStatus(sid)
	require.Equal(t, "delivered", status)
	require.Zero(t, code)
}

// TestCarrierVerdicts_InStatusCallback: the fake's signed status callback
// with each ErrorCode, parsed by the real webhook parser, carries the
// verdict the jobs act on. 30035 and 30036 are not documented in our
// reference: no verdict.
func TestCarrierVerdicts_InStatusCallback(t *testing.T) {
	t.Parallel()
	got := make(chan messaging.SMSStatus, 1)
	w := twilio.NewWebhooks(testTwilioToken)
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s, err := w.ParseStatus(base+r.URL.RequestURI(), r.Header, body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- s
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	for _, tt := range []struct {
		status  string
		code    int
		verdict messaging.Verdict
	}{
		{"delivered", 0, messaging.VerdictNone},
		{"undelivered", 30003, messaging.VerdictUnreachable},
		{"undelivered", 30005, messaging.VerdictUnreachable},
		{"undelivered", 30006, messaging.VerdictLandline},
		{"undelivered", 30007, messaging.VerdictFiltered},
		{"failed", 30032, messaging.VerdictUnregistered},
		{"failed", 30034, messaging.VerdictUnregistered},
		{"undelivered", 30035, messaging.VerdictNone},
		{"undelivered", 30036, messaging.VerdictNone},
		{"undelivered", 30008, messaging.VerdictNone},
	} {
		require.NoError(t, faketwilio.PostStatus(context.Background(), srv.Client(), srv.URL+"/webhooks/twilio/t1/status",
			testTwilioToken, "SM1", tt.status, tt.code))
		s := <-got
		require.Equal(t, tt.code, s.ErrorCode)
		require.Equal(t, tt.verdict, s.Verdict, "code %d", tt.code)
		require.Equal(t, tt.verdict == messaging.VerdictFiltered || tt.verdict == messaging.VerdictUnregistered, s.Verdict.Filtering(), "code %d", tt.code)
	}
}
