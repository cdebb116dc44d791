package tekmetric_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// TestContract runs the contract every CRM adapter passes against the
// Tekmetric fake.
func TestContract(t *testing.T) {
	t.Parallel()
	// Tekmetric sends no Retry-After: unknown, back off exponentially.
	crmtest.RunContract(t, crmtest.Harness{Kind: tekmetric.Kind, Registry: tekmetric.NewKind(crm.KindOpts{}), New: newWorld, PageCap: 100, DefaultRetryAfter: 0,
		EditsAppointments: true})
}

func newWorld(t *testing.T) *crmtest.World {
	b := setup(t)
	const otherShop = 4
	var otherOnce sync.Once
	return crmtest.OnFake(b.fake, b.adapter, b.since, crmtest.World{
		AddLead: func(t *testing.T, spec crmtest.LeadSpec) fake.LeadRef {
			return b.AddLead(t, tmSpec(spec))
		},
		AddOtherShopLead: func(t *testing.T, spec crmtest.LeadSpec) fake.LeadRef {
			// The same application reads shop 4 too, so the adapter must
			// check every record.
			otherOnce.Do(func() { require.NoError(t, b.fake.AddShop(otherShop, "UTC", testClient, testSecret)) })
			ref, err := b.fake.AddLead(otherShop, tmSpec(spec))
			require.NoError(t, err)
			return ref
		},
		Unauthorized: func(t *testing.T) crm.Adapter {
			return b.newAdapter(t, func(o *tekmetric.Opts) { o.ClientSecret = "tm-wrong-SECRET"; o.Tokens = nil })
		},
		Secret:         "SECRET",
		CheckPagedPoll: func(t *testing.T) { checkPages(t, b) },
		BookingStart:   time.Date(2026, 11, 27, 9, 0, 0, 0, time.FixedZone("EST", -5*3600)),
		CheckBooking:   func(t *testing.T, ref fake.LeadRef, _ time.Time, id string) { checkBooking(t, b, ref, id) },
		CheckUnknownCustomer: func(t *testing.T, status *crm.StatusError, err error) {
			require.Contains(t, status.Message, "customerId must belong to shopId")
			require.ErrorContains(t, err, "error creating appointment for customer 424242 at shop 3")
		},
		AddRawVehicle: func(t *testing.T, year string) string {
			return strconv.FormatInt(b.AddRaw(t, faketekmetric.Vehicles, `{"id": 92, "year": `+year+`, "make": "Ford", "vin": null}`), 10)
		},
		Webhook: func(t *testing.T, ref fake.LeadRef) crm.WebhookRequest { return webhookOf(t, b, ref) },
		Touch: func(t *testing.T, ref fake.LeadRef) {
			require.NoError(t, b.fake.Touch(testShop, faketekmetric.RepairOrders, numericID(t, ref.ID)))
		},
		TouchedVersion: b.at(30 * time.Minute).UnixMilli(),
		AddStaffAppointment: func(t *testing.T, start, end time.Time) string {
			id, err := b.fake.AddAppointment(testShop, start, end)
			require.NoError(t, err)
			return id
		},
		DeleteAppointment: func(t *testing.T, id string) {
			require.NoError(t, b.fake.DeleteAppointment(testShop, id))
		},
		MissingExternalID:    "repair-order:999999",
		MissingCustomerID:    "424242",
		MissingVehicleID:     "999999",
		MissingAppointmentID: "999999",
	})
}

// tmSpec is the contract's lead as the fake seeds it.
func tmSpec(s crmtest.LeadSpec) faketekmetric.LeadSpec {
	kind := map[bool]string{true: faketekmetric.Appointment}[s.Appointment]
	return faketekmetric.LeadSpec{Kind: kind, CreatedAt: s.CreatedAt, FirstName: s.FirstName, LastName: s.LastName, Phone: s.Phone, Email: s.Email, State: s.State,
		Year: s.Year, Make: s.Make, Model: s.Model, SubModel: s.Submodel, VIN: s.VIN, LicensePlate: s.LicensePlate}
}

// checkPages: Tekmetric's lists are Spring pages of at most 100, paged to
// the end, with the window and the shop in every page's query.
func checkPages(t *testing.T, b *testBundle) {
	calls := b.queries(t, "/api/v1/repair-orders")
	require.Len(t, calls, 3, "pages 0, 1 and 2 of 100")
	for i, q := range calls {
		require.Equal(t, strconv.Itoa(i), q.Get("page"))
		require.Equal(t, "100", q.Get("size"))
		require.Equal(t, "3", q.Get("shop"))
		require.Equal(t, "1", q.Get("repairOrderStatusId"))
		require.Equal(t, "2026-11-25T15:00:00Z", q.Get("updatedDateStart"))
		require.Equal(t, "2026-11-25T16:00:00Z", q.Get("updatedDateEnd"))
		require.Empty(t, q.Get("deletedDateStart"), "deleted filters would turn the list into deleted records only")
	}
	appts := b.queries(t, "/api/v1/appointments")
	require.Len(t, appts, 1)
	require.Equal(t, "false", appts[0].Get("includeDeleted"))
}

// checkBooking: the appointment is sent in UTC and stored in the shop's
// wall-clock time, as Tekmetric does.
func checkBooking(t *testing.T, b *testBundle, ref fake.LeadRef, id string) {
	raw, ok := b.fake.Record(testShop, faketekmetric.Appointments, numericID(t, id))
	require.True(t, ok)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, numericID(t, ref.CustomerID), int64(got["customerId"].(float64)))
	require.Equal(t, numericID(t, ref.VehicleID), int64(got["vehicleId"].(float64)))
	require.Equal(t, "Brake inspection", got["title"])
	require.Equal(t, "2026-11-27T08:00:00", got["startTime"], "09:00 EST is 08:00 in Chicago")
	require.Equal(t, "2026-11-27T09:00:00", got["endTime"])
	require.Nil(t, got["leadSource"])

	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(b.requests("/api/v1/appointments")[0].Body), &body))
	require.Equal(t, map[string]any{
		"shopId": 3.0, "customerId": got["customerId"], "vehicleId": got["vehicleId"], "title": "Brake inspection",
		"startTime": "2026-11-27T14:00:00Z", "endTime": "2026-11-27T15:00:00Z",
	}, body)
}

// webhookOf is the webhook the fake's sender posts for the record it
// stores of ref ("Repair Order Created" or "Appointment Created"); the
// route has checked its URL token.
func webhookOf(t *testing.T, b *testBundle, ref fake.LeadRef) crm.WebhookRequest {
	kind, idText, ok := strings.Cut(ref.ExternalID, ":")
	require.True(t, ok, ref.ExternalID)
	id, err := strconv.ParseInt(idText, 10, 64)
	require.NoError(t, err)
	table, event := faketekmetric.RepairOrders, "Repair Order Created"
	if kind == "appointment" {
		table, event = faketekmetric.Appointments, "Appointment Created"
	}
	raw, ok := b.fake.Record(testShop, table, id)
	require.True(t, ok, "the fake stores %s", ref.ExternalID)
	header, body := crmtest.CaptureWebhook(t, func(url string) error {
		return faketekmetric.PostWebhook(t.Context(), http.DefaultClient, url, event, json.RawMessage(raw))
	})
	return crm.WebhookRequest{Tenant: lead.Tenant{CRMKind: tekmetric.Kind, CRMLocationID: strconv.Itoa(testShop), TimeZone: testTimeZone},
		Header: header, Body: body, Now: time.Now()}
}
