package lead_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestTextCapValidate: the cap is 1 to 50 texts in 1 to 168 hours, zero
// for the default, each problem naming its field and the reason.
func TestTextCapValidate(t *testing.T) {
	t.Parallel()
	valid := func(c lead.TextCap) lead.Tenant {
		return lead.Tenant{Name: "Main Street Auto", CRMKind: "shopmonkey", CRMLocationID: "loc-1",
			CRMSecret: lead.SealedSecret{KeyID: "k1", Ciphertext: []byte("x")}, TimeZone: "America/Chicago",
			PollInterval: time.Minute, SMSFrom: "+13125550123", Compliance: lead.Compliance{TextCap: c}}
	}
	tests := []struct {
		name   string
		c      lead.TextCap
		field  string
		reason string
	}{
		{"Default", lead.TextCap{}, "", ""},
		{"Bounds", lead.TextCap{Texts: 50, WindowHours: 168}, "", ""},
		{"One", lead.TextCap{Texts: 1, WindowHours: 1}, "", ""},
		{"TooMany", lead.TextCap{Texts: 51}, "compliance.text_cap.texts", "is 51, must be 1 to 50 texts"},
		{"Negative", lead.TextCap{Texts: -1}, "compliance.text_cap.texts", "is -1"},
		{"LongWindow", lead.TextCap{WindowHours: 169}, "compliance.text_cap.window_hours", "is 169, must be 1 to 168 hours"},
		{"NegativeWindow", lead.TextCap{WindowHours: -3}, "compliance.text_cap.window_hours", "is -3"},
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

// TestTextCapDefaults: a zero field takes its default, Florida's 3 per
// 24 hours; a set field is kept.
func TestTextCapDefaults(t *testing.T) {
	t.Parallel()
	require.Equal(t, lead.TextCap{Texts: 3, WindowHours: 24}, lead.TextCap{}.Effective())
	require.Equal(t, lead.TextCap{Texts: 3, WindowHours: 48}, lead.TextCap{WindowHours: 48}.Effective())
	require.Equal(t, lead.TextCap{Texts: 5, WindowHours: 24}, lead.TextCap{Texts: 5}.Effective())
	require.Equal(t, 24*time.Hour, lead.TextCap{}.Window())
	require.Equal(t, "3/24h", lead.TextCap{}.String())
}

// TestParseTextCap: "texts/hoursh", or default; anything else is refused
// with the shape it should have.
func TestParseTextCap(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]lead.TextCap{
		"3/24h": {Texts: 3, WindowHours: 24}, " 5 / 48h ": {Texts: 5, WindowHours: 48},
		"default": {}, "": {},
	} {
		got, err := lead.ParseTextCap(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"3", "3/24", "three/24h", "0/24h", "3/0h", "-1/24h", "3/24d"} {
		_, err := lead.ParseTextCap(in)
		require.ErrorContains(t, err, "is not texts per hours", in)
	}
}

// TestCountsTowardTextCap: solicitations count (sequence steps, a missed
// caller's text); answers the customer asked for do not.
func TestCountsTowardTextCap(t *testing.T) {
	t.Parallel()
	counted := []string{"initial", "day1", lead.MissedCallStep(42)}
	exempt := []string{lead.HelpAnswerStep("SM1"), lead.OptOutConfirmationStep("SM2"),
		lead.ShopAnswerStep(7), lead.BookingTextStep(uuid.New(), "booked"), lead.NoticeStep("reply", "SM3")}
	for _, name := range counted {
		require.True(t, lead.Step{Name: name}.CountsTowardTextCap(), name)
	}
	for _, name := range exempt {
		require.False(t, lead.Step{Name: name}.CountsTowardTextCap(), name)
	}
}
