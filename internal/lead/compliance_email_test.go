package lead_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestEmailComplianceValidate: the postal address and the ASM group are
// checked with the tenant, each problem naming its field and the reason.
func TestEmailComplianceValidate(t *testing.T) {
	t.Parallel()
	valid := func(c lead.Compliance) lead.Tenant {
		return lead.Tenant{Name: "Main Street Auto", CRMKind: "shopmonkey", CRMLocationID: "loc-1",
			CRMSecret: lead.SealedSecret{KeyID: "k1", Ciphertext: []byte("x")}, TimeZone: "America/Chicago",
			PollInterval: time.Minute, SMSFrom: "+13125550123", EmailFrom: "shop@example.com", Compliance: c}
	}
	tests := []struct {
		name   string
		c      lead.Compliance
		field  string
		reason string
	}{
		{"None", lead.Compliance{}, "", ""},
		{"Street", lead.Compliance{PostalAddress: "12 Main St, Springfield, IL 62701", ASMGroupID: 4321}, "", ""},
		{"Box", lead.Compliance{PostalAddress: "PO Box 7, Austin, TX 78701"}, "", ""},
		{"Spaces", lead.Compliance{PostalAddress: " 12 Main St"}, "compliance.postal_address", "must not start or end with spaces"},
		{"TwoLines", lead.Compliance{PostalAddress: "12 Main St\nSpringfield"}, "compliance.postal_address", "must be one line"},
		{"NoNumber", lead.Compliance{PostalAddress: "Main Street"}, "compliance.postal_address", "has no number"},
		{"TooLong", lead.Compliance{PostalAddress: "1 " + strings.Repeat("a", 199)}, "compliance.postal_address", "at most 200"},
		{"NegativeGroup", lead.Compliance{ASMGroupID: -1}, "compliance.asm_group_id", "is -1, must be a SendGrid unsubscribe group id"},
		{"HugeGroup", lead.Compliance{ASMGroupID: 1 << 31}, "compliance.asm_group_id", "must be a SendGrid unsubscribe group id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := valid(tt.c).Validate([]string{"shopmonkey"})
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var vErr *lead.ValidationError
			require.True(t, errors.As(err, &vErr), "error: %v", err)
			require.Equal(t, tt.field, vErr.Field)
			require.Contains(t, vErr.Reason, tt.reason)
		})
	}
}

// TestEmailSkipReason: a follow-up email needs the shop's postal address
// and an unsubscribe link; the first answer and a notice to the shop do
// not.
func TestEmailSkipReason(t *testing.T) {
	t.Parallel()
	withAddress := lead.Compliance{PostalAddress: "12 Main St, Springfield, IL 62701"}
	day3 := lead.Step{Name: "day3", Channel: lead.ChannelEmail}
	first := lead.Step{Name: lead.StepInitial, Channel: lead.ChannelEmail}
	notice := lead.Step{Name: lead.NoticeStep("reply", "x"), Channel: lead.ChannelEmail}
	text := lead.Step{Name: "day1", Channel: lead.ChannelSMS}

	require.Contains(t, lead.Compliance{}.EmailSkipReason(day3, true), "no postal address (compliance.postal_address")
	require.Contains(t, withAddress.EmailSkipReason(day3, false), "no public URL (http.public_url)")
	require.Empty(t, withAddress.EmailSkipReason(day3, true))
	for _, s := range []lead.Step{first, notice, text} {
		require.Empty(t, lead.Compliance{}.EmailSkipReason(s, false), s.Name)
	}
	require.True(t, first.ToCustomerByEmail())
	require.False(t, notice.ToCustomerByEmail())
	require.False(t, first.IsFollowUpEmail())
	require.True(t, day3.IsFollowUpEmail())
}

// TestEmailFooter: the shop, its address and the link, each only when
// there is one.
func TestEmailFooter(t *testing.T) {
	t.Parallel()
	c := lead.Compliance{PostalAddress: "12 Main St, Springfield, IL 62701"}
	require.Equal(t, "Joe's Garage, 12 Main St, Springfield, IL 62701\nTo stop emails from Joe's Garage, unsubscribe here: https://x.test/unsubscribe/t\n",
		lead.EmailFooter("Joe's Garage", c, "https://x.test/unsubscribe/t"))
	require.Equal(t, "Joe's Garage, 12 Main St, Springfield, IL 62701\n", lead.EmailFooter("Joe's Garage", c, ""))
	require.Equal(t, "Joe's Garage\nTo stop emails from Joe's Garage, unsubscribe here: https://x.test/u\n",
		lead.EmailFooter("Joe's Garage", lead.Compliance{}, "https://x.test/u"))
	require.Empty(t, lead.EmailFooter("Joe's Garage", lead.Compliance{}, ""))
}
