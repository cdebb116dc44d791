package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRedactAddresses: a cancel's reason keeps ids, dates and error codes
// and loses anything shaped like an email address or a phone number.
func TestRedactAddresses(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"invalid customer.email: is not a string: \"ann@example.com\"":  "invalid customer.email: is not a string: \"[email]\"",
		"twilio 21211: '+15125550100' is not a valid number":            "twilio 21211: '[phone]' is not a valid number",
		"customer said call (512) 555-0100 or 512.555.0101":             "customer said call [phone] or [phone]",
		"lead order:5f3a9c: shopmonkey answered HTTP 404 at 2026-12-01": "lead order:5f3a9c: shopmonkey answered HTTP 404 at 2026-12-01",
		"step day1 (sms) is no longer in tenant Maple's sequence":       "step day1 (sms) is no longer in tenant Maple's sequence",
	} {
		require.Equal(t, want, redactAddresses(in), "redacting %q", in)
	}
}
