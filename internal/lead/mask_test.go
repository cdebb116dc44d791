package lead_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"+15551234567":   "+1555***4567",
		"5551234567":     "555***4567",
		"(555) 123-4567": "555***4567",
		"+447700900123":  "+4477***0123",
		"+4915112345":    "+491***2345",
		"12345":          "***",
		"":               "***",
	} {
		require.Equal(t, want, lead.MaskPhone(raw), raw)
	}
}

func TestMaskEmail(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"john@example.com":     "j***@example.com",
		"a@b.example":          "a***@b.example",
		"first.last+x@shop.io": "f***@shop.io",
		"not an address":       "***",
		"@example.com":         "***",
	} {
		require.Equal(t, want, lead.MaskEmail(raw), raw)
	}
}

// TestMaskContacts: every way a number or an address reaches an error text
// is masked; the ids, dates and counts an operator needs are not.
func TestMaskContacts(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		// Our senders' and Twilio's own wording.
		"error sending sms to +15552013344: Invalid 'To' Phone Number: +15552013344": "error sending sms to +1555***3344: Invalid 'To' Phone Number: +1555***3344",
		"The 'To' number +15005550001 is not a valid phone number.":                  "The 'To' number +1500***0001 is not a valid phone number.",
		"error sending email to ann.lee@example.com: sendgrid answered HTTP 400":     "error sending email to a***@example.com: sendgrid answered HTTP 400",
		"bounce: 550 5.1.1 <ann@mail.example.org>: user unknown":                     "bounce: 550 5.1.1 <a***@mail.example.org>: user unknown",
		// As CRMs write numbers.
		"phone (555) 201-3344 is invalid":                                    "phone 555***3344 is invalid",
		"call 555.201.3344 or 1-555-201-3344, or 5552013344, or 15552013344": "call 555***3344 or 1555***3344, or 555***3344, or 1555***3344",
		"+44 7700 900123":  "+4477***0123",
		"tel:+15552013344": "tel:+1555***3344",
		// Left alone.
		"job 12345 of lead 7b3f3c1e-5f0a-4c53-9a57-123456789012 failed": "job 12345 of lead 7b3f3c1e-5f0a-4c53-9a57-123456789012 failed",
		"message SM0123456789abcdef0123456789abcdef":                    "message SM0123456789abcdef0123456789abcdef",
		"snoozed until 2026-12-01 23:35:26 (1764632126)":                "snoozed until 2026-12-01 23:35:26 (1764632126)",
		"version 1764632126000 at 2026-12-01T23:35:26Z":                 "version 1764632126000 at 2026-12-01T23:35:26Z",
		"127.0.0.1:5432 refused; 3 of 10 sent":                          "127.0.0.1:5432 refused; 3 of 10 sent",
		"repair-order:5551234567x":                                      "repair-order:5551234567x",
		"":                                                              "",
	} {
		require.Equal(t, want, lead.MaskContacts(raw), raw)
	}
}

// TestMaskedLogValues: the wrappers log masked, whatever the handler.
func TestMaskedLogValues(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	logger.Info("x", slog.Any("to", lead.MaskedPhone("+15552013344")), slog.Any("email", lead.MaskedEmail("ann@example.com")))
	require.Contains(t, buf.String(), "to=+1555***3344")
	require.Contains(t, buf.String(), "email=a***@example.com")
	require.NotContains(t, buf.String(), "2013344")
	require.NotContains(t, buf.String(), "ann@")
}
