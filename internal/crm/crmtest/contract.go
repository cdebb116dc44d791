package crmtest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// RunContract runs every case an adapter of h's CRM must pass, each in a
// world of its own: polling (a window complete beyond the page cap,
// sorted, each lead once, nothing outside the window or the shop), reading
// leads, customers and vehicles, booking, listing the calendar (and moving
// and cancelling where the CRM can), every class of crm error, and
// the kind's webhook parser against the adapter.
func RunContract(t *testing.T, h Harness) {
	t.Helper()
	for _, c := range []struct {
		name string
		run  func(*testing.T, Harness)
	}{
		{"FetchNewLeads", runFetchNewLeads},
		{"Records", runRecords},
		{"CreateAppointment", runCreateAppointment},
		{"ListAppointments", runListAppointments},
		{"EditAppointments", runEditAppointments},
		{"Errors", runErrors},
		{"Webhook", runWebhook},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, h)
		})
	}
}

func runFetchNewLeads(t *testing.T, h Harness) {
	t.Run("BeyondThePageCap", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		n := 2*h.PageCap + 50
		step := time.Hour / time.Duration(n+1)
		var want []string
		for i := range n {
			want = append(want, w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Duration(i) * step)}).ExternalID)
		}
		got, err := w.Adapter.FetchNewLeads(t.Context(), w.Since, w.Since.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, want, ExternalIDs(got), "all %d, once each, sorted by UpdatedAt", n)
		require.True(t, slices.IsSortedFunc(got, func(x, y lead.Inquiry) int { return x.UpdatedAt.Compare(y.UpdatedAt) }))
		if w.CheckPagedPoll != nil {
			w.CheckPagedPoll(t)
		}
	})
	t.Run("OnlyTheWindowAndTheShop", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(-time.Minute)})
		in := w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Minute)})
		appt := w.AddLead(t, LeadSpec{Appointment: true, CreatedAt: w.Since.Add(2 * time.Minute)})
		w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Hour + time.Minute)})
		theirs := w.AddOtherShopLead(t, LeadSpec{CreatedAt: w.Since.Add(3 * time.Minute)})
		got, err := w.Adapter.FetchNewLeads(t.Context(), w.Since, w.Since.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, []string{in.ExternalID, appt.ExternalID}, ExternalIDs(got))
		_, err = w.Adapter.GetLead(t.Context(), theirs.ExternalID)
		require.ErrorIs(t, err, crm.ErrNotFound, "another shop's lead is not the shop's")
		_, err = w.Adapter.GetCustomer(t.Context(), theirs.CustomerID)
		require.ErrorIs(t, err, crm.ErrNotFound, "nor its customer")
	})
	t.Run("ChangedRecordComesBackWithHigherVersion", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		w.SetClock(func() time.Time { return w.Since.Add(30 * time.Minute) })
		ref := w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(-24 * time.Hour)})
		require.Empty(t, Poll(t, w.Adapter, w.Since, w.Since.Add(time.Hour)), "created long before the window")

		w.Touch(t, ref)
		got := Poll(t, w.Adapter, w.Since, w.Since.Add(time.Hour))
		require.Len(t, got, 1)
		require.Equal(t, w.TouchedVersion, got[0].Version)
		require.Equal(t, w.Since.Add(30*time.Minute), got[0].UpdatedAt)
		require.Equal(t, w.Since.Add(-24*time.Hour), got[0].CreatedAt)
	})
	t.Run("EmptyWindowIsAnError", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		before := w.Requests()
		_, err := w.Adapter.FetchNewLeads(t.Context(), w.Since.Add(time.Hour), w.Since)
		require.Error(t, err)
		_, err = w.Adapter.FetchNewLeads(t.Context(), w.Since, w.Since)
		require.Error(t, err)
		require.Equal(t, before, w.Requests(), "refused before any request")
	})
}

func runRecords(t *testing.T, h Harness) {
	t.Run("GetLeadIsWhatThePollSaw", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		refs := []fake.LeadRef{
			w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Minute)}),
			w.AddLead(t, LeadSpec{Appointment: true, CreatedAt: w.Since.Add(2 * time.Minute)}),
		}
		polled, err := w.Adapter.FetchNewLeads(t.Context(), w.Since, w.Since.Add(time.Hour))
		require.NoError(t, err)
		require.Len(t, polled, 2)
		for i, ref := range refs {
			got, err := w.Adapter.GetLead(t.Context(), ref.ExternalID)
			require.NoError(t, err)
			require.Equal(t, polled[i], got)
		}
	})
	t.Run("CustomerAndVehicleMakeALead", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		ref := w.AddLead(t, LeadSpec{
			CreatedAt: w.Since.Add(time.Minute), FirstName: "Ann", LastName: "Lee", Phone: "312-201-3344", Email: "Ann@Example.com",
			Year: 2019, Make: "Honda", Model: "Civic", Submodel: "EX", VIN: "1HGCV1F30KA000001", LicensePlate: "7ABC123",
		})
		c, err := w.Adapter.GetCustomer(t.Context(), ref.CustomerID)
		require.NoError(t, err)
		require.Equal(t, ref.CustomerID, c.ExternalID)
		require.Equal(t, []string{"Ann", "Lee"}, []string{c.FirstName, c.LastName})
		require.Len(t, c.Phones, 1)
		require.Equal(t, "312-201-3344", c.Phones[0].Number, "the phone as written: NewLead judges it")
		require.True(t, c.Phones[0].Primary)
		require.Len(t, c.Emails, 1)
		require.Equal(t, "Ann@Example.com", c.Emails[0].Address)

		v, err := w.Adapter.GetVehicle(t.Context(), ref.VehicleID)
		require.NoError(t, err)
		require.Equal(t, lead.Vehicle{ExternalID: ref.VehicleID, Year: 2019, Make: "Honda", Model: "Civic", Submodel: "EX",
			VIN: "1HGCV1F30KA000001", LicensePlate: "7ABC123"}, v)

		l := NewLead(t, w.Adapter, h.Kind, ref, c)
		require.Equal(t, lead.PhoneNumber("+13122013344"), l.Phone)
		require.Equal(t, lead.Email("Ann@example.com"), l.Email, "the domain is case-insensitive, the mailbox is not")
		require.Equal(t, "2019 Honda Civic EX", l.Vehicle.Name())
	})
	t.Run("CustomerState", func(t *testing.T) {
		t.Parallel()
		// The state is passed on as written, and NewLead reads it into
		// the lead's region; a customer without an address has none.
		w := h.New(t)
		for _, tc := range []struct{ state, region string }{{"TX", "US-TX"}, {"Texas", "US-TX"}, {"", ""}} {
			ref := w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Minute), Phone: "312-201-3344", State: tc.state})
			c, err := w.Adapter.GetCustomer(t.Context(), ref.CustomerID)
			require.NoError(t, err)
			require.Equal(t, tc.state, c.Address.State, "state %q", tc.state)
			require.Empty(t, c.Address.Country, "state %q: no country the fake was not given", tc.state)
			require.Empty(t, c.Cleaned, "state %q", tc.state)
			l := NewLead(t, w.Adapter, h.Kind, ref, c)
			require.Equal(t, tc.region, l.CustomerRegion, "state %q", tc.state)
			require.Empty(t, l.ContactProblem, "state %q", tc.state)
		}
	})
	t.Run("YearAsString", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		id := w.AddRawVehicle(t, `"2012"`)
		v, err := w.Adapter.GetVehicle(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, lead.Vehicle{ExternalID: id, Year: 2012, Make: "Ford"}, v)
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		_, err := w.Adapter.GetLead(t.Context(), w.MissingExternalID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = w.Adapter.GetCustomer(t.Context(), w.MissingCustomerID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = w.Adapter.GetVehicle(t.Context(), w.MissingVehicleID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})
}
