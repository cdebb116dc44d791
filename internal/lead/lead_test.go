package lead_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestParseEmail(t *testing.T) {
	t.Parallel()
	got, err := lead.ParseEmail(" Ann.Lee@Example.COM ")
	require.NoError(t, err)
	require.Equal(t, lead.Email("Ann.Lee@example.com"), got)
	for _, raw := range []string{"", "ann", "ann@", "Ann <ann@example.com>", "ann@localhost", "a b@example.com"} {
		_, err := lead.ParseEmail(raw)
		require.Error(t, err, raw)
	}
}

func TestNewLead(t *testing.T) {
	t.Parallel()
	tenant := uuid.New()
	in := lead.Inquiry{ExternalID: "order:1", Source: lead.SourceEstimate, CustomerID: "c1", VehicleID: "v1", Summary: "Brakes", Version: 3}
	customer := lead.Customer{
		FirstName: "Ann", LastName: "Lee", MarketingOptIn: true,
		Phones: []lead.CustomerPhone{{Number: "(312) 200-1111", OptIn: false}, {Number: "(312) 201-3344", Primary: true, OptIn: true}},
		Emails: []lead.CustomerEmail{{Address: "ann@example.com", Subscribed: true}},
	}
	vehicle := lead.Vehicle{Year: 2019, Make: "Honda", Model: "Civic", Submodel: "EX"}

	t.Run("PicksPrimaryAndConsent", func(t *testing.T) {
		t.Parallel()
		l, err := lead.NewLead(tenant, "shopmonkey", in, customer, vehicle)
		require.NoError(t, err)
		require.Equal(t, lead.PhoneNumber("+13122013344"), l.Phone)
		require.Equal(t, lead.Email("ann@example.com"), l.Email)
		require.Equal(t, lead.Consent{SMS: true, Email: true, Marketing: true}, l.Consent)
		require.Equal(t, lead.StatusNew, l.Status)
		require.Equal(t, "2019 Honda Civic EX", l.Vehicle.Name())
	})
	t.Run("BadPhoneKeepsTheLeadOnEmail", func(t *testing.T) {
		t.Parallel()
		c := customer
		c.Phones = []lead.CustomerPhone{{Number: "call me maybe", Primary: true, OptIn: true}}
		l, err := lead.NewLead(tenant, "shopmonkey", in, c, vehicle)
		require.NoError(t, err)
		require.Empty(t, l.Phone)
		require.False(t, l.Consent.SMS)
		require.Equal(t, lead.Email("ann@example.com"), l.Email)
		require.Contains(t, l.ContactProblem, "customer.phone")
	})
	t.Run("BookedInquiry", func(t *testing.T) {
		t.Parallel()
		booked := in
		booked.Booked = true
		l, err := lead.NewLead(tenant, "shopmonkey", booked, customer, vehicle)
		require.NoError(t, err)
		require.Equal(t, lead.StatusBooked, l.Status)
	})
	for name, tc := range map[string]struct {
		mutate func(*lead.Inquiry, *lead.Customer)
		field  string
	}{
		"OnlyBadPhone": {func(_ *lead.Inquiry, c *lead.Customer) {
			c.Phones, c.Emails = []lead.CustomerPhone{{Number: "call me maybe"}}, nil
		}, "customer.phone"},
		"OnlyBadEmail": {func(_ *lead.Inquiry, c *lead.Customer) {
			c.Phones, c.Emails = nil, []lead.CustomerEmail{{Address: "ann@"}}
		}, "customer.email"},
		"NoAddress":     {func(_ *lead.Inquiry, c *lead.Customer) { c.Phones, c.Emails = nil, nil }, "customer"},
		"NoExternalID":  {func(i *lead.Inquiry, _ *lead.Customer) { i.ExternalID = "" }, "external_id"},
		"UnknownSource": {func(i *lead.Inquiry, _ *lead.Customer) { i.Source = "fax" }, "source"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			i, c := in, customer
			tc.mutate(&i, &c)
			_, err := lead.NewLead(tenant, "shopmonkey", i, c, vehicle)
			var vErr *lead.ValidationError
			require.True(t, errors.As(err, &vErr), "%v", err)
			require.Equal(t, tc.field, vErr.Field)
		})
	}
}

func TestRenderTemplate(t *testing.T) {
	t.Parallel()
	data := lead.MessageData{Lead: lead.Lead{FirstName: "Ann"}, Vehicle: lead.Vehicle{Year: 2019, Make: "Honda", Model: "Civic"}, Shop: lead.Shop{Name: "Maple"}}
	got, err := lead.RenderTemplate("sms", "Hi {{.Lead.FirstName}}, {{.Shop.Name}} here about your {{.Vehicle.Name}}.", data)
	require.NoError(t, err)
	require.Equal(t, "Hi Ann, Maple here about your 2019 Honda Civic.", got)

	_, err = lead.RenderTemplate("sms", "Hi {{.Lead.Nickname}}", data)
	require.ErrorContains(t, err, "template sms")
	require.ErrorContains(t, err, "Nickname")
	_, err = lead.RenderTemplate("email_subject", "Hi {{.Lead.FirstName", data)
	require.ErrorContains(t, err, "template email_subject")

	require.ErrorContains(t, lead.CheckTemplates(lead.Templates{EmailText: "{{.Shop.Owner}}"}), "email_text")
	require.NoError(t, lead.CheckTemplates(lead.Templates{SMS: "{{.Lead.FirstName}} {{.Vehicle.Name}} {{.Shop.TimeZone}}"}))
}

func TestSkipReason(t *testing.T) {
	t.Parallel()
	ok := lead.Lead{Status: lead.StatusNew, Phone: "+13122013344", Email: "a@example.com", Consent: lead.Consent{SMS: true, Email: true}}
	require.Empty(t, lead.SkipReason(ok, lead.ChannelSMS, false))
	require.Empty(t, lead.SkipReason(ok, lead.ChannelEmail, false))
	require.NotEmpty(t, lead.SkipReason(ok, lead.ChannelSMS, true))
	for _, st := range []lead.Status{lead.StatusReplied, lead.StatusBooked, lead.StatusOptedOut, lead.StatusClosed} {
		l := ok
		l.Status = st
		require.NotEmpty(t, lead.SkipReason(l, lead.ChannelSMS, false), st)
	}
	noConsent := ok
	noConsent.Consent = lead.Consent{}
	require.Contains(t, lead.SkipReason(noConsent, lead.ChannelSMS, false), "consented")
	require.Contains(t, lead.SkipReason(noConsent, lead.ChannelEmail, false), "consented")
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	key := lead.Secret("sm_live_supersecret")
	// The ciphertext stands in for anything the sealed form must not dump.
	tenant := lead.Tenant{Name: "Maple", CRMSecret: lead.SealedSecret{KeyID: "k1", Ciphertext: []byte("ciphertext-bytes")}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("tenant", slog.Any("tenant", tenant), slog.Any("key", key), slog.Any("sealed", tenant.CRMSecret))
	js, err := json.Marshal(struct {
		T lead.Tenant
		K lead.Secret
	}{tenant, key})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(tenant, key), fmt.Sprintf("%+v %+v", tenant, key), fmt.Sprintf("%#v %#v", tenant, key), buf.String(), string(js)} {
		require.NotContains(t, out, "supersecret")
		require.NotContains(t, out, "ciphertext-bytes")
		require.NotContains(t, out, "Y2lwaGVydGV4dC1ieXRlcw", "nor its base64")
	}
	require.Contains(t, fmt.Sprint(tenant.CRMSecret), "sealed(k1)")
	require.Equal(t, "sm_live_supersecret", key.Reveal())
}
