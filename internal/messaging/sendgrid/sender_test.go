package sendgrid_test

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
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

const apiKey = "SG.fake-key.0123456789abcdef"

type testBundle struct {
	fake   *fakesendgrid.API
	server *httptest.Server
	sender *sendgrid.Sender
}

// setup mounts the fake under /sendgrid, as cmd/sandbox does, so every test
// also proves that BaseURL's path prefix is kept.
func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := fakesendgrid.New(apiKey)
	return setupWith(t, fake, http.StripPrefix("/sendgrid", fake), sendgrid.SenderOpts{})
}

// setupWith serves h at /sendgrid/ and builds a sender against it; opts's
// key and BaseURL default to the fake's.
func setupWith(t *testing.T, fake *fakesendgrid.API, h http.Handler, opts sendgrid.SenderOpts) *testBundle {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/sendgrid/", h)
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)

	if opts.APIKey == "" {
		opts.APIKey = apiKey
	}
	if opts.BaseURL == "" {
		opts.BaseURL = server.URL + "/sendgrid"
	}
	sender, err := sendgrid.NewSender(opts)
	require.NoError(t, err)
	return &testBundle{fake: fake, server: server, sender: sender}
}

func email(to string) messaging.Email {
	return messaging.Email{
		To:         to,
		ToName:     "Ana Lima",
		From:       "service@joesgarage.example",
		FromName:   "Joe's Garage",
		Subject:    "Your quote is ready",
		Text:       "Hi Ana, your quote is ready.",
		HTML:       "<p>Hi Ana, your quote is ready.</p>",
		CustomArgs: map[string]string{"tenant_id": "t1", "lead_id": "l-" + to},
	}
}

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
		opts    sendgrid.SenderOpts
		wantErr string
	}{
		{name: "Valid", opts: sendgrid.SenderOpts{APIKey: apiKey}},
		{name: "ValidWithBaseURL", opts: sendgrid.SenderOpts{APIKey: apiKey, BaseURL: "http://127.0.0.1:9000/sendgrid/"}},
		{name: "MissingKey", opts: sendgrid.SenderOpts{}, wantErr: "APIKey must be non-empty"},
		{name: "KeyWithNewline", opts: sendgrid.SenderOpts{APIKey: "SG.secret\n"}, wantErr: "APIKey must not contain whitespace"},
		{name: "NegativeTimeout", opts: sendgrid.SenderOpts{APIKey: apiKey, Timeout: -time.Second}, wantErr: "Timeout"},
		{name: "BaseURLWithoutHost", opts: sendgrid.SenderOpts{APIKey: apiKey, BaseURL: "sendgrid"}, wantErr: "BaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := sendgrid.NewSender(tt.opts)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, s)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.NotContains(t, err.Error(), "SG.secret", "keys never appear in errors")
		})
	}
}

func TestSendEmail(t *testing.T) {
	t.Parallel()
	b := setup(t)

	m := email("ana@example.com")
	id, err := b.sender.SendEmail(context.Background(), m)
	require.NoError(t, err)
	require.NotEmpty(t, id)

	require.Equal(t, []fakesendgrid.Email{{
		MessageID:  id,
		From:       m.From,
		FromName:   m.FromName,
		To:         m.To,
		ToName:     m.ToName,
		Subject:    m.Subject,
		Text:       m.Text,
		HTML:       m.HTML,
		CustomArgs: m.CustomArgs,
	}}, b.fake.Emails())
}

func TestSendEmail_TextOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)

	m := email("ana@example.com")
	m.HTML = ""
	_, err := b.sender.SendEmail(context.Background(), m)
	require.NoError(t, err)
	got := b.fake.Emails()
	require.Len(t, got, 1)
	require.Equal(t, m.Text, got[0].Text)
	require.Empty(t, got[0].HTML)
}

func TestSendEmail_SandboxMode(t *testing.T) {
	t.Parallel()
	fake := fakesendgrid.New(apiKey)
	b := setupWith(t, fake, http.StripPrefix("/sendgrid", fake), sendgrid.SenderOpts{SandboxMode: true})

	id, err := b.sender.SendEmail(context.Background(), email("ana@example.com"))
	require.NoError(t, err)
	require.Empty(t, id, "sandbox mode assigns no message id")
	require.Empty(t, fake.Emails(), "sandbox mode delivers nothing")

	_, err = b.sender.SendEmail(context.Background(), email("not-an-address"))
	requireSendError(t, err, messaging.ClassPermanent, 400)
}

func TestSendEmail_Classification(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		to       string
		fault    *fake.Fault
		class    messaging.Class
		code     int
		contains string
	}{
		{name: "InvalidRecipient", to: "ana@", class: messaging.ClassPermanent, code: 400, contains: "personalizations.0.to.0.email: Does not contain a valid address."},
		{name: "Forbidden", to: "ana@example.com", fault: &fake.Fault{Status: 403}, class: messaging.ClassRetry, code: 403, contains: "forbidden"},
		{name: "ServerError", to: "ana@example.com", fault: &fake.Fault{Status: 500}, class: messaging.ClassAmbiguous, code: 500, contains: "internal error"},
		{name: "UnavailableEmptyBody", to: "ana@example.com", fault: &fake.Fault{Status: 503, EmptyBody: true}, class: messaging.ClassAmbiguous, code: 503, contains: "HTTP 503"},
		{name: "RateLimitedEmptyBody", to: "ana@example.com", fault: &fake.Fault{Status: 429, EmptyBody: true}, class: messaging.ClassRetry, code: 429, contains: "HTTP 429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.fault != nil {
				b.fake.AddFault(*tt.fault)
			}

			id, err := b.sender.SendEmail(context.Background(), email(tt.to))
			require.Empty(t, id)
			requireSendError(t, err, tt.class, tt.code)
			require.Equal(t, tt.class, messaging.ClassOf(err))
			require.ErrorContains(t, err, "error sending email to "+lead.MaskEmail(tt.to))
			require.ErrorContains(t, err, tt.contains)
			require.Empty(t, b.fake.Emails())
		})
	}
}

func TestSendEmail_RateLimitedUntilReset(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.AddFault(fake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second})

	_, err := b.sender.SendEmail(context.Background(), email("ana@example.com"))
	se := requireSendError(t, err, messaging.ClassRetry, 429)
	// X-RateLimit-Reset has one-second resolution.
	require.Greater(t, se.RetryAfter, 28*time.Second)
	require.LessOrEqual(t, se.RetryAfter, 31*time.Second)
	require.ErrorContains(t, err, "too many requests")
}

func TestSendEmail_BadKey(t *testing.T) {
	t.Parallel()
	fake := fakesendgrid.New(apiKey)
	b := setupWith(t, fake, http.StripPrefix("/sendgrid", fake), sendgrid.SenderOpts{APIKey: "SG.wrong-key"})

	_, err := b.sender.SendEmail(context.Background(), email("ana@example.com"))
	// A wrong key fails every email until it is fixed, and no email is at
	// fault: retry, so fixing the key delivers them.
	requireSendError(t, err, messaging.ClassRetry, 401)
	require.ErrorContains(t, err, "authorization grant is invalid")
	require.NotContains(t, err.Error(), "SG.wrong-key")
}

func TestSendEmail_ConnectionRefused(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	baseURL := closed.URL + "/sendgrid"
	closed.Close()

	sender, err := sendgrid.NewSender(sendgrid.SenderOpts{APIKey: apiKey, BaseURL: baseURL})
	require.NoError(t, err)
	_, err = sender.SendEmail(context.Background(), email("ana@example.com"))
	requireSendError(t, err, messaging.ClassRetry, 0)
	require.NotContains(t, err.Error(), apiKey)
}

// stall reads the request and then answers nothing until the client gives
// up, like a provider that hangs after accepting the mail.
func stall(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
}

func TestSendEmail_TimeoutAfterSending(t *testing.T) {
	t.Parallel()

	t.Run("SenderTimeout", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		b := setupWith(t, fakesendgrid.New(apiKey), stall(release), sendgrid.SenderOpts{Timeout: 150 * time.Millisecond})
		t.Cleanup(func() { close(release) }) // runs before the server closes

		_, err := b.sender.SendEmail(context.Background(), email("ana@example.com"))
		requireSendError(t, err, messaging.ClassAmbiguous, 0)
	})

	t.Run("ContextDeadline", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		b := setupWith(t, fakesendgrid.New(apiKey), stall(release), sendgrid.SenderOpts{})
		t.Cleanup(func() { close(release) })

		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		_, err := b.sender.SendEmail(ctx, email("ana@example.com"))
		requireSendError(t, err, messaging.ClassAmbiguous, 0)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})

	t.Run("CanceledBeforeSending", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := b.sender.SendEmail(ctx, email("ana@example.com"))
		requireSendError(t, err, messaging.ClassRetry, 0)
		require.Empty(t, b.fake.Emails())
	})
}

// TestSendEmail_Concurrent is the shared-*sendgrid.Client trap: many
// goroutines send through one Sender, and each mail must reach its own
// recipient with its own custom args and return its own message id.
func TestSendEmail_Concurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)

	const n = 50
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ids[i], errs[i] = b.sender.SendEmail(context.Background(), email(fmt.Sprintf("lead%d@example.com", i)))
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	byID := make(map[string]fakesendgrid.Email, n)
	for _, e := range b.fake.Emails() {
		byID[e.MessageID] = e
	}
	require.Len(t, byID, n)
	for i, id := range ids {
		e, ok := byID[id]
		require.True(t, ok, "id %s of send %d is unknown", id, i)
		to := fmt.Sprintf("lead%d@example.com", i)
		require.Equal(t, to, e.To)
		require.Equal(t, "l-"+to, e.CustomArgs["lead_id"])
	}
}

// TestSendEmail_Unsubscribe: an email with an unsubscribe URL carries the
// RFC 8058 pair of headers, exactly as the RFC spells them, and its ASM
// group, as the fake read them from the body the real SDK built.
func TestSendEmail_Unsubscribe(t *testing.T) {
	t.Parallel()
	b := setup(t)

	m := email("ana@example.com")
	m.UnsubscribeURL = "https://book.example.com/unsubscribe/AbC_-123"
	m.ASMGroupID = 4321
	_, err := b.sender.SendEmail(context.Background(), m)
	require.NoError(t, err)
	got := b.fake.Emails()
	require.Len(t, got, 1)
	require.Equal(t, map[string]string{
		"List-Unsubscribe":      "<https://book.example.com/unsubscribe/AbC_-123>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}, got[0].Headers)
	require.Equal(t, 4321, got[0].ASMGroupID)

	withMailto := email("di@example.com")
	withMailto.UnsubscribeURL = "https://book.example.com/unsubscribe/x"
	withMailto.UnsubscribeMailto = "r+abc@reply.example.com"
	_, err = b.sender.SendEmail(context.Background(), withMailto)
	require.NoError(t, err)
	got = b.fake.Emails()
	require.Equal(t, "<https://book.example.com/unsubscribe/x>, <mailto:r+abc@reply.example.com?subject=unsubscribe&body=unsubscribe>",
		got[len(got)-1].Headers["List-Unsubscribe"], "the HTTPS URI first, then the mailto")

	plain := email("bo@example.com")
	_, err = b.sender.SendEmail(context.Background(), plain)
	require.NoError(t, err)
	got = b.fake.Emails()
	require.Len(t, got, 3)
	require.Nil(t, got[2].Headers, "no unsubscribe URL, no headers")
	require.Zero(t, got[2].ASMGroupID, "no group, no asm object")

	bad := email("cy@example.com")
	bad.ASMGroupID = -1
	_, err = b.sender.SendEmail(context.Background(), bad)
	se := requireSendError(t, err, messaging.ClassPermanent, 400)
	require.ErrorContains(t, se, "asm.group_id")
}
