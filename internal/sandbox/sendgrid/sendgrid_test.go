package fakesendgrid_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

const testSendGridKey = "SG.test-key.0123456789"

type sendGridBundle struct {
	fake   *fakesendgrid.API
	server *httptest.Server
}

func setupSendGrid(t *testing.T) *sendGridBundle {
	t.Helper()
	fake := fakesendgrid.New(testSendGridKey)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &sendGridBundle{fake: fake, server: server}
}

// send posts body to /v3/mail/send with the given Authorization header
// ("" for none) and returns the answer and its body.
func (b *sendGridBundle) send(t *testing.T, auth string, body []byte, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/v3/mail/send", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// The server's own client: httptest.Server.Close closes
	// http.DefaultTransport's idle connections, and a parallel subtest's
	// server closing took this request's connection with it
	// ("transport connection broken: CloseIdleConnections called").
	resp, err := b.server.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(raw)
}

func TestSendGrid_Accepts(t *testing.T) {
	t.Parallel()
	b := setupSendGrid(t)

	resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(faketest.SendGridMail))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Empty(t, body)
	id := resp.Header.Get("X-Message-Id")
	require.Regexp(t, `^[A-Za-z0-9_-]{22}$`, id)

	require.Equal(t, []fakesendgrid.Email{{
		MessageID:  id,
		From:       "shop@example.com",
		FromName:   "Joe's Garage",
		To:         "ana@example.com",
		ToName:     "Ana",
		Subject:    "Your quote",
		Text:       "Hi Ana",
		HTML:       "<p>Hi Ana</p>",
		CustomArgs: map[string]string{"tenant_id": "T1", "lead_id": "L1"},
		Categories: []string{"lead"},
	}}, b.fake.Emails())
}

func TestSendGrid_Gzip(t *testing.T) {
	t.Parallel()
	b := setupSendGrid(t)

	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	_, err := gz.Write([]byte(faketest.SendGridMail))
	require.NoError(t, err)
	require.NoError(t, gz.Close())

	resp, _ := b.send(t, "Bearer "+testSendGridKey, buf.Bytes(), "Content-Encoding", "gzip")
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Len(t, b.fake.Emails(), 1)
}

func TestSendGrid_OneEntryPerRecipient(t *testing.T) {
	t.Parallel()
	b := setupSendGrid(t)

	resp, _ := b.send(t, "Bearer "+testSendGridKey, []byte(`{
	  "personalizations": [
	    {"to": [{"email": "a@example.com"}, {"email": "b@example.com"}]},
	    {"to": [{"email": "c@example.com"}], "subject": "Just for C", "custom_args": {"k": "c"}}
	  ],
	  "from": {"email": "shop@example.com"},
	  "subject": "Hello",
	  "content": [{"type": "text/plain", "value": "x"}]
	}`))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	emails := b.fake.Emails()
	require.Len(t, emails, 3)
	id := resp.Header.Get("X-Message-Id")
	for _, e := range emails {
		require.Equal(t, id, e.MessageID)
	}
	require.Equal(t, []string{"a@example.com", "b@example.com", "c@example.com"}, []string{emails[0].To, emails[1].To, emails[2].To})
	require.Equal(t, "Hello", emails[0].Subject)
	require.Equal(t, "Just for C", emails[2].Subject)
	require.Equal(t, map[string]string{"k": "c"}, emails[2].CustomArgs)
}

func TestSendGrid_Authentication(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		auth string
		want string
	}{
		"WrongKey":   {"Bearer SG.wrong", `{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked","help":null}]}`},
		"NotBearer":  {"Basic " + testSendGridKey, `{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked","help":null}]}`},
		"MissingKey": {"", `{"errors":[{"field":null,"message":"authorization required","help":null}]}`},
	}
	for name, tt := range tests {
		faketest.Run(t, name, func(t *testing.T) {
			b := setupSendGrid(t)

			resp, body := b.send(t, tt.auth, []byte(faketest.SendGridMail))
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.JSONEq(t, tt.want, body)
			require.Empty(t, b.fake.Emails())
		})
	}
}

func TestSendGrid_Validation(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		mail   string
		fields []string
	}{
		{
			name:   "InvalidTo",
			mail:   `{"personalizations":[{"to":[{"email":"ana@"}]}],"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}`,
			fields: []string{"personalizations.0.to.0.email"},
		},
		{
			name:   "InvalidCC",
			mail:   `{"personalizations":[{"to":[{"email":"ana@example.com"}],"cc":[{"email":"no at sign"}]}],"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}`,
			fields: []string{"personalizations.0.cc.0.email"},
		},
		{
			name:   "NoPersonalizations",
			mail:   `{"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}`,
			fields: []string{"personalizations"},
		},
		{
			name:   "EmptyTo",
			mail:   `{"personalizations":[{"to":[]}],"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/plain","value":"x"}]}`,
			fields: []string{"personalizations.0.to"},
		},
		{
			name:   "MissingFrom",
			mail:   `{"personalizations":[{"to":[{"email":"ana@example.com"}]}],"subject":"s","content":[{"type":"text/plain","value":"x"}]}`,
			fields: []string{"from.email"},
		},
		{
			name:   "MissingSubjectAndContent",
			mail:   `{"personalizations":[{"to":[{"email":"ana@example.com"}]}],"from":{"email":"shop@example.com"}}`,
			fields: []string{"subject", "content"},
		},
		{
			name:   "EmptyContentValue",
			mail:   `{"personalizations":[{"to":[{"email":"ana@example.com"}]}],"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/plain"}]}`,
			fields: []string{"content.0.value"},
		},
		{
			name:   "HTMLBeforeText",
			mail:   `{"personalizations":[{"to":[{"email":"ana@example.com"}]}],"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/html","value":"<p>x</p>"},{"type":"text/plain","value":"x"}]}`,
			fields: []string{"content"},
		},
	}
	for _, tt := range tests {
		faketest.Run(t, tt.name, func(t *testing.T) {
			b := setupSendGrid(t)

			resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(tt.mail))
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
			var parsed struct {
				Errors []struct {
					Message string `json:"message"`
					Field   string `json:"field"`
					Help    string `json:"help"`
				} `json:"errors"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &parsed))
			var fields []string
			for _, e := range parsed.Errors {
				fields = append(fields, e.Field)
				require.NotEmpty(t, e.Message)
				require.Contains(t, e.Help, "http://sendgrid.com/docs/")
			}
			require.Equal(t, tt.fields, fields)
			require.Empty(t, b.fake.Emails())
		})
	}

	faketest.Run(t, "TemplateNeedsNoSubjectOrContent", func(t *testing.T) {
		b := setupSendGrid(t)
		resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(`{"personalizations":[{"to":[{"email":"ana@example.com"}]}],"from":{"email":"shop@example.com"},"template_id":"d-123"}`))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	})

	faketest.Run(t, "MalformedJSON", func(t *testing.T) {
		b := setupSendGrid(t)
		resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(`{"personalizations":`))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.JSONEq(t, `{"errors":[{"field":null,"message":"Bad Request","help":null}]}`, body)
	})
}

func TestSendGrid_SandboxMode(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "ValidIsOKAndNotKept", func(t *testing.T) {
		b := setupSendGrid(t)
		mail := `{"personalizations":[{"to":[{"email":"ana@example.com"}]}],"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"mail_settings":{"sandbox_mode":{"enable":true}}}`
		resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(mail))
		faketest.RequireBare(t, resp, body, http.StatusOK, "X-Message-Id")
		require.Empty(t, b.fake.Emails())
	})

	faketest.Run(t, "StillValidates", func(t *testing.T) {
		b := setupSendGrid(t)
		mail := `{"personalizations":[{"to":[{"email":"bad"}]}],"from":{"email":"shop@example.com"},"subject":"s","content":[{"type":"text/plain","value":"x"}],"mail_settings":{"sandbox_mode":{"enable":true}}}`
		resp, _ := b.send(t, "Bearer "+testSendGridKey, []byte(mail))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

func TestSendGrid_Faults(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "TooManyRequests", func(t *testing.T) {
		b := setupSendGrid(t)
		now := time.Unix(1_700_000_000, 0)
		b.fake.SetClock(func() time.Time { return now })
		b.fake.AddFault(fake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second})

		resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(faketest.SendGridMail))
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.Equal(t, "600", resp.Header.Get("X-RateLimit-Limit"))
		require.Equal(t, "0", resp.Header.Get("X-RateLimit-Remaining"))
		require.Equal(t, strconv.FormatInt(now.Unix()+30, 10), resp.Header.Get("X-RateLimit-Reset"))
		require.JSONEq(t, `{"errors":[{"field":null,"message":"too many requests"}]}`, body)
		require.Empty(t, b.fake.Emails())
	})

	faketest.Run(t, "EmptyBody", func(t *testing.T) {
		b := setupSendGrid(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusServiceUnavailable, EmptyBody: true})

		resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(faketest.SendGridMail))
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Empty(t, body)
		require.Empty(t, b.fake.Emails())
	})

	faketest.Run(t, "ServerErrorThenRecovers", func(t *testing.T) {
		b := setupSendGrid(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 1})

		resp, body := b.send(t, "Bearer "+testSendGridKey, []byte(faketest.SendGridMail))
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		require.JSONEq(t, `{"errors":[{"field":null,"message":"internal error"}]}`, body)
		resp, _ = b.send(t, "Bearer "+testSendGridKey, []byte(faketest.SendGridMail))
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		require.Len(t, b.fake.Emails(), 1)
	})
}

func TestSendGrid_EmailsIsADeepCopy(t *testing.T) {
	t.Parallel()
	b := setupSendGrid(t)

	resp, _ := b.send(t, "Bearer "+testSendGridKey, []byte(faketest.SendGridMail))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	snap := b.fake.Emails()
	snap[0].CustomArgs["tenant_id"] = "changed"
	snap[0].Categories[0] = "changed"
	again := b.fake.Emails()
	require.Equal(t, "T1", again[0].CustomArgs["tenant_id"])
	require.Equal(t, "lead", again[0].Categories[0])
}

// TestSendGrid_ResetIsAConnectionError shows a reset as a plain net/http
// client meets it: an error from Do, no response.
func TestSendGrid_ResetIsAConnectionError(t *testing.T) {
	t.Parallel()
	b := setupSendGrid(t)
	b.fake.AddFault(fake.Fault{Reset: true, Count: 1})

	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/v3/mail/send", strings.NewReader(faketest.SendGridMail))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testSendGridKey)
	_, err = faketest.Attempt(t, faketest.ChaosClient(5*time.Second), req)
	faketest.RequireDropped(t, err, true)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	require.Empty(t, b.fake.Emails())
	require.Equal(t, fake.FaultTally{Requests: 1, FaultedBefore: 1}, b.fake.FaultTally())
}
