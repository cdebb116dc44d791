package sendgrid_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

// signedInbound builds Parse's body for m and signs it at ts.
func signedInbound(t *testing.T, m fakesendgrid.InboundMail, ts time.Time) (http.Header, []byte) {
	t.Helper()
	body, contentType, err := fakesendgrid.BuildInbound(m)
	require.NoError(t, err)
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig, err := fakesendgrid.SignInbound(body, stamp)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set(sendgrid.SignatureHeader, sig)
	h.Set(sendgrid.TimestampHeader, stamp)
	return h, body
}

// TestParseInboundEmail: Parse's form as the sandbox builds it (the
// fields and shapes SendGrid documents) decodes into what routes and
// classifies the mail; attachments are dropped.
func TestParseInboundEmail(t *testing.T) {
	t.Parallel()
	wh, err := sendgrid.NewInboundWebhook(fakesendgrid.InboundPublicKey)
	require.NoError(t, err)
	now := time.Now()
	parse := func(m fakesendgrid.InboundMail) (messaging.InboundEmail, error) {
		h, body := signedInbound(t, m, now)
		return wh.ParseInboundEmail(h, body, now)
	}

	in, err := parse(fakesendgrid.InboundMail{To: "r+abcdefghijklmnopqrstuvwxyz@reply.maple.example", From: "Ann@Mail.Example", FromName: "Ann Lee",
		Subject: "Re: Maple Street Auto received your request", Text: "Friday works.\n\nOn Tue, Ann wrote:\n> hi", MessageID: "CAF=x1@mail.example",
		Attachments: map[string]string{"photo.jpg": "\xff\xd8\xff binary"}})
	require.NoError(t, err)
	require.Equal(t, messaging.InboundEmail{
		Recipients: []string{"r+abcdefghijklmnopqrstuvwxyz@reply.maple.example"}, From: "Ann@mail.example",
		Subject: "Re: Maple Street Auto received your request", Text: "Friday works.\n\nOn Tue, Ann wrote:\n> hi",
		MessageID: "<CAF=x1@mail.example>",
	}, in)

	t.Run("HTMLOnly", func(t *testing.T) {
		t.Parallel()
		in, err := parse(fakesendgrid.InboundMail{To: "r+x@reply.example", From: "ann@mail.example",
			HTML: "<html><head><style>p{}</style></head><body><p>Yes &amp; thanks</p><div>Ann</div><blockquote>old mail</blockquote></body></html>"})
		require.NoError(t, err)
		require.Equal(t, "Yes & thanks\nAnn", in.Text)
	})

	t.Run("Automatic", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name    string
			headers map[string]string
			subject string
			from    string
			want    string
		}{
			{"AutoSubmitted", map[string]string{"Auto-Submitted": "auto-replied"}, "Re: your request", "", "Auto-Submitted: auto-replied"},
			{"AutoSubmittedNo", map[string]string{"Auto-Submitted": "no"}, "Re: your request", "", ""},
			{"OutOfOfficeSubject", nil, "Out of Office: back Monday", "", "Subject: Out of Office: back Monday"},
			{"AutomaticReplySubject", nil, "Automatic reply: Re: your request", "", "Subject: Automatic reply: Re: your request"},
			{"Precedence", map[string]string{"Precedence": "auto_reply"}, "Re: your request", "", "Precedence: auto_reply"},
			{"XAutoreply", map[string]string{"X-Autoreply": "yes"}, "Re: your request", "", "X-Autoreply: yes"},
			{"Bounce", map[string]string{"Content-Type": "multipart/report; report-type=delivery-status; boundary=x"}, "Undelivered", "", "Content-Type: multipart/report; report-type=delivery-status"},
			{"MailerDaemon", nil, "failure notice", "MAILER-DAEMON@mx.example", "From: MAILER-DAEMON@mx.example"},
			// It asks others not to auto-reply; it says nothing of this mail.
			{"AutoResponseSuppressIsHuman", map[string]string{"X-Auto-Response-Suppress": "All"}, "Re: your request", "", ""},
		} {
			from := tc.from
			if from == "" {
				from = "ann@mail.example"
			}
			in, err := parse(fakesendgrid.InboundMail{To: "r+x@reply.example", From: from, Subject: tc.subject, Text: "I am away", Headers: tc.headers})
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, in.Automatic, tc.name)
		}
	})

	t.Run("NoMessageIDIsADigest", func(t *testing.T) {
		t.Parallel()
		h, body := signedInbound(t, fakesendgrid.InboundMail{To: "r+x@reply.example", From: "ann@mail.example", Text: "hi"}, now)
		// Drop the Message-ID line from the header block before signing.
		body = []byte(strings.Replace(string(body), "Message-ID: <", "X-Old-Id: <", 1))
		sig, err := fakesendgrid.SignInbound(body, h.Get(sendgrid.TimestampHeader))
		require.NoError(t, err)
		h.Set(sendgrid.SignatureHeader, sig)
		in, err := wh.ParseInboundEmail(h, body, now)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(in.MessageID, "sha256:"), in.MessageID)
		again, err := wh.ParseInboundEmail(h, body, now)
		require.NoError(t, err)
		require.Equal(t, in.MessageID, again.MessageID, "a redelivery has the same id")
	})

	t.Run("Unverified", func(t *testing.T) {
		t.Parallel()
		m := fakesendgrid.InboundMail{To: "r+x@reply.example", From: "ann@mail.example", Text: "hi"}
		h, body := signedInbound(t, m, now)
		tampered := []byte(strings.Replace(string(body), "hi", "ho", 1))
		_, err := wh.ParseInboundEmail(h, tampered, now)
		require.True(t, errors.Is(err, messaging.ErrWebhookUnverified), "%v", err)
		stale, staleBody := signedInbound(t, m, now.Add(-10*time.Minute))
		_, err = wh.ParseInboundEmail(stale, staleBody, now)
		require.True(t, errors.Is(err, messaging.ErrWebhookUnverified), "%v", err)
		require.ErrorContains(t, err, "timestamp")
		h.Del(sendgrid.SignatureHeader)
		_, err = wh.ParseInboundEmail(h, body, now)
		require.True(t, errors.Is(err, messaging.ErrWebhookUnverified), "%v", err)
	})

	t.Run("MalformedNamesTheField", func(t *testing.T) {
		t.Parallel()
		h, body := signedInbound(t, fakesendgrid.InboundMail{To: "r+x@reply.example", From: "ann@mail.example", Text: "hi"}, now)
		body = []byte(strings.Replace(string(body), `{"from":"ann@mail.example","to":["r+x@reply.example"]}`, `not json`, 1))
		sig, err := fakesendgrid.SignInbound(body, h.Get(sendgrid.TimestampHeader))
		require.NoError(t, err)
		h.Set(sendgrid.SignatureHeader, sig)
		_, err = wh.ParseInboundEmail(h, body, now)
		require.ErrorContains(t, err, "field envelope")
		require.False(t, errors.Is(err, messaging.ErrWebhookUnverified))

		h.Set("Content-Type", "application/x-www-form-urlencoded")
		_, err = wh.ParseInboundEmail(h, body, now)
		require.ErrorContains(t, err, "header Content-Type")
	})
}
