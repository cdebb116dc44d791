package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/twilio"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "secrettoken0123456789"
	shopNumber = "+15559870000"
)

type testBundle struct {
	fake   *faketwilio.API
	server *httptest.Server
	sender *twilio.Sender
}

// setup mounts the fake under /twilio, as cmd/sandbox does, so every test
// also proves that BaseURL's path prefix is kept.
func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := faketwilio.New(accountSID, authToken)
	return setupWith(t, fake, http.StripPrefix("/twilio", fake), twilio.SenderOpts{})
}

// setupWith serves h at /twilio/ and builds a sender against it; opts's
// credentials and BaseURL default to the fake's.
func setupWith(t *testing.T, fake *faketwilio.API, h http.Handler, opts twilio.SenderOpts) *testBundle {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/twilio/", h)
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)

	if opts.AccountSID == "" {
		opts.AccountSID = accountSID
	}
	if opts.AuthToken == "" {
		opts.AuthToken = authToken
	}
	if opts.BaseURL == "" {
		opts.BaseURL = server.URL + "/twilio"
	}
	sender, err := twilio.NewSender(opts)
	require.NoError(t, err)
	return &testBundle{fake: fake, server: server, sender: sender}
}

func text(to, body string) messaging.SMS {
	return messaging.SMS{To: to, From: shopNumber, Body: body}
}

// requireSendError asserts err is a *messaging.SendError with this class
// and code and returns it.
func requireSendError(t *testing.T, err error, class messaging.Class, code int) *messaging.SendError {
	t.Helper()
	var se *messaging.SendError
	require.ErrorAs(t, err, &se)
	require.Equal(t, class, se.Class, "error: %v", err)
	require.Equal(t, code, se.Code, "error: %v", err)
	return se
}

func TestNewSender(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		opts    twilio.SenderOpts
		wantErr string
	}{
		{name: "Valid", opts: twilio.SenderOpts{AccountSID: accountSID, AuthToken: authToken}},
		{name: "ValidWithBaseURL", opts: twilio.SenderOpts{AccountSID: accountSID, AuthToken: authToken, BaseURL: "http://127.0.0.1:9000/twilio"}},
		{name: "MissingSID", opts: twilio.SenderOpts{AuthToken: authToken}, wantErr: "AccountSID"},
		{name: "TokenWithDash", opts: twilio.SenderOpts{AccountSID: accountSID, AuthToken: "test-token"}, wantErr: "AuthToken must be non-empty and alphanumeric"},
		{name: "NegativeTimeout", opts: twilio.SenderOpts{AccountSID: accountSID, AuthToken: authToken, Timeout: -time.Second}, wantErr: "Timeout"},
		{name: "BaseURLWithoutHost", opts: twilio.SenderOpts{AccountSID: accountSID, AuthToken: authToken, BaseURL: "/twilio"}, wantErr: "BaseURL"},
		{name: "BaseURLBadScheme", opts: twilio.SenderOpts{AccountSID: accountSID, AuthToken: authToken, BaseURL: "ftp://example.com"}, wantErr: "BaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := twilio.NewSender(tt.opts)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "test-token", "credentials never appear in errors")
		})
	}
}

func TestSendSMS(t *testing.T) {
	t.Parallel()

	t.Run("FromNumber", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		sid, err := b.sender.SendSMS(context.Background(), messaging.SMS{
			To:             "+15551230001",
			From:           shopNumber,
			Body:           "Hi Ana, your quote is ready.",
			StatusCallback: "https://example.test/hooks/twilio/status",
		})
		require.NoError(t, err)

		msgs := b.fake.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, sid, msgs[0].Sid)
		require.Equal(t, "+15551230001", msgs[0].To)
		require.Equal(t, shopNumber, msgs[0].From)
		require.Empty(t, msgs[0].MessagingServiceSID)
		require.Equal(t, "Hi Ana, your quote is ready.", msgs[0].Body)
		require.Equal(t, "https://example.test/hooks/twilio/status", msgs[0].StatusCallback)
	})

	t.Run("MessagingService", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		sid, err := b.sender.SendSMS(context.Background(), messaging.SMS{
			To:                  "+15551230001",
			MessagingServiceSID: "MG0123456789abcdef0123456789abcdef",
			Body:                "Hello",
		})
		require.NoError(t, err)
		msgs := b.fake.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, sid, msgs[0].Sid)
		require.Empty(t, msgs[0].From)
		require.Equal(t, "MG0123456789abcdef0123456789abcdef", msgs[0].MessagingServiceSID)
	})
}

func TestSendSMS_Classification(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		sms        messaging.SMS
		optOut     bool
		fault      *fake.Fault
		class      messaging.Class
		code       int
		retryAfter time.Duration
	}{
		{name: "OptedOut", sms: text("+15551230001", "x"), optOut: true, class: messaging.ClassOptedOut, code: 21610},
		{name: "InvalidNumber", sms: text("555-0100", "x"), class: messaging.ClassPermanent, code: 21211},
		{name: "MissingBody", sms: text("+15551230001", ""), class: messaging.ClassPermanent, code: 21602},
		{name: "NoSender", sms: messaging.SMS{To: "+15551230001", Body: "x"}, class: messaging.ClassPermanent, code: 21603},
		{name: "NotMobile", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 400, Code: 21614}, class: messaging.ClassPermanent, code: 21614},
		{name: "UnknownClientErrorCode", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 400, Code: 21999}, class: messaging.ClassPermanent, code: 21999},
		{name: "RateLimitedWithRetryAfter", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 429, RetryAfter: 7 * time.Second}, class: messaging.ClassRetry, code: 20429, retryAfter: 7 * time.Second},
		{name: "RateLimitedWithoutRetryAfter", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 429}, class: messaging.ClassRetry, code: 20429},
		{name: "RateLimitedEmptyBody", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 429, EmptyBody: true, RetryAfter: 3 * time.Second}, class: messaging.ClassRetry, code: 429, retryAfter: 3 * time.Second},
		{name: "ServerErrorJSON", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 500}, class: messaging.ClassAmbiguous, code: 20500},
		{name: "UnavailableEmptyBody", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 503, EmptyBody: true}, class: messaging.ClassAmbiguous, code: 503},
		{name: "BadGatewayEmptyBody", sms: text("+15551230001", "x"), fault: &fake.Fault{Status: 502, EmptyBody: true}, class: messaging.ClassAmbiguous, code: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.optOut {
				b.fake.OptOut(tt.sms.To)
			}
			if tt.fault != nil {
				b.fake.AddFault(*tt.fault)
			}

			sid, err := b.sender.SendSMS(context.Background(), tt.sms)
			require.Empty(t, sid)
			se := requireSendError(t, err, tt.class, tt.code)
			require.Equal(t, tt.retryAfter, se.RetryAfter)
			require.Equal(t, tt.class, messaging.ClassOf(err))
			require.Contains(t, err.Error(), "error sending sms to "+lead.MaskPhone(tt.sms.To))
			require.Empty(t, b.fake.Messages())
		})
	}
}

func TestSendSMS_BadCredentials(t *testing.T) {
	t.Parallel()
	fake := faketwilio.New(accountSID, authToken)
	b := setupWith(t, fake, http.StripPrefix("/twilio", fake), twilio.SenderOpts{AuthToken: "wrongtoken42"})

	_, err := b.sender.SendSMS(context.Background(), text("+15551230001", "x"))
	// Wrong credentials fail every text until they are fixed, and no text
	// is at fault: retry, so fixing them delivers the texts.
	requireSendError(t, err, messaging.ClassRetry, 20003)
	require.NotContains(t, err.Error(), "wrongtoken42")
	require.Empty(t, fake.Messages())
}

func TestSendSMS_ConnectionRefused(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	baseURL := closed.URL + "/twilio"
	closed.Close()

	sender, err := twilio.NewSender(twilio.SenderOpts{AccountSID: accountSID, AuthToken: authToken, BaseURL: baseURL})
	require.NoError(t, err)

	_, err = sender.SendSMS(context.Background(), text("+15551230001", "x"))
	se := requireSendError(t, err, messaging.ClassRetry, 0)
	require.Zero(t, se.RetryAfter)
}

func TestSendSMS_CanceledBeforeSending(t *testing.T) {
	t.Parallel()
	b := setup(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.sender.SendSMS(ctx, text("+15551230001", "x"))
	requireSendError(t, err, messaging.ClassRetry, 0)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, b.fake.Messages())
}

// stall serves nothing until the client gives up, like a provider that
// hangs after reading the request. Reading the body matters: only then
// does net/http notice the client hanging up and cancel r.Context().
func stall(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
}

func TestSendSMS_TimeoutAfterSending(t *testing.T) {
	t.Parallel()

	t.Run("SenderTimeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		fake := faketwilio.New(accountSID, authToken)
		b := setupWith(t, fake, stall(release), twilio.SenderOpts{Timeout: 150 * time.Millisecond})
		t.Cleanup(func() { close(release) }) // runs before the server closes

		start := time.Now()
		_, err := b.sender.SendSMS(context.Background(), text("+15551230001", "x"))
		requireSendError(t, err, messaging.ClassAmbiguous, 0)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 5*time.Second)
	})

	t.Run("ContextDeadline", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		fake := faketwilio.New(accountSID, authToken)
		b := setupWith(t, fake, stall(release), twilio.SenderOpts{})
		t.Cleanup(func() { close(release) }) // runs before the server closes

		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		_, err := b.sender.SendSMS(ctx, text("+15551230001", "x"))
		requireSendError(t, err, messaging.ClassAmbiguous, 0)
	})
}

// TestSendSMS_AmbiguousThenReconciled is the reason FindSMS exists: Twilio
// creates the message but the answer never arrives. The send is
// ambiguous, and FindSMS then proves the message went out, so the job must
// not send it again.
func TestSendSMS_AmbiguousThenReconciled(t *testing.T) {
	t.Parallel()
	fake := faketwilio.New(accountSID, authToken)
	api := http.StripPrefix("/twilio", fake)
	var once sync.Once
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stalled := false
		once.Do(func() {
			// Let the fake create the message, then lose the answer.
			api.ServeHTTP(httptest.NewRecorder(), r)
			<-r.Context().Done()
			stalled = true
		})
		if !stalled {
			api.ServeHTTP(w, r)
		}
	})
	b := setupWith(t, fake, h, twilio.SenderOpts{Timeout: time.Second})

	since := time.Now()
	_, err := b.sender.SendSMS(context.Background(), text("+15551230001", "Your car is ready"))
	requireSendError(t, err, messaging.ClassAmbiguous, 0)

	msgs := fake.Messages()
	require.Len(t, msgs, 1, "the fake created the message before stalling")

	sids, err := b.sender.FindSMS(context.Background(), text("+15551230001", "Your car is ready"), since)
	require.NoError(t, err)
	require.Equal(t, []string{msgs[0].Sid}, sids)
}

func TestFindSMS(t *testing.T) {
	t.Parallel()

	t.Run("FindsExactBodyOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		since := time.Now()

		sidA, err := b.sender.SendSMS(context.Background(), text("+15551230001", "Quote ready"))
		require.NoError(t, err)
		_, err = b.sender.SendSMS(context.Background(), text("+15551230001", "Reminder: quote ready"))
		require.NoError(t, err)
		_, err = b.sender.SendSMS(context.Background(), text("+15551230002", "Quote ready!"))
		require.NoError(t, err)

		sids, err := b.sender.FindSMS(context.Background(), text("+15551230001", "Quote ready"), since)
		require.NoError(t, err)
		require.Equal(t, []string{sidA}, sids)

		sids, err = b.sender.FindSMS(context.Background(), text("+15551230001", "Quote ready!"), since)
		require.NoError(t, err)
		require.Empty(t, sids, "a different body is a different message")

		sids, err = b.sender.FindSMS(context.Background(), text("+15551230002", "Quote ready"), since)
		require.NoError(t, err)
		require.Empty(t, sids, "the same body to another number is a different message")

		other := text("+15551230001", "Quote ready")
		other.From = "+15005550009"
		sids, err = b.sender.FindSMS(context.Background(), other, since)
		require.NoError(t, err)
		require.Empty(t, sids, "the same text from another sender is another shop's message")
	})

	t.Run("IgnoresMessagesBeforeSince", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// The same text went out two hours ago (an earlier step), not now.
		b.fake.SetClock(func() time.Time { return time.Now().Add(-2 * time.Hour) })
		_, err := b.sender.SendSMS(context.Background(), text("+15551230001", "See you soon"))
		require.NoError(t, err)

		sids, err := b.sender.FindSMS(context.Background(), text("+15551230001", "See you soon"), time.Now())
		require.NoError(t, err)
		require.Empty(t, sids)
	})

	t.Run("AllowsClockSlack", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Twilio's clock runs 30s behind ours.
		b.fake.SetClock(func() time.Time { return time.Now().Add(-30 * time.Second) })
		sid, err := b.sender.SendSMS(context.Background(), text("+15551230001", "See you soon"))
		require.NoError(t, err)

		sids, err := b.sender.FindSMS(context.Background(), text("+15551230001", "See you soon"), time.Now())
		require.NoError(t, err)
		require.Equal(t, []string{sid}, sids)
	})

	t.Run("PagesThroughManyMessages", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		since := time.Now()
		first, err := b.sender.SendSMS(context.Background(), text("+15551230001", "first"))
		require.NoError(t, err)
		for i := range 120 { // more than one page of 100
			_, err := b.sender.SendSMS(context.Background(), text("+15551230001", fmt.Sprintf("later %d", i)))
			require.NoError(t, err)
		}

		sids, err := b.sender.FindSMS(context.Background(), text("+15551230001", "first"), since)
		require.NoError(t, err)
		require.Equal(t, []string{first}, sids)
	})

	t.Run("ProviderError", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError})

		sids, err := b.sender.FindSMS(context.Background(), text("+15551230001", "x"), time.Now())
		require.Error(t, err)
		require.Empty(t, sids)
		require.ErrorContains(t, err, "error finding sms to +1555***0001")
	})
}

// TestSendSMS_Concurrent sends from many goroutines through one Sender:
// each must reach its own recipient with its own body and get back its own
// sid.
func TestSendSMS_Concurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)

	const n = 50
	sids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sids[i], errs[i] = b.sender.SendSMS(context.Background(), text(fmt.Sprintf("+1555300%04d", i), fmt.Sprintf("body %d", i)))
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	bySid := make(map[string]faketwilio.Message, n)
	for _, m := range b.fake.Messages() {
		bySid[m.Sid] = m
	}
	require.Len(t, bySid, n)
	for i, sid := range sids {
		m, ok := bySid[sid]
		require.True(t, ok, "sid %s of send %d is unknown", sid, i)
		require.Equal(t, fmt.Sprintf("+1555300%04d", i), m.To)
		require.Equal(t, fmt.Sprintf("body %d", i), m.Body)
	}
}
