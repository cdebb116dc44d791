package crmtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

func runCreateAppointment(t *testing.T, h Harness) {
	t.Run("BookingIsNotANewLead", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		w.SetClock(func() time.Time { return w.Since.Add(10 * time.Minute) })
		ref := w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Minute)})
		start := w.BookingStart
		if start.IsZero() {
			start = w.Since.Add(48 * time.Hour)
		}
		id, err := w.Adapter.CreateAppointment(t.Context(), crm.Appointment{
			CustomerID: ref.CustomerID, VehicleID: ref.VehicleID, Title: "Brake inspection", Start: start, End: start.Add(time.Hour),
		})
		require.NoError(t, err)
		require.NotEmpty(t, id)
		if w.CheckBooking != nil {
			w.CheckBooking(t, ref, start, id)
		}
		polled, err := w.Adapter.FetchNewLeads(t.Context(), w.Since, w.Since.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, []string{ref.ExternalID}, ExternalIDs(polled), "our own booking is not a new lead")
	})
	t.Run("InvalidIsRefusedBeforeAnyCall", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		start := w.Since
		before := w.Requests()
		for field, appt := range map[string]crm.Appointment{
			"appointment.customer_id": {Title: "x", Start: start, End: start.Add(time.Hour)},
			"appointment.title":       {CustomerID: "1", Start: start, End: start.Add(time.Hour)},
			"appointment.start":       {CustomerID: "1", Title: "x", End: start},
			"appointment.end":         {CustomerID: "1", Title: "x", Start: start, End: start},
		} {
			_, err := w.Adapter.CreateAppointment(t.Context(), appt)
			var invalid *lead.ValidationError
			require.ErrorAs(t, err, &invalid, field)
			require.Equal(t, field, invalid.Field)
		}
		require.Equal(t, before, w.Requests(), "no request at all")
	})
	t.Run("UnknownCustomerIsPermanent", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		_, err := w.Adapter.CreateAppointment(t.Context(), crm.Appointment{
			CustomerID: w.MissingCustomerID, Title: "x", Start: w.Since, End: w.Since.Add(time.Hour),
		})
		var status *crm.StatusError
		require.ErrorAs(t, err, &status)
		require.Equal(t, http.StatusBadRequest, status.StatusCode)
		require.False(t, status.Temporary())
		if w.CheckUnknownCustomer != nil {
			w.CheckUnknownCustomer(t, status, err)
		}
	})
}

// runErrors: every class of crm/errors.go, as the fake answers it.
func runErrors(t *testing.T, h Harness) {
	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		wrong := w.Unauthorized(t)
		_, err := wrong.FetchNewLeads(t.Context(), w.Since, w.Since.Add(time.Hour))
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.NotContains(t, err.Error(), w.Secret)
		_, err = wrong.GetLead(t.Context(), w.MissingExternalID)
		require.ErrorIs(t, err, crm.ErrUnauthorized)
	})
	t.Run("Forbidden", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		w.AddFault(fake.Fault{Status: http.StatusForbidden, Count: 1})
		_, err := w.Adapter.GetCustomer(t.Context(), w.MissingCustomerID)
		require.ErrorIs(t, err, crm.ErrUnauthorized)
		require.Contains(t, err.Error(), "403")
		require.NotContains(t, err.Error(), w.Secret)
	})
	t.Run("RateLimitedWithRetryAfter", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		w.AddFault(fake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second, Count: 1})
		_, err := w.Adapter.FetchNewLeads(t.Context(), w.Since, w.Since.Add(time.Hour))
		var limited *crm.RateLimitedError
		require.ErrorAs(t, err, &limited)
		require.Equal(t, 7*time.Second, limited.RetryAfter)
		_, err = w.Adapter.FetchNewLeads(t.Context(), w.Since, w.Since.Add(time.Hour))
		require.NoError(t, err, "the fault is spent")
	})
	t.Run("RateLimitedWithoutRetryAfter", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		w.AddFault(fake.Fault{Status: http.StatusTooManyRequests, EmptyBody: true, Count: 1})
		_, err := w.Adapter.GetVehicle(t.Context(), w.MissingVehicleID)
		var limited *crm.RateLimitedError
		require.ErrorAs(t, err, &limited)
		require.Equal(t, h.DefaultRetryAfter, limited.RetryAfter)
	})
	t.Run("InvalidRecord", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		id := w.AddRawVehicle(t, `"unknown"`)
		_, err := w.Adapter.GetVehicle(t.Context(), id)
		RequireInvalidRecord(t, err, "vehicle "+id, "year")
	})
	t.Run("StatusClasses", func(t *testing.T) {
		t.Parallel()
		w := h.New(t)
		ref := w.AddLead(t, LeadSpec{CreatedAt: w.Since.Add(time.Minute)})
		for _, tt := range []struct {
			fault     fake.Fault
			temporary bool
		}{
			{fake.Fault{Status: http.StatusInternalServerError, Count: 1}, true},
			{fake.Fault{Status: http.StatusServiceUnavailable, EmptyBody: true, Count: 1}, true},
			{fake.Fault{Status: http.StatusBadRequest, Count: 1}, false},
			{fake.Fault{Status: http.StatusUnprocessableEntity, Count: 1}, false},
		} {
			w.AddFault(tt.fault)
			_, err := w.Adapter.GetLead(t.Context(), ref.ExternalID)
			var status *crm.StatusError
			require.ErrorAs(t, err, &status, "HTTP %d", tt.fault.Status)
			require.Equal(t, tt.fault.Status, status.StatusCode)
			require.Equal(t, tt.temporary, status.Temporary(), "HTTP %d", tt.fault.Status)
		}
		_, err := w.Adapter.GetLead(t.Context(), ref.ExternalID)
		require.NoError(t, err, "every fault is spent")
	})
}
