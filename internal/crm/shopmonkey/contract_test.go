package shopmonkey_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

// TestContract runs the contract every CRM adapter passes against the
// ShopMonkey fake.
func TestContract(t *testing.T) {
	t.Parallel()
	// ShopMonkey's limit is per key per minute: a 429 waits a minute.
	crmtest.RunContract(t, crmtest.Harness{Kind: shopmonkey.Kind, Registry: shopmonkey.NewKind(crm.KindOpts{}), New: newWorld, PageCap: 100, DefaultRetryAfter: time.Minute})
}

func newWorld(t *testing.T) *crmtest.World {
	b := setup(t)
	var otherOnce sync.Once
	return crmtest.OnFake(b.fake, b.adapter, b.since, crmtest.World{
		AddLead: func(t *testing.T, spec crmtest.LeadSpec) fake.LeadRef {
			return b.AddLead(t, smSpec(spec))
		},
		AddOtherShopLead: func(t *testing.T, spec crmtest.LeadSpec) fake.LeadRef {
			otherOnce.Do(func() { b.fake.AddLocation("sm-key-b", "loc-b") })
			ref, err := b.fake.AddLead("loc-b", smSpec(spec))
			require.NoError(t, err)
			return ref
		},
		Unauthorized:   func(t *testing.T) crm.Adapter { return b.newAdapter(t, "sm-wrong-key-SECRET", testLocation) },
		Secret:         "SECRET",
		CheckPagedPoll: func(t *testing.T) { checkSplitWindows(t, b) },
		BookingStart:   time.Date(2025, 3, 12, 9, 0, 0, 0, time.FixedZone("EDT", -4*3600)),
		CheckBooking:   func(t *testing.T, ref fake.LeadRef, _ time.Time, id string) { checkBooking(t, b, ref, id) },
		CheckUnknownCustomer: func(t *testing.T, status *crm.StatusError, _ error) {
			require.Equal(t, "VALIDATION_ERROR", status.Code)
		},
		AddRawVehicle: func(t *testing.T, year string) string {
			return b.AddRaw(t, fakeshopmonkey.Vehicle, `{"id":"v2","year":`+year+`,"make":"Ford"}`)
		},
		Webhook: func(t *testing.T, ref fake.LeadRef) crm.WebhookRequest { return webhookOf(t, b, ref) },
		Touch: func(t *testing.T, ref fake.LeadRef) {
			require.NoError(t, b.fake.Touch(testLocation, ref.ID))
		},
		TouchedVersion: 2,
		AddStaffAppointment: func(t *testing.T, start, end time.Time) string {
			id, err := b.fake.AddAppointment(testLocation, start, end)
			require.NoError(t, err)
			return id
		},
		DeleteAppointment: func(t *testing.T, id string) {
			require.NoError(t, b.fake.DeleteAppointment(testLocation, id))
		},
		MissingExternalID:    "order:" + uuid.NewString(),
		MissingCustomerID:    "nobody",
		MissingVehicleID:     "nothing",
		MissingAppointmentID: uuid.NewString(),
	})
}

// smSpec is the contract's lead as the fake seeds it.
func smSpec(s crmtest.LeadSpec) fakeshopmonkey.LeadSpec {
	kind := map[bool]string{true: "appointment"}[s.Appointment]
	return fakeshopmonkey.LeadSpec{Kind: kind, CreatedAt: s.CreatedAt, FirstName: s.FirstName, LastName: s.LastName, Phone: s.Phone, Email: s.Email, State: s.State,
		Year: s.Year, Make: s.Make, Model: s.Model, Submodel: s.Submodel, VIN: s.VIN, LicensePlate: s.LicensePlate}
}

// checkSplitWindows: ShopMonkey's lists are not paged (skip pages shift)
// but split into smaller windows while a window comes back full.
func checkSplitWindows(t *testing.T, b *testBundle) {
	calls := b.queries(t, "/v3/order")
	require.Greater(t, len(calls), 3, "a full window must be split")
	windows := map[string]bool{}
	for _, q := range calls {
		limit, err := strconv.Atoi(q.Get("limit"))
		require.NoError(t, err)
		require.LessOrEqual(t, limit, 100)
		require.Empty(t, q.Get("skip"), "windows are split, never paged with skip")
		require.Equal(t, "id", q.Get("orderBy"))
		windows[q.Get("where")] = true
	}
	require.Len(t, windows, len(calls), "every call asks for a different window")
}

// checkBooking: the appointment is stored as ShopMonkey writes one, its
// times in UTC with milliseconds.
func checkBooking(t *testing.T, b *testBundle, ref fake.LeadRef, id string) {
	raw, ok := b.fake.Record(testLocation, fakeshopmonkey.Appointment, id)
	require.True(t, ok)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, ref.CustomerID, got["customerId"])
	require.Equal(t, ref.VehicleID, got["vehicleId"])
	require.Equal(t, "Brake inspection", got["name"])
	require.Equal(t, "blue", got["color"])
	require.Equal(t, testLocation, got["locationId"])
	require.Equal(t, "2025-03-12T13:00:00.000Z", got["startDate"])
	require.Equal(t, "2025-03-12T14:00:00.000Z", got["endDate"])
}

// webhookOf is the webhook the fake's sender posts for the record it
// stores of ref, signed with the tenant's secret.
func webhookOf(t *testing.T, b *testBundle, ref fake.LeadRef) crm.WebhookRequest {
	table, id, ok := strings.Cut(ref.ExternalID, ":")
	require.True(t, ok, ref.ExternalID)
	raw, ok := b.fake.Record(testLocation, fakeshopmonkey.Table(table), id)
	require.True(t, ok, "the fake stores %s", ref.ExternalID)
	header, body := crmtest.CaptureWebhook(t, func(url string) error {
		return fakeshopmonkey.PostWebhook(t.Context(), http.DefaultClient, url, testWebhookSecret, "INSERT", table, json.RawMessage(raw))
	})
	return crm.WebhookRequest{Tenant: lead.Tenant{CRMKind: shopmonkey.Kind, CRMLocationID: testLocation},
		Secret: lead.Secret(testWebhookSecret), Header: header, Body: body, Now: time.Now()}
}
