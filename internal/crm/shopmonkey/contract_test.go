package shopmonkey_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmtest"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// TestContract runs the contract every CRM adapter passes against the
// ShopMonkey fake.
func TestContract(t *testing.T) {
	t.Parallel()
	crmtest.RunContract(t, crmtest.Harness{
		Kind:    shopmonkey.Kind,
		New:     newWorld,
		PageCap: 100,
		// ShopMonkey's limit is per key per minute: a minute is enough.
		DefaultRetryAfter: time.Minute,
	})
}

func newWorld(t *testing.T) *crmtest.World {
	b := setup(t)
	var otherOnce sync.Once
	return &crmtest.World{
		Adapter: b.adapter,
		Since:   b.since,
		AddLead: func(t *testing.T, spec crmtest.LeadSpec) crmtest.LeadRef {
			return smRef(b.addLead(t, smSpec(spec)))
		},
		AddOtherShopLead: func(t *testing.T, spec crmtest.LeadSpec) crmtest.LeadRef {
			otherOnce.Do(func() { b.fake.AddLocation("sm-key-b", "loc-b") })
			ref, err := b.fake.AddLead("loc-b", smSpec(spec))
			require.NoError(t, err)
			return smRef(ref)
		},
		Unauthorized: func(t *testing.T) crm.Adapter { return b.newAdapter(t, "sm-wrong-key-SECRET", testLocation) },
		Secret:       "SECRET",
		AddFault: func(f crmtest.Fault) {
			b.fake.AddFault(sandbox.Fault{Status: f.Status, RetryAfter: f.RetryAfter, EmptyBody: f.EmptyBody, Count: 1})
		},
		Requests:          func() int { return len(b.fake.Requests()) },
		SetClock:          func(now time.Time) { b.fake.SetClock(func() time.Time { return now }) },
		MissingExternalID: "order:" + uuid.NewString(),
		MissingCustomerID: "nobody",
		MissingVehicleID:  "nothing",
	}
}

func smSpec(s crmtest.LeadSpec) sandbox.LeadSpec {
	spec := sandbox.LeadSpec{
		CreatedAt: s.CreatedAt, FirstName: s.FirstName, LastName: s.LastName, Phone: s.Phone, Email: s.Email,
		Year: s.Year, Make: s.Make, Model: s.Model, Submodel: s.Submodel, VIN: s.VIN, LicensePlate: s.LicensePlate,
	}
	if s.Appointment {
		spec.Kind = "appointment"
	}
	return spec
}

func smRef(r sandbox.LeadRef) crmtest.LeadRef {
	return crmtest.LeadRef{ExternalID: r.ExternalID, CustomerID: r.CustomerID, VehicleID: r.VehicleID}
}
