package faketwilio_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "secrettoken0123456789"
)

type twilioBundle struct {
	fake   *faketwilio.API
	server *httptest.Server
}

func setupTwilio(t *testing.T) *twilioBundle {
	t.Helper()
	fake := faketwilio.New(testAccountSID, testAuthToken)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &twilioBundle{fake: fake, server: server}
}

// messagesURL is the collection URL of the bundle's account.
func (b *twilioBundle) messagesURL() string {
	return b.server.URL + "/2010-04-01/Accounts/" + testAccountSID + "/Messages.json"
}

// post sends a create request with the given credentials and decodes the
// JSON answer (nil for an empty body).
func (b *twilioBundle) post(t *testing.T, user, pass string, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.messagesURL(), strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	return faketest.Do(t, req)
}

// get sends an authenticated GET and decodes the JSON answer.
func (b *twilioBundle) get(t *testing.T, rawURL string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	req.SetBasicAuth(testAccountSID, testAuthToken)
	return faketest.Do(t, req)
}

// sdk returns a twilio-go service pointed at the fake. The fake is served
// at the root, so rewriting scheme and host is enough.
func (b *twilioBundle) sdk(t *testing.T) *openapi.ApiService {
	t.Helper()
	base, err := url.Parse(b.server.URL)
	require.NoError(t, err)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = base.Scheme, base.Host, ""
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := &client.Client{Credentials: client.NewCredentials(testAccountSID, testAuthToken), HTTPClient: hc}
	c.SetAccountSid(testAccountSID)
	return openapi.NewApiServiceWithClient(c)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func sms(to, from, body string) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"To": to, "From": from, "Body": body} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func TestTwilio_CreateMessage(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	form := sms("+15551230001", "+15559870000", "Hi Ana, your quote is ready.")
	form.Set("StatusCallback", "https://example.test/twilio/status")
	form.Set("ValidityPeriod", "600")
	resp, body := b.post(t, testAccountSID, testAuthToken, form)
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	sid, _ := body["sid"].(string)
	require.Regexp(t, `^SM[0-9a-f]{32}$`, sid)
	require.Equal(t, testAccountSID, body["account_sid"])
	require.Equal(t, "+15551230001", body["to"])
	require.Equal(t, "+15559870000", body["from"])
	require.Equal(t, "Hi Ana, your quote is ready.", body["body"])
	require.Equal(t, "queued", body["status"])
	require.Equal(t, "1", body["num_segments"])
	require.Equal(t, "outbound-api", body["direction"])
	require.Equal(t, "/2010-04-01/Accounts/"+testAccountSID+"/Messages/"+sid+".json", body["uri"])
	for _, null := range []string{"price", "error_code", "error_message", "date_sent", "messaging_service_sid"} {
		v, present := body[null]
		require.True(t, present, null)
		require.Nil(t, v, null)
	}
	created, err := time.Parse(time.RFC1123Z, body["date_created"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), created, 5*time.Second)

	msgs := b.fake.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, faketwilio.Message{
		Sid:            sid,
		To:             "+15551230001",
		From:           "+15559870000",
		Body:           "Hi Ana, your quote is ready.",
		StatusCallback: "https://example.test/twilio/status",
		ValidityPeriod: 600,
		CreatedAt:      created.UTC(),
	}, msgs[0])
}

func TestTwilio_MessagingServiceWithoutFrom(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	form := sms("+15551230001", "", "Hello")
	form.Set("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef")
	resp, body := b.post(t, testAccountSID, testAuthToken, form)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "accepted", body["status"])
	require.Nil(t, body["from"])
	require.Equal(t, "MG0123456789abcdef0123456789abcdef", body["messaging_service_sid"])
	require.Equal(t, "MG0123456789abcdef0123456789abcdef", b.fake.Messages()[0].MessagingServiceSID)
}

func TestTwilio_Authentication(t *testing.T) {
	t.Parallel()

	for name, creds := range map[string][2]string{
		"WrongToken":   {testAccountSID, "wrongtoken"},
		"WrongAccount": {"AC00000000000000000000000000000000", testAuthToken},
		"Missing":      {"", ""},
	} {
		faketest.Run(t, name, func(t *testing.T) {
			b := setupTwilio(t)

			req, err := http.NewRequest(http.MethodPost, b.messagesURL(), strings.NewReader(sms("+15551230001", "+15559870000", "x").Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if creds[0] != "" {
				req.SetBasicAuth(creds[0], creds[1])
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.JSONEq(t, `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`, string(raw))
			require.Empty(t, b.fake.Messages())
		})
	}
}

func TestTwilio_Validation(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("a", 1601)
	tests := []struct {
		name   string
		form   url.Values
		optOut string
		code   int
	}{
		{name: "MissingTo", form: sms("", "+15559870000", "x"), code: 21604},
		{name: "ToNotE164", form: sms("555-123-0001", "+15559870000", "x"), code: 21211},
		{name: "ToTooLong", form: sms("+1555123000199999", "+15559870000", "x"), code: 21211},
		{name: "NoSender", form: sms("+15551230001", "", "x"), code: 21603},
		{name: "BadFrom", form: sms("+15551230001", "not a number!", "x"), code: 21212},
		{name: "NoBody", form: sms("+15551230001", "+15559870000", ""), code: 21602},
		{name: "BodyTooLong", form: sms("+15551230001", "+15559870000", long), code: 21617},
		{name: "OptedOut", form: sms("+15551230001", "+15559870000", "x"), optOut: "+15551230001", code: 21610},
	}
	for _, tt := range tests {
		faketest.Run(t, tt.name, func(t *testing.T) {
			b := setupTwilio(t)
			if tt.optOut != "" {
				b.fake.OptOut(tt.optOut)
			}

			resp, body := b.post(t, testAccountSID, testAuthToken, tt.form)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			require.EqualValues(t, tt.code, body["code"])
			require.EqualValues(t, 400, body["status"])
			require.Equal(t, fmt.Sprintf("https://www.twilio.com/docs/errors/%d", tt.code), body["more_info"])
			require.NotEmpty(t, body["message"])
			require.Empty(t, b.fake.Messages())
		})
	}
}

func TestTwilio_OptInLiftsOptOut(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	b.fake.OptOut("+15551230001")
	resp, _ := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	b.fake.OptIn("+15551230001")
	resp, _ = b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Len(t, b.fake.Messages(), 1)
}

func TestTwilio_Segments(t *testing.T) {
	t.Parallel()

	for name, tt := range map[string]struct {
		body     string
		segments string
	}{
		"GSM160":      {strings.Repeat("a", 160), "1"},
		"GSM161":      {strings.Repeat("a", 161), "2"},
		"GSMExtended": {strings.Repeat("€", 81), "2"}, // 162 septets
		"UCS2_70":     {strings.Repeat("é", 60) + strings.Repeat("ł", 10), "1"},
		"UCS2_71":     {strings.Repeat("ł", 71), "2"},
	} {
		faketest.Run(t, name, func(t *testing.T) {
			b := setupTwilio(t)
			resp, body := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", tt.body))
			require.Equal(t, http.StatusCreated, resp.StatusCode)
			require.Equal(t, tt.segments, body["num_segments"])
		})
	}
}

func TestTwilio_Faults(t *testing.T) {
	t.Parallel()

	faketest.Run(t, "TooManyRequestsDefaults", func(t *testing.T) {
		b := setupTwilio(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond})

		resp, body := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.Equal(t, "2", resp.Header.Get("Retry-After"))
		require.EqualValues(t, 20429, body["code"])
		require.EqualValues(t, 429, body["status"])
		require.Empty(t, b.fake.Messages())
	})

	faketest.Run(t, "EmptyBody", func(t *testing.T) {
		b := setupTwilio(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusServiceUnavailable, EmptyBody: true})

		resp, body := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
		faketest.RequireBare(t, resp, body, http.StatusServiceUnavailable, "Retry-After")
		require.Empty(t, b.fake.Messages())
	})

	faketest.Run(t, "ServerErrorJSON", func(t *testing.T) {
		b := setupTwilio(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError})

		resp, body := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		require.EqualValues(t, 20500, body["code"])
		require.Empty(t, b.fake.Messages())
	})

	faketest.Run(t, "ExplicitCode", func(t *testing.T) {
		b := setupTwilio(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusBadRequest, Code: 21614})

		resp, body := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.EqualValues(t, 21614, body["code"])
		require.Equal(t, "'To' number is not a valid mobile number", body["message"])
	})

	faketest.Run(t, "CountThenClear", func(t *testing.T) {
		b := setupTwilio(t)
		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, Count: 2})

		for range 2 {
			resp, _ := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
			require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		}
		resp, _ := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
		require.Equal(t, http.StatusCreated, resp.StatusCode)

		b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError})
		resp, _ = b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		b.fake.ClearFaults()
		resp, _ = b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		require.Len(t, b.fake.Messages(), 2)
	})
}

func TestTwilio_FetchMessage(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	_, created := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "Hello"))
	sid := created["sid"].(string)

	resp, body := b.get(t, b.server.URL+"/2010-04-01/Accounts/"+testAccountSID+"/Messages/"+sid+".json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, sid, body["sid"])
	require.Equal(t, "sent", body["status"])
	require.Equal(t, created["date_created"], body["date_sent"])

	resp, body = b.get(t, b.server.URL+"/2010-04-01/Accounts/"+testAccountSID+"/Messages/SM00000000000000000000000000000000.json")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.EqualValues(t, 20404, body["code"])
}

func TestTwilio_ListEnvelope(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	for i := range 3 {
		resp, _ := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", fmt.Sprintf("m%d", i)))
		require.Equal(t, http.StatusCreated, resp.StatusCode)
	}

	resp, page0 := b.get(t, b.messagesURL()+"?To=%2B15551230001&PageSize=2")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.EqualValues(t, 0, page0["page"])
	require.EqualValues(t, 2, page0["page_size"])
	require.EqualValues(t, 0, page0["start"])
	require.EqualValues(t, 1, page0["end"])
	require.Nil(t, page0["previous_page_uri"])
	msgs := page0["messages"].([]any)
	require.Len(t, msgs, 2)
	require.Equal(t, "m2", msgs[0].(map[string]any)["body"], "newest first")
	require.Equal(t, "m1", msgs[1].(map[string]any)["body"])

	next, ok := page0["next_page_uri"].(string)
	require.True(t, ok)
	require.True(t, strings.HasPrefix(next, "/2010-04-01/Accounts/"+testAccountSID+"/Messages.json?"), next)
	require.Contains(t, next, "To=%2B15551230001")
	require.Contains(t, next, "PageToken=PA")

	resp, page1 := b.get(t, b.server.URL+next)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.EqualValues(t, 1, page1["page"])
	require.EqualValues(t, 2, page1["start"])
	require.Nil(t, page1["next_page_uri"])
	require.NotNil(t, page1["previous_page_uri"])
	msgs = page1["messages"].([]any)
	require.Len(t, msgs, 1)
	require.Equal(t, "m0", msgs[0].(map[string]any)["body"])
}

func TestTwilio_ListWithSDK(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	base := time.Date(2025, 3, 10, 15, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := base
	b.fake.SetClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	})
	advance := func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
	}

	for i := range 5 {
		resp, _ := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", fmt.Sprintf("a%d", i)))
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		advance(time.Minute)
	}
	resp, _ := b.post(t, testAccountSID, testAuthToken, sms("+15551230002", "+15559870000", "b0"))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp, _ = b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559879999", "other sender"))
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	api := b.sdk(t)
	bodies := func(msgs []openapi.ApiV2010Message) []string {
		out := make([]string, len(msgs))
		for i, m := range msgs {
			out[i] = *m.Body
		}
		return out
	}

	faketest.Run(t, "PagesThroughEverything", func(t *testing.T) {
		params := &openapi.ListMessageParams{}
		params.SetTo("+15551230001").SetFrom("+15559870000").SetPageSize(2)
		msgs, err := api.ListMessage(params)
		require.NoError(t, err)
		require.Equal(t, []string{"a4", "a3", "a2", "a1", "a0"}, bodies(msgs))
	})

	faketest.Run(t, "DateSentAfter", func(t *testing.T) {
		params := &openapi.ListMessageParams{}
		params.SetTo("+15551230001").SetFrom("+15559870000").SetDateSentAfter(base.Add(3 * time.Minute))
		msgs, err := api.ListMessage(params)
		require.NoError(t, err)
		require.Equal(t, []string{"a4", "a3"}, bodies(msgs))
	})

	faketest.Run(t, "DateSentBefore", func(t *testing.T) {
		params := &openapi.ListMessageParams{}
		params.SetTo("+15551230001").SetDateSentBefore(base.Add(time.Minute))
		msgs, err := api.ListMessage(params)
		require.NoError(t, err)
		require.Equal(t, []string{"a1", "a0"}, bodies(msgs))
	})

	faketest.Run(t, "NoMatch", func(t *testing.T) {
		params := &openapi.ListMessageParams{}
		params.SetTo("+15550000000")
		msgs, err := api.ListMessage(params)
		require.NoError(t, err)
		require.Empty(t, msgs)
	})
}

func TestTwilio_MessagesIsASnapshot(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	resp, _ := b.post(t, testAccountSID, testAuthToken, sms("+15551230001", "+15559870000", "x"))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	snap := b.fake.Messages()
	snap[0].Body = "changed"
	require.Equal(t, "x", b.fake.Messages()[0].Body)
}

func TestTwilio_ConcurrentCreates(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)

	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			form := sms(fmt.Sprintf("+1555200%04d", i), "+15559870000", fmt.Sprintf("body %d", i))
			req, err := http.NewRequest(http.MethodPost, b.messagesURL(), strings.NewReader(form.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(testAccountSID, testAuthToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()

	msgs := b.fake.Messages()
	require.Len(t, msgs, n)
	sids := make(map[string]bool, n)
	for _, m := range msgs {
		var i int
		_, err := fmt.Sscanf(m.To, "+1555200%04d", &i)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("body %d", i), m.Body, "each message keeps its own recipient")
		sids[m.Sid] = true
	}
	require.Len(t, sids, n, "sids are unique")
}

// TestTwilio_AfterFaultWithSDK shows the ambiguous case as the senders meet
// it: twilio-go reports a 500, yet the message exists and the list the
// sender reconciles with shows it.
func TestTwilio_AfterFaultWithSDK(t *testing.T) {
	t.Parallel()
	b := setupTwilio(t)
	b.fake.AddFault(fake.Fault{Status: http.StatusInternalServerError, After: true, Method: http.MethodPost, Count: 1})
	api := b.sdk(t)

	create := &openapi.CreateMessageParams{}
	create.SetTo("+15551230001").SetFrom("+15559870000").SetBody("Hi Ana")
	_, err := api.CreateMessage(create)
	var restErr *client.TwilioRestError
	require.ErrorAs(t, err, &restErr)
	require.Equal(t, http.StatusInternalServerError, restErr.Status)

	msgs := b.fake.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "Hi Ana", msgs[0].Body)

	listParams := &openapi.ListMessageParams{}
	listParams.SetTo("+15551230001")
	list, err := api.ListMessage(listParams)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, msgs[0].Sid, *list[0].Sid)
}
