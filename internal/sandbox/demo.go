package sandbox

import (
	"fmt"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// DemoShop is a shop the sandbox seeds for the demo: a ShopMonkey location
// or a Tekmetric shop.
type DemoShop struct {
	Name string
	// CRM is "shopmonkey" or "tekmetric".
	CRM string
	// LocationID is the ShopMonkey location or the Tekmetric shop id.
	LocationID string
	// ClientID is the Tekmetric partner application (empty for ShopMonkey).
	ClientID string
	// Secret is the ShopMonkey API key or the Tekmetric client secret.
	Secret   string
	TimeZone string
}

// DemoShops are the shops cmd/sandbox seeds and `make demo` creates tenants
// for: one on each CRM, so the demo shows both in one fleet.
func DemoShops() []DemoShop {
	return []DemoShop{
		{Name: "Maple Street Auto", CRM: "shopmonkey", LocationID: "loc-maple", Secret: "sm_demo_maple", TimeZone: "America/Chicago"},
		{Name: "Oak Ridge Garage", CRM: "tekmetric", LocationID: "238", ClientID: "demo-oak", Secret: "tm_demo_oak", TimeZone: "America/Denver"},
	}
}

// NewDemoServer returns the sandbox cmd/sandbox serves from start: the
// demo shops, each with seedLeads estimates created a minute before start.
// Its ids never repeat an earlier run's, so a demo restarted on the same
// database never mistakes a new lead for an old one: ShopMonkey's are
// drawn at random from a generator seeded by start, and Tekmetric's
// numbers count up from start in microseconds (a run would have to hand
// out more than a million ids a second to reach the next run's first).
func NewDemoServer(start time.Time, seedLeads int) (*Server, error) {
	srv := NewServer(ServerOpts{})
	srv.ShopMonkey.Seed(start.UnixNano())
	srv.Tekmetric.Seed(start.UnixNano())
	srv.Tekmetric.StartIDsAfter(start.UnixMicro())
	for _, shop := range DemoShops() {
		if err := srv.AddDemoShop(shop); err != nil {
			return nil, err
		}
		for range seedLeads {
			if err := srv.AddDemoLead(shop, false, start.Add(-time.Minute)); err != nil {
				return nil, err
			}
		}
	}
	return srv, nil
}

// AddDemoShop creates shop in its CRM's fake.
func (s *Server) AddDemoShop(shop DemoShop) error {
	return s.AddCRMShop(shop.CRM, shop.LocationID, shop.ClientID, shop.Secret, shop.TimeZone)
}

// AddDemoLead adds a new lead to shop, created at createdAt (zero: now): a
// booking request when appointment is true, else an estimate.
func (s *Server) AddDemoLead(shop DemoShop, appointment bool, createdAt time.Time) error {
	_, err := s.AddCRMLead(shop.CRM, shop.LocationID, appointment, createdAt)
	return err
}

// AddCRMShop creates a shop in the fake of CRM kind: a ShopMonkey location
// reached with secret as its API key, or a Tekmetric shop (location is its
// numeric id) granted to the application clientID with secret.
func (s *Server) AddCRMShop(kind, location, clientID, secret, timeZone string) error {
	switch kind {
	case ProviderShopMonkey:
		s.ShopMonkey.AddLocation(secret, location)
		return nil
	case ProviderTekmetric:
		id, err := tekmetricShopID(location)
		if err != nil {
			return err
		}
		return s.Tekmetric.AddShop(id, timeZone, clientID, secret)
	}
	return fmt.Errorf("unknown CRM %q", kind)
}

// AddCRMLead adds a new lead to a shop of CRM kind, created at createdAt
// (zero: now): a booking request when appointment is true, else an
// estimate.
func (s *Server) AddCRMLead(kind, location string, appointment bool, createdAt time.Time) (fake.LeadRef, error) {
	switch kind {
	case ProviderShopMonkey:
		spec := fakeshopmonkey.LeadSpec{CreatedAt: createdAt}
		if appointment {
			spec.Kind = "appointment"
		}
		return s.ShopMonkey.AddLead(location, spec)
	case ProviderTekmetric:
		id, err := tekmetricShopID(location)
		if err != nil {
			return fake.LeadRef{}, err
		}
		spec := faketekmetric.LeadSpec{CreatedAt: createdAt}
		if appointment {
			spec.Kind = "appointment"
		}
		return s.Tekmetric.AddLead(id, spec)
	}
	return fake.LeadRef{}, fmt.Errorf("unknown CRM %q", kind)
}

// AddCRMLeadPhone adds a new estimate to a shop of CRM kind whose customer
// has the phone number given (a returning customer, say).
func (s *Server) AddCRMLeadPhone(kind, location, phone string) (fake.LeadRef, error) {
	return s.AddCRMLeadAt(kind, location, phone, "")
}

// AddCRMLeadAt adds a new estimate to a shop of CRM kind whose customer
// has the phone number given (empty: the fake's own) and an address in
// state, stored as given ("TX", "Texas", or one no one can read); an
// empty state is a customer without an address.
func (s *Server) AddCRMLeadAt(kind, location, phone, state string) (fake.LeadRef, error) {
	switch kind {
	case ProviderShopMonkey:
		return s.ShopMonkey.AddLead(location, fakeshopmonkey.LeadSpec{Phone: phone, State: state})
	case ProviderTekmetric:
		id, err := tekmetricShopID(location)
		if err != nil {
			return fake.LeadRef{}, err
		}
		return s.Tekmetric.AddLead(id, faketekmetric.LeadSpec{Phone: phone, State: state})
	}
	return fake.LeadRef{}, fmt.Errorf("unknown CRM %q", kind)
}

// CRMLeads lists the leads a shop of CRM kind holds.
func (s *Server) CRMLeads(kind, location string) []fake.LeadRef {
	switch kind {
	case ProviderShopMonkey:
		return s.ShopMonkey.Leads(location)
	case ProviderTekmetric:
		if id, err := tekmetricShopID(location); err == nil {
			return s.Tekmetric.Leads(id)
		}
	}
	return nil
}

func tekmetricShopID(location string) (int64, error) {
	id, err := strconv.ParseInt(location, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("Tekmetric shop id %q is not a positive number", location)
	}
	return id, nil
}
