package tekmetric_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// TestContract runs the contract every CRM adapter passes against the
// Tekmetric fake.
func TestContract(t *testing.T) {
	t.Parallel()
	crmtest.RunContract(t, crmtest.Harness{
		Kind:    tekmetric.Kind,
		New:     newWorld,
		PageCap: 100,
		// Tekmetric sends no Retry-After: unknown, back off exponentially.
		DefaultRetryAfter: 0,
	})
}

func newWorld(t *testing.T) *crmtest.World {
	b := setup(t)
	const otherShop = 4
	var otherOnce sync.Once
	return &crmtest.World{
		Adapter: b.adapter,
		Since:   b.since,
		AddLead: func(t *testing.T, spec crmtest.LeadSpec) crmtest.LeadRef {
			return tmRef(b.addLead(t, tmSpec(spec)))
		},
		AddOtherShopLead: func(t *testing.T, spec crmtest.LeadSpec) crmtest.LeadRef {
			// The same application reads shop 4 too, so the adapter must
			// check every record.
			otherOnce.Do(func() { require.NoError(t, b.fake.AddShop(otherShop, "UTC", testClient, testSecret)) })
			ref, err := b.fake.AddLead(otherShop, tmSpec(spec))
			require.NoError(t, err)
			return tmRef(ref)
		},
		Unauthorized: func(t *testing.T) crm.Adapter {
			return b.newAdapter(t, func(o *tekmetric.Opts) { o.ClientSecret = "tm-wrong-SECRET"; o.Tokens = nil })
		},
		Secret: "SECRET",
		AddFault: func(f crmtest.Fault) {
			b.fake.AddFault(sandbox.Fault{Status: f.Status, RetryAfter: f.RetryAfter, EmptyBody: f.EmptyBody, Count: 1})
		},
		Requests:          func() int { return len(b.fake.Requests()) },
		SetClock:          func(now time.Time) { b.fake.SetClock(func() time.Time { return now }) },
		MissingExternalID: "repair-order:999999",
		MissingCustomerID: "424242",
		MissingVehicleID:  "999999",
	}
}

func tmSpec(s crmtest.LeadSpec) sandbox.TekmetricLeadSpec {
	spec := sandbox.TekmetricLeadSpec{
		CreatedAt: s.CreatedAt, FirstName: s.FirstName, LastName: s.LastName, Phone: s.Phone, Email: s.Email,
		Year: s.Year, Make: s.Make, Model: s.Model, SubModel: s.Submodel, VIN: s.VIN, LicensePlate: s.LicensePlate,
	}
	if s.Appointment {
		spec.Kind = sandbox.TekmetricAppointment
	}
	return spec
}

func tmRef(r sandbox.LeadRef) crmtest.LeadRef {
	return crmtest.LeadRef{ExternalID: r.ExternalID, CustomerID: r.CustomerID, VehicleID: r.VehicleID}
}
